// Redis storage with a real redis-server: two mock instances on one Redis share counters exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startMock } from "../helpers/limitador-mock.js";
import { LimitadorClient } from "../helpers/limitador-client.js";
import { missing, startRedis } from "../helpers/services.js";

const skip = missing("redis-server", "redis-server");
const LIMITS = `
- namespace: shared
  max_value: 600
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
- namespace: shared
  max_value: 700
  seconds: 60
  conditions: []
  variables: []
`;

test("two instances on one Redis: concurrent calls are counted exactly once, limits hold across them", { skip }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const a = await startMock(t, LIMITS, { storage: { kind: "redis", url: redis.url } });
  const b = await startMock(t, LIMITS, { storage: { kind: "redis", url: redis.url } });
  const clients = Array.from({ length: 40 }, (_, i) => new LimitadorClient(`127.0.0.1:${(i % 2 ? a : b).mock.grpcPort}`));
  const allowed = await Promise.all(clients.map(async (c) => {
    let ok = 0;
    for (let i = 0; i < 25; i++) if ((await c.shouldRateLimit("shared", [{ user: "alice" }])).overall_code === "OK") ok++;
    return ok;
  }));
  clients.forEach((c) => c.close());
  assert.equal(allowed.reduce((x, y) => x + y, 0), 600, "1000 calls, exactly max_value allowed");
  const fromA = await (await a.http("/counters/shared")).json();
  const fromB = await (await b.http("/counters/shared")).json();
  const remaining = (cs: any[]) => Object.fromEntries(cs.map((c: any) => [c.limit.max_value, c.remaining]));
  assert.deepEqual(remaining(fromA), { 600: 0, 700: 100 }, "the stacked counter moved only with allowed calls");
  assert.deepEqual(remaining(fromB), remaining(fromA), "both instances see the same counters");
});

test("Report and CheckRateLimit through different instances act on the same counter", { skip }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const a = await startMock(t, LIMITS, { storage: { kind: "redis", url: redis.url } });
  const b = await startMock(t, LIMITS, { storage: { kind: "redis", url: redis.url } });
  await a.client.report("shared", [{ user: "bob" }], 600);
  assert.equal((await b.client.checkRateLimit("shared", [{ user: "bob" }])).overall_code, "OVER_LIMIT");
});

test("Redis going away: calls fail with UNAVAILABLE 'Service unavailable', as Limitador", { skip }, async (t) => {
  const redis = await startRedis();
  const a = await startMock(t, LIMITS, { storage: { kind: "redis", url: redis.url } });
  await redis.stop();
  await assert.rejects(a.client.shouldRateLimit("shared", [{ user: "x" }]), (err: any) => err.code === 14 && err.details === "Service unavailable");
});

test("an unreachable Redis at start-up is reported, not hung on", { skip }, async () => {
  const { startLimitadorMock } = await import("../../limitador-mock/server.js");
  const { unusedAddress } = await import("../helpers/raw-grpc-server.js");
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const dir = mkdtempSync("/tmp/lm-");
  writeFileSync(`${dir}/l.yaml`, LIMITS);
  await assert.rejects(startLimitadorMock({ limitsFile: `${dir}/l.yaml`, storage: { kind: "redis", url: `redis://${await unusedAddress()}` }, rlsPort: 0, httpPort: 0, log: () => {} }), /Redis not reachable/);
});

test("redis_cached shares the Redis path (its flags accepted, no batching): a Report through one is seen by a redis instance", { skip }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const cached = await startMock(t, LIMITS, { storage: { kind: "redis_cached", url: redis.url, batchSize: 10, flushPeriodMs: 500, maxCached: 5, responseTimeoutMs: 100 } });
  const plain = await startMock(t, LIMITS, { storage: { kind: "redis", url: redis.url } });
  await cached.client.report("shared", [{ user: "bob" }], 599);
  assert.equal((await plain.client.shouldRateLimit("shared", [{ user: "bob" }])).overall_code, "OK");
  assert.equal((await plain.client.shouldRateLimit("shared", [{ user: "bob" }])).overall_code, "OVER_LIMIT");
});
