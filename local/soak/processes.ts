// The soak's components as child processes, so a fault can be a real SIGKILL, SIGSTOP or a
// stopped Redis: limitador-mock (its CLI), the Authorino stand-in, the gateway, redis-server.
// Each restarts on the same port, as a restarted pod behind a Service would.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { portForChild } from "../ports.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = ["--import", "tsx"];

export async function waitUntil(check: () => Promise<boolean>, what: string, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} did not become ready within ${ms} ms`);
}

const httpOk = (url: string) => async () => (await fetch(url)).ok;
const tcpOpen = (port: number) => () => new Promise<boolean>((resolve) => {
  const s = net.connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
  s.on("error", () => resolve(false));
});

/**
 * A child process that can be killed, paused and started again with the same arguments. It is
 * ready when it has said it listens (`listening`, in its own output since this start) and the
 * probe answers: a probe alone can be answered by another process that took the port between
 * choosing the port and the child's bind (suites run side by side; ../ports.ts narrows that window).
 */
export class Component {
  private child: ChildProcess | null = null;
  output = "";

  constructor(readonly name: string, private readonly command: string, private readonly args: string[],
              private readonly listening: RegExp, private readonly ready: () => Promise<boolean>, private readonly env: NodeJS.ProcessEnv = {}) {}

  get pid(): number | undefined { return this.child?.pid; }
  get running(): boolean { return this.child !== null && this.child.exitCode === null && this.child.signalCode === null; }

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...this.env } });
    this.child = child;
    this.output = "";
    const keep = (d: Buffer) => { this.output = (this.output + d.toString()).slice(-20000); };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`${this.name} exited (${child.exitCode}):\n${this.output}`);
      return this.listening.test(this.output) && this.ready();
    }, this.name).catch((err) => {
      child.kill("SIGKILL");
      throw new Error(`${(err as Error).message}\n--- ${this.name} output ---\n${this.output.slice(-3000)}`);
    });
  }

  /** SIGKILL: no goodbye to its clients, connections reset by the kernel. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => { child.once("exit", () => resolve()); child.kill(signal); });
  }

  pause(): void { this.child?.kill("SIGSTOP"); }
  resume(): void { this.child?.kill("SIGCONT"); }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.resume();
    await this.kill("SIGTERM");
  }
}

export interface Ports { gateway: number; admin: number; limitadorGrpc: number; limitadorHttp: number; authorino: number; model: number; redis: number }

export async function allocatePorts(): Promise<Ports> {
  return { gateway: await portForChild(), admin: await portForChild(), limitadorGrpc: await portForChild(), limitadorHttp: await portForChild(), authorino: await portForChild(), model: 0, redis: await portForChild() };
}

export function limitadorMock(ports: Ports, limitsFile: string, storage: "memory" | "redis"): Component {
  const args = [`${ROOT}limitador-mock/bin.mjs`, "-b", "127.0.0.1", "-p", String(ports.limitadorGrpc), "-B", "127.0.0.1", "-P", String(ports.limitadorHttp),
    "--metric-labels-default", "descriptors[1]", "-l", "-H", "DRAFT_VERSION_03", limitsFile,
    ...(storage === "redis" ? ["redis", `redis://127.0.0.1:${ports.redis}`] : ["memory"])];
  return new Component("limitador-mock", process.execPath, args, new RegExp(`gRPC on :${ports.limitadorGrpc}, HTTP on :${ports.limitadorHttp}\\b`),
    httpOk(`http://127.0.0.1:${ports.limitadorHttp}/status`));
}

export function authorino(ports: Ports, apiKeysFile: string): Component {
  return new Component("authorino", process.execPath, [...TSX, `${ROOT}local/soak/authorino-main.ts`, String(ports.authorino), apiKeysFile],
    new RegExp(`authorino listening on 127\\.0\\.0\\.1:${ports.authorino}\\b`), tcpOpen(ports.authorino));
}

export function gateway(ports: Ports, pluginConfigFile: string): Component {
  const args = ["--expose-gc", ...TSX, `${ROOT}local/soak/gateway-main.ts`, JSON.stringify({
    port: ports.gateway, adminPort: ports.admin, pluginConfigFile, upstreamUrl: `http://127.0.0.1:${ports.model}`,
    limitador: `127.0.0.1:${ports.limitadorGrpc}`, authorino: `127.0.0.1:${ports.authorino}`,
  })];
  return new Component("gateway", process.execPath, args, new RegExp(`gateway listening on ${ports.gateway}, admin ${ports.admin}\\b`),
    httpOk(`http://127.0.0.1:${ports.admin}/ready`));
}

/** Redis with an append-only file synced on every write, so a stop and start keeps the counters. */
export function redis(ports: Ports, dir: string): Component {
  return new Component("redis-server", "redis-server", ["--port", String(ports.redis), "--bind", "127.0.0.1", "--dir", dir,
    "--save", "", "--appendonly", "yes", "--appendfsync", "always"], /Ready to accept connections/, tcpOpen(ports.redis));
}
