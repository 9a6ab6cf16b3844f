// `npm run bench`: the figures of design §9, measured in one run, printed as one table.
//   npm run bench -- --requests 20000 --memory-requests 1000000 --load-seconds 5 --gateway-requests 2000
//   npm run bench -- --only limitador [--profile-mock]   (LIMITADOR_BIN=... adds a real Limitador beside the mock)
import { parseArgs } from "node:util";
import { readFileSync, readdirSync, statSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { EnvoyHost } from "../host/index.js";
import type { InProcessCluster } from "../host/grpc-clusters.js";
import { authorizationService, envoyRateLimitService } from "../proto/index.js";
import { ghzLoad, ghzPath, shouldRateLimitLoad, startServer } from "./limitador-load.js";
import { startStack } from "../local/stack.js";
import { ensureFilterBuilt } from "../local/build-wasm.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const { values: o } = parseArgs({ options: {
  requests: { type: "string" }, "memory-requests": { type: "string" }, "load-seconds": { type: "string" }, "gateway-requests": { type: "string" },
  "profile-mock": { type: "boolean" }, only: { type: "string" },
} });
const N = Number(o.requests ?? 20000);
const MEMORY_N = Number(o["memory-requests"] ?? 1000000);
const LOAD_SECONDS = Number(o["load-seconds"] ?? 5);
const PROFILE_MOCK = o["profile-mock"] ?? false;
const ONLY = o.only ?? null; // "limitador": only the Limitador rows
const GATEWAY_N = Number(o["gateway-requests"] ?? 2000);

const rows: Array<[string, string]> = [];
const row = (what: string, value: string) => { rows.push([what, value]); console.error(`  ${what}: ${value}`); };
const percentile = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

async function buildNoop(): Promise<Uint8Array> {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "noop.wasm");
  const { error, stderr } = await asc.main(["bench/noop-filter.ts", "--config", "tests/fixtures/asconfig.json", "--outFile", out, "-O3", "--runtime", "incremental", "--exportStart", "_initialize", "--use", "abort=assembly/abi/abort/abortHandler"]);
  if (error) throw new Error(stderr.toString());
  return readFileSync(out);
}

/** Limitador and Authorino answering in process: the filter's cost without network time. */
function inProcessClusters(): Record<string, InProcessCluster> {
  const ok = Buffer.from(envoyRateLimitService().service.ShouldRateLimit.responseSerialize({ overall_code: "OK" }));
  const authOk = Buffer.from(authorizationService().service.Check.responseSerialize({
    status: { code: 0 }, ok_response: {},
    dynamic_metadata: { fields: { identity: { structValue: { fields: { userid: { stringValue: "alice" }, tier: { stringValue: "premium" } } } } } },
  }));
  const limitador: InProcessCluster = () => ({ status: 0, message: "", response: ok });
  const authorino: InProcessCluster = () => ({ status: 0, message: "", response: authOk });
  return { "kuadrant-ratelimit-service": limitador, limitador, "kuadrant-auth-service": authorino, authorino };
}

const chat = {
  headers: [[":method", "POST"], [":path", "/llm/facebook-opt-125m-simulated/v1/chat/completions"], [":authority", "maas.apps.example.com"], [":scheme", "https"], ["authorization", "APIKEY k"], ["content-type", "application/json"]] as Array<[string, string]>,
  body: '{"model":"facebook-opt-125m-simulated","messages":[{"role":"user","content":"hi"}]}',
};
const upstream = () => ({ status: 200, headers: [["content-type", "application/json"]] as Array<[string, string]>, body: '{"id":"c","model":"facebook-opt-125m-simulated","choices":[],"usage":{"prompt_tokens":21,"completion_tokens":7,"total_tokens":28}}' });

async function perRequest(wasm: Uint8Array, pluginConfig: string, n: number) {
  const host = await EnvoyHost.start(wasm, { pluginConfig, clusters: inProcessClusters(), logLevel: 3 });
  for (let i = 0; i < 1000; i++) await host.request(chat, { upstream });
  host.vm.guestNs = 0n;
  const errors = new ErrorCount();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const { response } = await host.request(chat, { upstream });
    if (response.status !== 200) errors.add(`status ${response.status}`);
  }
  const wallNs = Number(process.hrtime.bigint() - started);
  const result = { wasmUs: Number(host.vm.guestNs) / n / 1000, hostUs: wallNs / n / 1000, errors };
  host.close();
  return result;
}

