// A Limitador under test, started as a process from its command line: limitador-mock (bin.mjs) or
// a real `limitador-server` (LIMITADOR_BIN). Both get the same arguments and free ports; both are
// spoken to only over the wire.
import { spawn, type ChildProcess } from "node:child_process";
import { unusedAddress } from "../raw-grpc-server.js";

export const MOCK_BIN = new URL("../../../limitador-mock/bin.mjs", import.meta.url).pathname;

export interface Target {
  name: string;
  grpc: string;
  http: string;
  /** Milliseconds from spawn until /status answered. */
  startupMs: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** The command that runs `name` with these arguments. */
export function command(name: "mock" | "real", args: string[]): [string, string[]] {
  if (name === "real") {
    const bin = process.env.LIMITADOR_BIN;
    if (!bin) throw new Error("LIMITADOR_BIN is not set");
    return [bin, args];
  }
  return [process.execPath, [MOCK_BIN, ...args]];
}

async function freePort(): Promise<number> {
  return Number((await unusedAddress()).split(":")[1]);
}

export async function startTarget(name: "mock" | "real", args: (ports: { grpc: number; http: number }) => string[], env: NodeJS.ProcessEnv = {}): Promise<Target> {
  const ports = { grpc: await freePort(), http: await freePort() };
  const [cmd, argv] = command(name, args(ports));
  const started = performance.now();
  const child: ChildProcess = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env, RUST_LOG: "error" } });
  let stderr = "";
  child.stderr!.on("data", (d) => { stderr += d; });
  const http = `http://127.0.0.1:${ports.http}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${http}/status`)).ok) break;
    } catch { /* not listening yet */ }
    if (performance.now() - started > 60000) { child.kill(); throw new Error(`${name} did not answer /status within 60 s: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 10));
  }
  // /status answers once the HTTP server is up; the gRPC port opens in the same start-up, wait for it too.
  const net = await import("node:net");
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(ports.grpc, "127.0.0.1", () => { s.destroy(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    name,
    grpc: `127.0.0.1:${ports.grpc}`,
    http,
    startupMs: performance.now() - started,
    stderr: () => stderr,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    }),
  };
}

/** Runs the command to completion (CLI checks): exit code, stdout, stderr. */
export function runCommand(name: "mock" | "real", args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = command(name, args);
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
    child.on("exit", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
