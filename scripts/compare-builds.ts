// Two builds, one behaviour: plays fuzz cases (tests/fuzz/generators.ts: every configuration
// shape, hostile requests, replies and bodies, mutated configurations) through build A and build B
// and requires the same configuration verdicts, logs at trace level, byte-identical gRPC messages
// and metadata, the same replies and forwarded requests, and the same metrics. For optimisations:
// an older build of the filter is the oracle of a newer one.
//   node --import tsx scripts/compare-builds.ts --a /tmp/before.wasm [--b build/filter.wasm] --cases 3000 [--seed 7]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isDeepStrictEqual } from "node:util";
import { EnvoyHost } from "../host/index.js";
import type { InProcessCluster, GrpcOutcome } from "../host/grpc-clusters.js";
import { Gen, caseRng, genConfig, genRequest, shapes, type RequestCase } from "../tests/fuzz/generators.js";

const { values: o } = parseArgs({ options: { a: { type: "string" }, b: { type: "string" }, cases: { type: "string" }, seed: { type: "string" }, "config-one-in": { type: "string" } } });
if (!o.a) throw new Error("--a path/to/filter.wasm is required (the reference build)");
const A = readFileSync(o.a), B = readFileSync(o.b ?? "build/filter.wasm");
const CASES = Number(o.cases ?? 2000), SEED = Number(o.seed ?? 1), CONFIG_ONE_IN = Number(o["config-one-in"] ?? 16);
const clockNs = () => 1_767_225_600_000_000_000n;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** One build's view of the world: hosts per configuration, with recorded calls and logs. */
class Side {
  private hosts = new Map<unknown, { host: EnvoyHost; logs: string[] }>();
  calls: unknown[] = [];
  private replies: RequestCase["replies"] = {};
  constructor(private readonly wasm: Uint8Array) {}

  private cluster(endpoint: string): InProcessCluster {
    return (service, method, message, metadata) => {
      this.calls.push({ endpoint, service, method, metadata, message: hex(message) });
      const next = this.replies[method]?.shift();
      if (!next) return { status: 0, message: "", response: new Uint8Array(0) };
      const outcome: GrpcOutcome = { status: next.status, message: next.status ? "fuzzed failure" : "" };
      if (next.response !== undefined) outcome.response = Buffer.from(next.response, "base64");
      return outcome;
    };
  }

  async start(config: unknown) {
    const logs: string[] = [];
    const clusters: Record<string, InProcessCluster> = {};
    for (const name of ["kuadrant-ratelimit-service", "limitador", "kuadrant-auth-service", "authorino"]) clusters[name] = this.cluster(name);
    const host = await EnvoyHost.start(this.wasm, {
      pluginConfig: typeof config === "string" ? config : JSON.stringify(config),
      clusters, clockNs, logLevel: 0, onLog: (l) => logs.push(`${l.level} ${l.message}`),
    });
    return { host, logs };
  }

  async base(config: unknown) {
    let h = this.hosts.get(config);
    if (!h || h.host.vm.failed) { h?.host.close(); h = await this.start(config); this.hosts.set(config, h); }
    return h;
  }

  async request(h: { host: EnvoyHost; logs: string[] }, req: RequestCase) {
    this.calls = [];
    h.logs.length = 0;
    this.replies = structuredClone(req.replies);
    const stream = await h.host.newStream({
      dynamicMetadata: req.dynamicMetadata, filterState: req.filterState, generateRequestId: false,
      upstream: () => ({ status: req.upstream.status, headers: req.upstream.contentType ? [["content-type", req.upstream.contentType]] : [], body: req.upstream.chunks }),
    });
    const hasBody = req.body !== undefined && req.body.length > 0;
    stream.sendRequestHeaders(req.headers, !hasBody);
    if (hasBody) stream.sendRequestBody(req.body!, true);
    const response = await stream.completion;
    await h.host.grpcIdle();
    const forwarded = stream.forwarded;
    return {
      status: response.status, headers: response.headers, body: hex(response.body), reset: response.reset,
      upstream: { headers: forwarded.headers, body: hex(forwarded.body), sent: forwarded.headersForwarded },
      calls: this.calls, logs: [...h.logs], failed: h.host.vm.failed, failure: h.host.vm.failure,
    };
  }

  close() { for (const h of this.hosts.values()) h.host.close(); this.hosts.clear(); }
}

/** The local stack's MaaS configurations join the fuzz corpus: every call of the full pipeline. */
const LOCAL = ["local/config/plugin-config.json", "local/config/plugin-config-typed.json"].map((f) => JSON.parse(readFileSync(f, "utf8")));
const CONFIG_POOLS: Array<[string, unknown[]]> = [...shapes(), ["local", LOCAL]];

const ROUTED_PATHS = ["/llm/facebook-opt-125m-simulated/v1/chat/completions", "/llm/qwen3-0-6b-instruct-simulated/v1/completions?stream=1"];

/** Most fuzzed requests match no action set: every other case is sent to a MaaS route, the rest kept hostile. */
function routed(req: RequestCase, index: number): RequestCase {
  if (index % 2 === 0) return req;
  const path = ROUTED_PATHS[(index >> 1) % 2];
  return { ...req, headers: req.headers.map(([k, v]): [string, string] => [k, k === ":path" ? path : k === ":authority" ? "maas.apps.example.com" : v]) };
}

async function runCase(side: Side, index: number): Promise<unknown[]> {
  const g = new Gen(caseRng(SEED, index));
  if (g.int(CONFIG_ONE_IN) === 0) {
    const { config } = genConfig(g);
    const h = await side.start(config);
    const out: unknown[] = [{ configured: h.host.configured, failed: h.host.vm.failed, logs: [...h.logs] }];
    try {
      if (h.host.configured && !h.host.vm.failed) for (let i = 0; i < 3; i++) out.push(await side.request(h, routed(genRequest(g), index + i)));
      out.push({ metrics: h.host.prometheus() });
    } finally { h.host.close(); }
    return out;
  }
  const [, corpus] = g.pick(CONFIG_POOLS);
  const config = g.pick(corpus);
  const h = await side.base(config);
  return [await side.request(h, routed(genRequest(g), index))];
}

async function main() {
  const a = new Side(A), b = new Side(B);
  let differing = 0, requests = 0, calls = 0;
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const ra = await runCase(a, i), rb = await runCase(b, i);
    requests += ra.length;
    calls += ra.reduce((n: number, r: any) => n + (r.calls?.length ?? 0), 0);
    if (!isDeepStrictEqual(ra, rb)) {
      differing++;
      if (differing <= 3) {
        console.log(`case ${i} (seed ${SEED}) differs:`);
        for (let k = 0; k < Math.max(ra.length, rb.length); k++) {
          if (isDeepStrictEqual(ra[k], rb[k])) continue;
          console.log(`  A: ${JSON.stringify(ra[k]).slice(0, 3000)}\n  B: ${JSON.stringify(rb[k]).slice(0, 3000)}`);
          break;
        }
      }
    }
    if ((i + 1) % 500 === 0) console.error(`  ${i + 1}/${CASES} cases, ${differing} differ`);
  }
  a.close(); b.close();
  console.log(`${CASES} cases (${requests} outcomes, ${calls} gRPC calls) in ${((Date.now() - started) / 1000).toFixed(0)} s: ${differing} differ`);
  process.exit(differing === 0 ? 0 : 1);
}

main().catch((err) => { console.error(err); process.exit(2); });
