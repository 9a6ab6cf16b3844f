// Faults the soak injects while traffic goes on, each over a window the books know about.
import type { Component } from "./processes.js";

export type FaultName = "limitador-kill" | "limitador-slow" | "redis-stop" | "authorino-kill" | "sse-reset";
export const FAULTS: FaultName[] = ["limitador-kill", "limitador-slow", "redis-stop", "authorino-kill", "sse-reset"];

export interface FaultContext {
  limitador: Component; authorino: Component; redis: Component | null;
  failureMode: "allow" | "deny";
  timeoutMs: number;
  now(): number;
  log(line: string): void;
}

export interface FaultWindow { name: string; from: number; to: number; allow5xx: boolean }

export interface Fault {
  name: FaultName;
  /** How long the injection takes, so the soak can schedule it. */
  durationMs(ctx: FaultContext): number;
  inject(ctx: FaultContext): Promise<FaultWindow>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DOWN_MS = 2500;

/** Down, then back on the same port; the window ends when the component answers again. */
async function downThenUp(ctx: FaultContext, name: FaultName, down: () => Promise<void> | void, up: () => Promise<void> | void, allow5xx: boolean): Promise<FaultWindow> {
  const from = ctx.now();
  await down();
  ctx.log(`fault ${name}: down at ${from.toFixed(0)} ms`);
  await sleep(DOWN_MS);
  await up();
  const to = ctx.now();
  ctx.log(`fault ${name}: back at ${to.toFixed(0)} ms`);
  return { name, from, to, allow5xx };
}

export const faults: Record<Exclude<FaultName, "sse-reset">, Fault> = {
  // SIGKILL: connections reset by the kernel, in-flight calls lost; Redis keeps the counters.
  "limitador-kill": {
    name: "limitador-kill",
    durationMs: () => DOWN_MS + 3000,
    inject: (ctx) => downThenUp(ctx, "limitador-kill", () => ctx.limitador.kill(), () => ctx.limitador.start(), ctx.failureMode === "deny"),
  },
  // SIGSTOP for longer than the service timeout: connections stay open, replies come too late.
  "limitador-slow": {
    name: "limitador-slow",
    durationMs: (ctx) => ctx.timeoutMs + 1500 + 1000,
    inject: async (ctx) => {
      const from = ctx.now();
      ctx.limitador.pause();
      await sleep(ctx.timeoutMs + 1500);
      ctx.limitador.resume();
      return { name: "limitador-slow", from, to: ctx.now(), allow5xx: ctx.failureMode === "deny" };
    },
  },
  // Redis stopped (SIGTERM, its append-only file kept) and started: Limitador answers
  // UNAVAILABLE meanwhile, and must reconnect by itself.
  "redis-stop": {
    name: "redis-stop",
    durationMs: () => DOWN_MS + 3000,
    inject: (ctx) => downThenUp(ctx, "redis-stop", () => ctx.redis!.kill("SIGTERM"), () => ctx.redis!.start(), ctx.failureMode === "deny"),
  },
  // Auth is failureMode deny in every operator config: 500 while Authorino is gone.
  "authorino-kill": {
    name: "authorino-kill",
    durationMs: () => DOWN_MS + 3000,
    inject: (ctx) => downThenUp(ctx, "authorino-kill", () => ctx.authorino.kill(), () => ctx.authorino.start(), true),
  },
};