async function memory(wasm: Uint8Array, pluginConfig: string, n: number) {
  const host = await EnvoyHost.start(wasm, { pluginConfig, clusters: inProcessClusters(), logLevel: 3 });
  const pages = () => host.vm.memory.buffer.byteLength / 65536;
  const samples: Array<[number, number]> = [];
  const checkpoints = new Set([1000, Math.floor(n / 10), Math.floor(n / 2), n]);
  for (let i = 1; i <= n; i++) {
    await host.request(chat, { upstream });
    if (checkpoints.has(i)) samples.push([i, pages()]);
  }
  host.close();
  return samples;
}

/**
 * limitador-mock beside a real limitador-server (LIMITADOR_BIN), both as processes with the same
 * flags, the same load tool (ghz when installed, else an HTTP/2 client in this process), one after
 * the other at each concurrency.
 */
async function limitadorLoad(seconds: number, profile: boolean) {
  const kinds: Array<"mock" | "real"> = process.env.LIMITADOR_BIN ? ["mock", "real"] : ["mock"];
  const ghz = ghzPath();
  const tool = ghz ? "ghz" : "node http2 client";
  const figures: Record<string, Record<number, Awaited<ReturnType<typeof shouldRateLimitLoad>>>> = {};
  const profileDir = mkdtempSync(join(tmpdir(), "bench-mock-profile-"));
  for (const kind of kinds) {
    const s = await startServer(kind, kind === "mock" && profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []);
    row(`${s.name} start-up (spawn → first /status answer)`, `${s.startupMs.toFixed(0)} ms`);
    figures[kind] = {};
    // A warm-up, not measured: the mock's JIT needs it, and both servers get it.
    await (ghz ? ghzLoad(ghz, s.address, 16, 2) : shouldRateLimitLoad(s.address, 16, 2));
    for (const c of [1, 16, 64]) {
      const r = ghz ? await ghzLoad(ghz, s.address, c, seconds) : await shouldRateLimitLoad(s.address, c, seconds);
      figures[kind][c] = r;
      row(`${s.name} ShouldRateLimit, ${c} concurrent (${tool}, ${seconds} s)`, `${r.perSecond.toFixed(0)} calls/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${r.errors ? `, ${r.errors} errors` : ""}`);
    }
    await s.stop();
  }
  if (figures.real) for (const c of [1, 16, 64]) row(`limitador-mock / limitador-server calls/s, ${c} concurrent`, `${(figures.mock[c].perSecond / figures.real[c].perSecond).toFixed(2)}`);
  if (profile) printProfile(profileDir);
}

