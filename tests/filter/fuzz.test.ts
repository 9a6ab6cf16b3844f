// Seeded fuzzing through the host: hostile configs, headers, paths, metadata types, gRPC replies
// and bodies (the corpus: tests/helpers/fuzz-corpus.ts). The filter may refuse or fail a
// request, but the VM never traps.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startRawGrpcServer } from "../helpers/raw-grpc-server.js";
import { startFilter, configFixture } from "../helpers/filter-host.js";
import { fuzzCorpus, CORPUS_CONFIGS } from "../helpers/fuzz-corpus.js";

const corpus = fuzzCorpus();
let replies: Buffer[] = [];
let noise: Buffer = Buffer.alloc(0);
let grpc: Awaited<ReturnType<typeof startRawGrpcServer>>;
before(async () => {
  const reply = () => (replies.length ? replies.shift()! : noise);
  grpc = await startRawGrpcServer({
    "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit": reply,
    "/kuadrant.service.ratelimit.v1.RateLimitService/CheckRateLimit": reply,
    "/kuadrant.service.ratelimit.v1.RateLimitService/Report": reply,
    "/envoy.service.auth.v3.Authorization/Check": reply,
  });
});
after(() => grpc.close());

const clusters = () => ({ "kuadrant-ratelimit-service": grpc.address, "kuadrant-auth-service": grpc.address });

test("300 mutated configurations: refused or accepted, never a trap", async () => {
  for (const config of corpus.configs) {
    const host = await startFilter(config);
    assert.equal(host.vm.failed, false, `trap on ${JSON.stringify(config).slice(0, 400)}: ${host.vm.failure}`);
    host.close();
  }
});

test("hostile requests, metadata, gRPC replies and bodies: never a trap", async () => {
  for (const name of CORPUS_CONFIGS) {
    const host = await startFilter(configFixture(name), { clusters: clusters() });
    assert.equal(host.configured, true);
    for (const c of corpus.requests[name]) {
      replies = [...c.replies];
      noise = c.noise;
      const { response } = await host.request({ headers: c.headers, body: c.body }, { ...c.options, upstream: () => c.upstream });
      assert.equal(host.vm.failed, false, `trap (${host.vm.failure}) on ${JSON.stringify(c.headers).slice(0, 300)}`);
      assert.ok([200, 204, 401, 403, 429, 500].includes(response.status) || response.status >= 100, `status ${response.status}`);
    }
    host.close();
  }
});
