// Load on a Limitador's ShouldRateLimit, for `npm run bench`: the server runs as its own process
// (limitador-mock from bin.mjs, or a real limitador-server from LIMITADOR_BIN), the load comes from
// this process over raw HTTP/2 (one connection, N concurrent unary calls, as ghz -c N does), so the
// figures for both servers are taken the same way, side by side, in one run.
import { spawn, type ChildProcess } from "node:child_process";
import http2 from "node:http2";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envoyRateLimitService } from "../proto/index.js";
import { unusedAddress } from "../tests/helpers/raw-grpc-server.js";

const LIMITS = "- namespace: bench\n  max_value: 1000000000\n  seconds: 3600\n  conditions: [\"descriptors[0].tier == 'free'\"]\n  variables: [\"descriptors[0].user\"]\n";
const MOCK_BIN = new URL("../limitador-mock/bin.mjs", import.meta.url).pathname;

export interface Server { name: string; address: string; startupMs: number; stop(): Promise<void> }

/** Starts a server with the reviewer's flags; `startupMs` is spawn → first /status answer. */
export async function startServer(kind: "mock" | "real", extraNodeArgs: string[] = []): Promise<Server> {
  const limits = join(mkdtempSync(join(tmpdir(), "bench-limitador-")), "limits.yaml");
  writeFileSync(limits, LIMITS);
  const grpc = Number((await unusedAddress()).split(":")[1]);
  const http = Number((await unusedAddress()).split(":")[1]);
  const args = ["-b", "127.0.0.1", "-p", String(grpc), "-B", "127.0.0.1", "-P", String(http), "--metric-labels-default", "descriptors[1]", "-l", "--rate-limit-headers", "DRAFT_VERSION_03", limits, "memory"];
  const started = performance.now();
  const child: ChildProcess = kind === "real"
    ? spawn(process.env.LIMITADOR_BIN!, args, { stdio: "ignore" })
    : spawn(process.execPath, [...extraNodeArgs, MOCK_BIN, ...args], { stdio: "ignore" });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited with ${child.exitCode}`);
    try { if ((await fetch(`http://127.0.0.1:${http}/status`)).ok) break; } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    name: kind === "real" ? "limitador-server" : "limitador-mock",
    address: `127.0.0.1:${grpc}`,
    startupMs: performance.now() - started,
    stop: () => new Promise((resolve) => { if (child.exitCode !== null) return resolve(); child.once("exit", () => resolve()); child.kill("SIGINT"); }),
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export interface LoadResult { perSecond: number; p50: number; p99: number; calls: number; errors: number }

/** `concurrency` calls in flight on one HTTP/2 connection for `seconds`, each user its own counter. */
export async function shouldRateLimitLoad(address: string, concurrency: number, seconds: number): Promise<LoadResult> {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => {});
  await new Promise<void>((resolve, reject) => { session.once("connect", () => resolve()); session.once("error", reject); });
  const ser = envoyRateLimitService().service.ShouldRateLimit.requestSerialize;
  const frames = Array.from({ length: 500 }, (_, u) => {
    const body = ser({ domain: "bench", hits_addend: 1, descriptors: [
      { entries: [{ key: "tier", value: "free" }, { key: "user", value: `u${u}` }] },
      { entries: [{ key: "user", value: `u${u}` }, { key: "tier", value: "free" }, { key: "model", value: "m" }] },
    ] });
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    return frame;
  });
  const call = (frame: Buffer) => new Promise<boolean>((resolve) => {
    const req = session.request({ ":method": "POST", ":path": "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit", "content-type": "application/grpc", te: "trailers" });
    let status: string | undefined;
    req.on("response", (h) => { if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]); });
    req.on("trailers", (h) => { status = String(h["grpc-status"]); });
    req.on("data", () => {});
    req.on("error", () => {});
    req.on("close", () => resolve(status === "0"));
    req.end(frame);
  });
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const warmUntil = performance.now() + 500;
  const end = warmUntil + seconds * 1000;
  let measuredFrom = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (;;) {
      const t = performance.now();
      if (t >= end) return;
      const ok = await call(frames[n++ % frames.length]);
      const done = performance.now();
      if (t < warmUntil) continue;
      if (!measuredFrom) measuredFrom = t;
      latencies.push(done - t);
      if (!ok) errors++;
    }
  }));
  const elapsed = (performance.now() - (measuredFrom || warmUntil)) / 1000;
  session.destroy();
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), calls: latencies.length, errors };
}