/** The mock's hottest functions (self time) from its --cpu-prof profile. */
function printProfile(dir: string) {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) return console.error("no profile written");
  const p = JSON.parse(readFileSync(join(dir, file), "utf8"));
  const self = new Map<number, number>();
  p.samples.forEach((id: number, i: number) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  for (const n of p.nodes) {
    const key = `${n.callFrame.functionName || "(anonymous)"} ${String(n.callFrame.url).replace(/^.*\/(node_modules|build)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + (self.get(n.id) ?? 0));
  }
  const busy = [...byFunction].filter(([k]) => !k.startsWith("(idle)")).reduce((a, [, t]) => a + t, 0);
  console.error(`\nlimitador-mock profile (${file}), self time of the busiest functions, % of busy time:`);
  for (const [k, t] of [...byFunction].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, 25)) console.error(`  ${(100 * t / busy).toFixed(1).padStart(5)}%  ${k}`);
}

/** Errors by kind: a benchmark reports them beside its figures instead of dying on the first. */
class ErrorCount {
  readonly byKind = new Map<string, number>();
  total = 0;
  add(kind: string): void { this.total++; this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1); }
  toString(): string { return this.total === 0 ? "no errors" : `${this.total} error(s): ${[...this.byKind].map(([k, n]) => `${k} ×${n}`).join(", ")}`; }
}

async function load(url: string, n: number, concurrency: number, init: () => RequestInit) {
  const latencies: number[] = [];
  const errors = new ErrorCount();
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      const t = process.hrtime.bigint();
      try {
        const res = await fetch(url, init());
        await res.arrayBuffer();
        if (res.status !== 200) { errors.add(`status ${res.status}`); continue; }
      } catch (err) {
        errors.add((err as Error).message);
        continue;
      }
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  return { perSecond: latencies.length / ((Date.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

async function gateway(n: number) {
  const apiKeys = join(mkdtempSync(join(tmpdir(), "bench-keys-")), "keys.yaml");
  writeFileSync(apiKeys, Array.from({ length: 20 }, (_, i) => `- key: k${i}\n  userid: user${i}\n  tier: enterprise\n`).join(""));
  const limits = join(mkdtempSync(join(tmpdir(), "bench-limits-")), "limits.yaml");
  writeFileSync(limits, readFileSync(`${ROOT}local/config/limits.yaml`, "utf8").replace(/max_value: \d+/g, "max_value: 100000000"));
  const stack = await startStack({ apiKeys, limits, quiet: true, ports: { gateway: 0, admin: 0, limitadorGrpc: 0, limitadorHttp: 0, authorino: 0, model: 0, dashboard: 0 } });
  const body = JSON.stringify({ model: "facebook-opt-125m-simulated", max_tokens: 4, messages: [{ role: "user", content: "hi" }] });
  let i = 0;
  const init = () => ({ method: "POST", headers: { authorization: `APIKEY k${i++ % 20}`, "content-type": "application/json" }, body });
  const path = "/llm/facebook-opt-125m-simulated/v1/chat/completions";
  await load(`http://127.0.0.1:${stack.ports.model}${path}`, 200, 10, init);
  const direct = await load(`http://127.0.0.1:${stack.ports.model}${path}`, n, 20, init);
  await load(`http://127.0.0.1:${stack.ports.gateway}${path}`, 200, 10, init);
  const through = await load(`http://127.0.0.1:${stack.ports.gateway}${path}`, n, 20, init);
  await stack.close();
  return { direct, through };
}

async function measure() {
  console.error("measuring…");
  if (ONLY === "limitador") return limitadorLoad(LOAD_SECONDS, PROFILE_MOCK);
  const filter = readFileSync(await ensureFilterBuilt(() => {}));
  const noop = await buildNoop();
  const pluginConfig = readFileSync(`${ROOT}local/config/plugin-config.json`, "utf8").replace(/"hostnames": \[\s*"\*"\s*\]/g, '"hostnames": ["*"]');
  row(".wasm size (release)", `${(statSync(`${ROOT}build/filter.wasm`).size / 1024).toFixed(1)} KiB (no-op filter on the same ABI layer: ${(noop.length / 1024).toFixed(1)} KiB)`);

  const f = await perRequest(filter, pluginConfig, N);
  const b = await perRequest(noop, "", N);
  row("wasm time per request (auth + check + token check + report, JSON usage)", `${f.wasmUs.toFixed(1)} µs vs ${b.wasmUs.toFixed(1)} µs no-op (×${(f.wasmUs / b.wasmUs).toFixed(1)}), ${N} requests`);
  row("host + wasm time per request (Envoy stand-in, in-process services)", `${f.hostUs.toFixed(1)} µs vs ${b.hostUs.toFixed(1)} µs no-op`);

  const mem = await memory(filter, pluginConfig, MEMORY_N);
  row(`linear memory (64 KiB pages) over ${MEMORY_N} requests`, mem.map(([i, p]) => `${i}: ${p}`).join(", ") + (mem[mem.length - 1][1] === mem[0][1] ? " (flat)" : " (GROWING)"));

  await limitadorLoad(LOAD_SECONDS, PROFILE_MOCK);

  const g = await gateway(GATEWAY_N);
  row("local gateway (auth + limits + tokens), 20 concurrent", `${g.through.perSecond.toFixed(0)} req/s, p50 ${g.through.p50.toFixed(2)} ms, p99 ${g.through.p99.toFixed(2)} ms, ${g.through.errors}`);
  row("model simulator direct, 20 concurrent", `${g.direct.perSecond.toFixed(0)} req/s, p50 ${g.direct.p50.toFixed(2)} ms, p99 ${g.direct.p99.toFixed(2)} ms, ${g.direct.errors}`);
  row("added latency through the gateway (p50)", `${(g.through.p50 - g.direct.p50).toFixed(2)} ms`);
}

async function main() {
  await measure();
  const width = Math.max(...rows.map(([w]) => w.length));
  console.log(`\n${"measure".padEnd(width)} | result\n${"-".repeat(width)}-|-------`);
  for (const [what, value] of rows) console.log(`${what.padEnd(width)} | ${value}`);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
