// The optimised build and the debug build are the same program: over the whole fuzz corpus
// (tests/helpers/fuzz-corpus.ts) they accept and refuse the same configurations with the same
// logs, send byte-identical gRPC messages with the same metadata, and give the client the same
// replies. Replies come from in-process clusters in call order, the clock is pinned and no
// request id is generated, so both runs see exactly the same world.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EnvoyHost } from "../../host/index.js";
import type { InProcessCluster } from "../../host/grpc-clusters.js";
import { configFixture, CHAT_PATH } from "../helpers/filter-host.js";
import { fuzzCorpus, CORPUS_CONFIGS, type RequestCase } from "../helpers/fuzz-corpus.js";

const build = (name: string) => readFileSync(fileURLToPath(new URL(`../../build/${name}`, import.meta.url)));
const RELEASE = build("filter.wasm");
const DEBUG = build("filter.debug.wasm");
const corpus = fuzzCorpus();
const clockNs = () => 1_767_225_600_000_000_000n;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function start(wasm: Uint8Array, config: unknown, clusters: Record<string, InProcessCluster> = {}) {
  const logs: string[] = [];
  const host = await EnvoyHost.start(wasm, {
    pluginConfig: typeof config === "string" ? config : JSON.stringify(config),
    clusters, clockNs, logLevel: 0, onLog: (l) => logs.push(`${l.level} ${l.message}`),
  });
  return { host, logs };
}

async function configOutcomes(wasm: Uint8Array) {
  const out = [];
  for (const config of corpus.configs) {
    const { host, logs } = await start(wasm, config);
    out.push({ configured: host.configured, failed: host.vm.failed, logs });
    host.close();
  }
  return out;
}

async function requestOutcomes(wasm: Uint8Array, name: string, cases: RequestCase[]) {
  let current: RequestCase = cases[0];
  let callIndex = 0;
  let calls: unknown[] = [];
  const cluster = (endpoint: string): InProcessCluster => (service, method, message, metadata) => {
    calls.push({ endpoint, service, method, metadata, message: hex(message) });
    const reply = current.replies[callIndex++] ?? current.noise;
    return { status: 0, message: "", response: reply };
  };
  const { host, logs } = await start(wasm, configFixture(name), { "kuadrant-ratelimit-service": cluster("kuadrant-ratelimit-service"), "kuadrant-auth-service": cluster("kuadrant-auth-service") });
  assert.equal(host.configured, true);
  const out = [];
  for (const c of cases) {
    current = c; callIndex = 0; calls = []; logs.length = 0;
    const { response, stream } = await host.request({ headers: c.headers, body: c.body }, { ...c.options, generateRequestId: false, upstream: () => c.upstream });
    await new Promise((resolve) => setImmediate(resolve)); // replies to fire-and-forget Reports
    await new Promise((resolve) => setImmediate(resolve));
    const forwarded = stream.forwarded;
    out.push({
      status: response.status, headers: response.headers, body: hex(response.body), reset: response.reset,
      upstream: { headers: forwarded.headers, body: hex(forwarded.body), sent: forwarded.headersForwarded },
      calls, logs: [...logs], failed: host.vm.failed,
    });
  }
  out.push({ metrics: host.prometheus() });
  host.close();
  return out;
}

function assertSame(what: string, release: unknown[], debug: unknown[]) {
  assert.equal(release.length, debug.length);
  for (let i = 0; i < release.length; i++) assert.deepEqual(release[i], debug[i], `${what} #${i}: release and debug builds differ`);
}

test("release and debug builds: same verdicts and logs on the 300 fuzzed configurations", async () => {
  assertSame("configuration", await configOutcomes(RELEASE), await configOutcomes(DEBUG));
});

/**
 * Few fuzzed requests carry a host, path and identity the MaaS action sets match; the same case
 * routed to the MaaS model, every other one with a valid identity (hostile headers, replies and
 * bodies kept), reaches the services.
 */
function routed(c: RequestCase, i: number): RequestCase {
  const path = i % 3 === 0 ? CHAT_PATH : `${CHAT_PATH}?stream=${i}`;
  const headers = c.headers.map(([k, v]): [string, string] => [k, k === ":path" ? path : k === ":authority" ? "maas.apps.example.com" : v]);
  if (i % 2 === 1) return { ...c, headers };
  const identity = { userid: `user${i}`, tier: i % 4 === 0 ? "premium" : "free" };
  return { ...c, headers, options: { ...c.options, dynamicMetadata: { "envoy.filters.http.ext_authz": { identity } } } };
}

for (const name of CORPUS_CONFIGS) {
  test(`release and debug builds: same gRPC messages, metadata and replies for the fuzzed requests (${name})`, async () => {
    const cases = [...corpus.requests[name], ...corpus.requests[name].map(routed)];
    const release = await requestOutcomes(RELEASE, name, cases);
    const debug = await requestOutcomes(DEBUG, name, cases);
    const reaching = release.filter((r: any) => r.calls?.length > 0).length;
    assert.ok(reaching > cases.length / 6, `only ${reaching} of ${cases.length} requests reach the services`);
    assert.ok(new Set(release.map((r: any) => r.status)).size > 2, "the corpus gets different answers");
    assertSame(name, release, debug);
  });
}
