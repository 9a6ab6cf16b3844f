// `npm run bench`: the figures of design §9, measured in one run, printed as one table.
//   npm run bench -- --requests 20000 --memory-requests 1000000 --mock-calls 10000 --gateway-requests 2000
import { parseArgs } from "node:util";
import { readFileSync, statSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { EnvoyHost } from "../host/index.js";
import type { InProcessCluster } from "../host/grpc-clusters.js";
import { authorizationService, envoyRateLimitService } from "../proto/index.js";
import { startLimitadorMock } from "../limitador-mock/server.js";
import { startStack } from "../local/stack.js";
import { ensureFilterBuilt } from "../local/build-wasm.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const { values: o } = parseArgs({ options: {
  requests: { type: "string" }, "memory-requests": { type: "string" }, "mock-calls": { type: "string" }, "gateway-requests": { type: "string" },
} });
const N = Number(o.requests ?? 20000);
const MEMORY_N = Number(o["memory-requests"] ?? 1000000);
const MOCK_CALLS = Number(o["mock-calls"] ?? 10000);
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

async function mockLoad(calls: number) {
  const dir = mkdtempSync(join(tmpdir(), "bench-limits-"));
  writeFileSync(join(dir, "limits.yaml"), "- namespace: bench\n  max_value: 1000000000\n  seconds: 3600\n  conditions: [\"descriptors[0].tier == 'free'\"]\n  variables: [\"descriptors[0].user\"]\n");
  const mock = await startLimitadorMock({ limitsFile: join(dir, "limits.yaml"), rlsIp: "127.0.0.1", rlsPort: 0, httpIp: "127.0.0.1", httpPort: 0, metricLabelsDefault: "descriptors[1]", log: () => {} });
  const { LimitadorClient } = await import("../tests/helpers/limitador-client.js");
  const clients = Array.from({ length: 50 }, () => new LimitadorClient(`127.0.0.1:${mock.grpcPort}`));
  const latencies: number[] = [];
  const errors = new ErrorCount();
  const started = Date.now();
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < calls / clients.length; k++) {
      const t = process.hrtime.bigint();
      try {
        await c.shouldRateLimit("bench", [{ tier: "free", user: `u${(i * 7 + k) % 500}` }, { user: `u${i}`, tier: "free", model: "m" }]);
      } catch (err) {
        errors.add(`gRPC ${(err as { code?: number }).code ?? (err as Error).message}`);
        continue;
      }
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  clients.forEach((c) => c.close());
  await mock.close();
  return { perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
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
  const stack = await startStack({ apiKeys, limits, quiet: true, ports: { gateway: 0, admin: 0, limitadorGrpc: 0, limitadorHttp: 0, authorino: 0, model: 0 } });
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

async function main() {
  console.error("measuring…");
  const filter = readFileSync(await ensureFilterBuilt(() => {}));
  const noop = await buildNoop();
  const pluginConfig = readFileSync(`${ROOT}local/config/plugin-config.json`, "utf8").replace(/"hostnames": \[\s*"\*"\s*\]/g, '"hostnames": ["*"]');
  row(".wasm size (release)", `${(statSync(`${ROOT}build/filter.wasm`).size / 1024).toFixed(1)} KiB (no-op filter on the same ABI layer: ${(noop.length / 1024).toFixed(1)} KiB)`);

  const f = await perRequest(filter, pluginConfig, N);
  const b = await perRequest(noop, "", N);
  row("wasm time per request (auth + check + token check + report, JSON usage)", `${f.wasmUs.toFixed(1)} µs vs ${b.wasmUs.toFixed(1)} µs no-op (×${(f.wasmUs / b.wasmUs).toFixed(1)}), ${N} requests`);
  row("host + wasm time per request (Envoy stand-in, in-process services)", `${f.hostUs.toFixed(1)} µs vs ${b.hostUs.toFixed(1)} µs no-op; filter ${f.errors}, no-op ${b.errors}`);

  const mem = await memory(filter, pluginConfig, MEMORY_N);
  row(`linear memory (64 KiB pages) over ${MEMORY_N} requests`, mem.map(([i, p]) => `${i}: ${p}`).join(", ") + (mem[mem.length - 1][1] === mem[0][1] ? " (flat)" : " (GROWING)"));

  const m = await mockLoad(MOCK_CALLS);
  row("limitador-mock ShouldRateLimit, 50 concurrent clients", `${m.perSecond.toFixed(0)} calls/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${m.errors}`);

  const g = await gateway(GATEWAY_N);
  row("local gateway (auth + limits + tokens), 20 concurrent", `${g.through.perSecond.toFixed(0)} req/s, p50 ${g.through.p50.toFixed(2)} ms, p99 ${g.through.p99.toFixed(2)} ms, ${g.through.errors}`);
  row("model simulator direct, 20 concurrent", `${g.direct.perSecond.toFixed(0)} req/s, p50 ${g.direct.p50.toFixed(2)} ms, p99 ${g.direct.p99.toFixed(2)} ms, ${g.direct.errors}`);
  row("added latency through the gateway (p50)", `${(g.through.p50 - g.direct.p50).toFixed(2)} ms`);

  const width = Math.max(...rows.map(([w]) => w.length));
  console.log(`\n${"measure".padEnd(width)} | result\n${"-".repeat(width)}-|-------`);
  for (const [what, value] of rows) console.log(`${what.padEnd(width)} | ${value}`);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