/** ghz (when installed: PATH or GHZ_BIN) with the same single request, for figures comparable to issue 14's. */
export function ghzPath(): string | null {
  const candidates = [process.env.GHZ_BIN, ...(process.env.PATH ?? "").split(":").map((d) => `${d}/ghz`)];
  for (const c of candidates) {
    if (!c) continue;
    try { if (statSync(c).isFile()) return c; } catch { /* not there */ }
  }
  return null;
}

export async function ghzLoad(ghz: string, address: string, concurrency: number, seconds: number): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "bench-ghz-"));
  const data = join(dir, "request.json");
  writeFileSync(data, JSON.stringify({ domain: "bench", hits_addend: 1, descriptors: [
    { entries: [{ key: "tier", value: "free" }, { key: "user", value: "alice" }] },
    { entries: [{ key: "user", value: "alice" }, { key: "tier", value: "free" }, { key: "model", value: "m" }] },
  ] }));
  const protoRoot = fileURLToPath(new URL("../proto/", import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(ghz, ["--insecure", "--import-paths", protoRoot, "--proto", join(protoRoot, "envoy/service/ratelimit/v3/rls.proto"),
      "--call", "envoy.service.ratelimit.v3.RateLimitService.ShouldRateLimit", "-D", data, "-c", String(concurrency), "-z", `${seconds}s`, "--format", "json", address], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout.on("data", (d) => { text += d; });
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`ghz exited with ${code}`))));
  });
  const r = JSON.parse(out);
  const at = (p: number) => (r.latencyDistribution ?? []).find((d: any) => d.percentage === p)?.latency / 1e6;
  // When the duration ends ghz cancels the calls in flight and closes its connection: not errors.
  const atTheEnd = Object.entries(r.errorDistribution ?? {}).filter(([m]) => /Canceled|use of closed network connection/.test(m)).reduce((n, [, c]) => n + Number(c), 0);
  const ok = r.statusCodeDistribution?.OK ?? 0;
  return { perSecond: r.rps, p50: at(50), p99: at(99), calls: r.count, errors: r.count - ok - atTheEnd };
}

export interface LimitadorFigures {
  tool: string;
  startupMs: Record<string, number>;
  /** server name → concurrency → figures */
  load: Record<string, Record<number, LoadResult>>;
}

/**
 * limitador-mock beside a real limitador-server (LIMITADOR_BIN), both as processes with the same
 * flags and the same load tool (ghz when installed, else the HTTP/2 client above), one after the
 * other at 1, 16 and 64 concurrent calls. `profileDir`: the mock runs with --cpu-prof there.
 */
export async function compareLimitadors(seconds: number, row: (what: string, value: string) => void, profileDir: string | null = null): Promise<LimitadorFigures> {
  const kinds: Array<"mock" | "real"> = process.env.LIMITADOR_BIN ? ["mock", "real"] : ["mock"];
  const ghz = ghzPath();
  const out: LimitadorFigures = { tool: ghz ? "ghz" : "node http2 client", startupMs: {}, load: {} };
  for (const kind of kinds) {
    const s = await startServer(kind, kind === "mock" && profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []);
    out.startupMs[s.name] = s.startupMs;
    row(`${s.name} start-up (spawn → first /status answer)`, `${s.startupMs.toFixed(0)} ms`);
    out.load[s.name] = {};
    // A warm-up, not measured: the mock's JIT needs it, and both servers get it.
    await (ghz ? ghzLoad(ghz, s.address, 16, 2) : shouldRateLimitLoad(s.address, 16, 2));
    for (const c of [1, 16, 64]) {
      const r = ghz ? await ghzLoad(ghz, s.address, c, seconds) : await shouldRateLimitLoad(s.address, c, seconds);
      out.load[s.name][c] = r;
      row(`${s.name} ShouldRateLimit, ${c} concurrent (${out.tool}, ${seconds} s)`, `${r.perSecond.toFixed(0)} calls/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${r.errors ? `, ${r.errors} errors` : ""}`);
    }
    await s.stop();
  }
  const mock = out.load["limitador-mock"], real = out.load["limitador-server"];
  if (real) for (const c of [1, 16, 64]) row(`limitador-mock / limitador-server calls/s, ${c} concurrent`, (mock[c].perSecond / real[c].perSecond).toFixed(2));
  return out;
}
