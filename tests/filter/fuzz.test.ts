// Seeded fuzzing through the host: hostile configs, headers, paths, metadata types, gRPC replies
// and bodies. The filter may refuse or fail a request, but the VM never traps.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startRawGrpcServer } from "../helpers/raw-grpc-server.js";
import { startFilter, configFixture } from "../helpers/filter-host.js";

function prng(seed: number) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}
const r = prng(424242);
const int = (n: number) => Math.floor(r() * n);
const pick = <T>(xs: T[]): T => xs[int(xs.length)];
const noise = (max = 40) => Buffer.from(Array.from({ length: int(max) }, () => int(256)));
const text = (max = 30) => Array.from({ length: int(max) }, () => String.fromCodePoint(pick([int(128), 0x20 + int(90), 0xe9, 0x4f60, 0x1f600, 0]))).join("");

let replies: Buffer[] = [];
let grpc: Awaited<ReturnType<typeof startRawGrpcServer>>;
before(async () => {
  const reply = () => (replies.length ? replies.shift()! : noise());
  grpc = await startRawGrpcServer({
    "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit": reply,
    "/kuadrant.service.ratelimit.v1.RateLimitService/CheckRateLimit": reply,
    "/kuadrant.service.ratelimit.v1.RateLimitService/Report": reply,
    "/envoy.service.auth.v3.Authorization/Check": reply,
  });
});
after(() => grpc.close());

const clusters = () => ({ "kuadrant-ratelimit-service": grpc.address, "kuadrant-auth-service": grpc.address });

function mutateJson(v: any, depth = 0): any {
  if (depth > 6) return v;
  if (Array.isArray(v)) return r() < 0.1 ? pick([{}, "x", null, 3]) : v.filter(() => r() > 0.05).map((x) => mutateJson(x, depth + 1));
  if (v && typeof v === "object") {
    const out: any = {};
    for (const [k, x] of Object.entries(v)) if (r() > 0.05) out[r() < 0.03 ? text(8) : k] = mutateJson(x, depth + 1);
    return r() < 0.05 ? pick([[], "s", 1, true]) : out;
  }
  if (typeof v === "string") return r() < 0.15 ? pick([text(20), "", v + pick([")", "'", "[", ".", "!", " && ", "\u0000"]), "1/0 == 1", "x".repeat(3000)]) : v;
  return r() < 0.1 ? pick([null, "1", -1, 1e300, {}]) : v;
}

test("300 mutated configurations: refused or accepted, never a trap", async () => {
  const bases = [configFixture("maas-ratelimit"), configFixture("maas-tokens"), configFixture("maas-auth")];
  for (let i = 0; i < 300; i++) {
    const config = mutateJson(structuredClone(pick(bases)));
    const host = await startFilter(r() < 0.05 ? noise(200).toString("latin1") : config);
    assert.equal(host.vm.failed, false, `trap on ${JSON.stringify(config).slice(0, 400)}: ${host.vm.failure}`);
    host.close();
  }
});

test("hostile requests, metadata, gRPC replies and bodies: never a trap", async () => {
  for (const name of ["maas-ratelimit", "maas-tokens", "maas-auth"]) {
    const host = await startFilter(configFixture(name), { clusters: clusters() });
    assert.equal(host.configured, true);
    for (let i = 0; i < 120; i++) {
      const headers: Array<[string, string]> = [
        [":method", pick(["POST", "GET", "", text(5)])],
        [":path", pick(["/llm/facebook-opt-125m-simulated/v1/chat/completions", "/llm/", "/llm//x", "/", "", "/llm/" + text(40), "/llm/a?b=%zz&&=", "/llm/" + "a/".repeat(500)])],
        [":authority", pick(["maas.apps.example.com", "MAAS.APPS.EXAMPLE.COM:99999", "", "[::1]:80", text(20), "a.apps.example.com."])],
      ];
      for (let h = 0; h < int(6); h++) headers.push([pick(["authorization", "x-request-id", "content-type", text(10)]), pick([text(50), "APIKEY key-alice", "x".repeat(20000)])]);
      const metadataValue = pick<unknown>([{ userid: "alice", tier: "free" }, { userid: 7, tier: null }, { userid: ["a"], tier: { x: 1 } }, "str", 42, true, [], { userid: text(10), tier: text(10) }]);
      replies = [pick([Buffer.from([8, 1]), Buffer.from([8, 2]), Buffer.from([8, 0]), Buffer.from([8, 1, 26, 4, 10, 0, 18, 0]), noise(), Buffer.alloc(0), Buffer.from([0x1a, 0xff, 0xff, 0xff, 0x0f])])];
      const contentType = pick(["application/json", "text/event-stream", "text/plain", ""]);
      const body = pick<Array<string | Buffer>>([[noise(100)], ['{"usage":{"total_tokens":' + pick(["1", "-1", "1e99", "\"7\"", "null", "18446744073709551616"]) + "}}"], ["data: {\"usage\":", "{\"total_tokens\":3}}\n\n"], ["\r\r\r\n\n:::\ndata\n\n"], [text(200)]]);
      const { response } = await host.request({ headers, body: r() < 0.5 ? text(100) : undefined }, {
        dynamicMetadata: r() < 0.8 ? { "envoy.filters.http.ext_authz": { identity: metadataValue } } : { "envoy.filters.http.ext_authz": pick<any>(["x", 1, [1, 2]]) },
        filterState: r() < 0.3 ? { "wasm.kuadrant.auth.identity.userid": pick(["\"bob\"", "{", "", "null"]) } : {},
        upstream: () => ({ status: pick([200, 200, 500, 204]), headers: [["content-type", contentType]], body }),
      });
      assert.equal(host.vm.failed, false, `trap (${host.vm.failure}) on ${JSON.stringify(headers).slice(0, 300)}`);
      assert.ok([200, 204, 401, 403, 429, 500].includes(response.status) || response.status >= 100, `status ${response.status}`);
    }
    host.close();
  }
});
