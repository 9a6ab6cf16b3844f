// Limitador's quirks that the mock reproduces (README "limitador-mock answers as Limitador does"),
// observed on Limitador v2.4.0-dev (2981b2bd) with the in-memory storage. Numbers are issue 14's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status as grpcStatus } from "@grpc/grpc-js";
import { startMock } from "../helpers/limitador-mock.js";

const LIMITS = `
- namespace: ns
  name: per-user
  max_value: 2
  seconds: 60
  conditions: ["descriptors[0].tier == 'free'"]
  variables: ["descriptors[0].user"]
- namespace: ns
  name: route
  max_value: 10
  seconds: 60
  conditions: ["descriptors[0].tier == 'free'"]
  variables: []
- namespace: zero
  name: never
  max_value: 0
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
- namespace: tie
  name: a
  max_value: 5
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
- namespace: tie
  name: b
  max_value: 5
  seconds: 30
  conditions: []
  variables: ["descriptors[0].user"]
`;
const headers = (r: { response_headers_to_add: Array<{ key: string; value: string }> }) => Object.fromEntries(r.response_headers_to_add.map((h) => [h.key, h.value]));
const countersOf = async (m: Awaited<ReturnType<typeof startMock>>, ns: string) => JSON.parse(await (await m.http(`/counters/${encodeURIComponent(ns)}`)).text());

test("1: X-RateLimit-Reset on the first hit of a new qualified counter is window − 1, also when that hit is rejected; 0 for a limit-wide counter", async (t) => {
  const m = await startMock(t, LIMITS, { rateLimitHeaders: "DRAFT_VERSION_03" });
  const first = headers(await m.client.shouldRateLimit("ns", [{ tier: "free", user: "alice" }]));
  assert.equal(first["X-RateLimit-Limit"], '2, 2;w=60;name="per-user", 10;w=60;name="route"');
  assert.equal(first["X-RateLimit-Reset"], "59", "the new per-user counter's TTL, read just after it was created");
  const rejected = await m.client.shouldRateLimit("zero", [{ user: "bob" }]);
  assert.equal(rejected.overall_code, "OVER_LIMIT");
  assert.equal(headers(rejected)["X-RateLimit-Reset"], "59");
  const m2 = await startMock(t, "- namespace: w\n  max_value: 5\n  seconds: 60\n  conditions: []\n  variables: []\n", { rateLimitHeaders: "DRAFT_VERSION_03" });
  assert.equal(headers(await m2.client.shouldRateLimit("w", []))["X-RateLimit-Reset"], "0", "a limit-wide counter exists before its first hit, its window not started");
});

test("2: no descriptors where a condition reads descriptors[0]: the call is reset (CANCELLED), the server keeps serving", async (t) => {
  const m = await startMock(t, LIMITS);
  await assert.rejects(m.client.shouldRateLimit("ns", []), (err: any) => err.code === grpcStatus.CANCELLED);
  await assert.rejects(m.client.checkRateLimit("ns", []), (err: any) => err.code === grpcStatus.CANCELLED);
  await assert.rejects(m.client.report("ns", []), (err: any) => err.code === grpcStatus.CANCELLED);
  assert.equal((await m.client.shouldRateLimit("ns", [{ tier: "free", user: "alice" }])).overall_code, "OK");
  await assert.rejects(m.client.shouldRateLimit("zero", []), (err: any) => err.code === grpcStatus.UNAVAILABLE, "a variable past the descriptors is an evaluation error, not a panic");
});

test("3: ties in X-RateLimit-Limit follow the per-call order in which limits are visited", async (t) => {
  // Limitador collects a namespace's limits into a new HashSet per call; the mock shuffles them per call.
  let next = 0;
  const sequence = [0.9, 0.1];
  const m = await startMock(t, LIMITS, { rateLimitHeaders: "DRAFT_VERSION_03", random: () => sequence[next++ % sequence.length] });
  const seen = new Set<string>();
  for (const user of ["u1", "u2"]) seen.add(headers(await m.client.shouldRateLimit("tie", [{ user }]))["X-RateLimit-Limit"]);
  assert.deepEqual([...seen].sort(), ['5, 5;w=30;name="b", 5;w=60;name="a"', '5, 5;w=60;name="a", 5;w=30;name="b"']);
});

test("3: by default the order changes from call to call, as in Limitador", async (t) => {
  const m = await startMock(t, LIMITS, { rateLimitHeaders: "DRAFT_VERSION_03" });
  const seen = new Set<string>();
  for (let i = 0; i < 64 && seen.size < 2; i++) seen.add(headers(await m.client.shouldRateLimit("tie", [{ user: `u${i}` }]))["X-RateLimit-Limit"]);
  assert.equal(seen.size, 2, "both orders within 64 calls (chance of failing: 2^-63)");
});

test("4: a request rejected on a counter that does not exist yet still creates it (value 0, remaining = max, window running)", async (t) => {
  const m = await startMock(t, LIMITS, { rateLimitHeaders: "DRAFT_VERSION_03" });
  assert.equal((await m.client.shouldRateLimit("ns", [{ tier: "free", user: "carol" }], 11)).overall_code, "OVER_LIMIT");
  const counters = await countersOf(m, "ns");
  assert.deepEqual(counters.map((c: any) => [c.limit.name, c.set_variables, c.remaining, c.expires_in_seconds]), [["per-user", { "descriptors[0].user": "carol" }, 2, 59]]);
  assert.equal((await m.client.shouldRateLimit("zero", [{ user: "dan" }])).overall_code, "OVER_LIMIT");
  assert.deepEqual((await countersOf(m, "zero")).map((c: any) => [c.remaining, c.expires_in_seconds]), [[0, 59]]);
});

test("4: without rate-limit headers the visit stops at the first counter over, so later ones are not created", async (t) => {
  const m = await startMock(t, LIMITS, { random: () => 0 }); // visiting order: route (limit-wide) is checked before qualified counters anyway
  for (let i = 0; i < 10; i++) await m.client.shouldRateLimit("ns", [{ tier: "free", user: `u${i}` }]);
  assert.equal((await m.client.shouldRateLimit("ns", [{ tier: "free", user: "late" }])).overall_code, "OVER_LIMIT");
  const users = (await countersOf(m, "ns")).map((c: any) => c.set_variables["descriptors[0].user"]).filter(Boolean);
  assert.ok(!users.includes("late"), "the route-wide counter was over first; the per-user one was never looked at");
});

test("5: a Report past max makes /counters' remaining wrap as an unsigned 64-bit number", async (t) => {
  const m = await startMock(t, "- namespace: tok\n  max_value: 100\n  seconds: 60\n  conditions: []\n  variables: [\"descriptors[0].user\"]\n");
  await m.client.report("tok", [{ user: "alice" }], 116);
  assert.match(await (await m.http("/counters/tok")).text(), /"remaining":18446744073709551600,/);
  assert.equal((await m.client.checkRateLimit("tok", [{ user: "alice" }])).overall_code, "OVER_LIMIT");
});

test("6: expires_in_seconds rounds down", async (t) => {
  let now = 1_000_000;
  const m = await startMock(t, LIMITS, { now: () => now });
  await m.client.shouldRateLimit("ns", [{ tier: "free", user: "alice" }]);
  now += 200; // 59.8 s left
  const counters = await countersOf(m, "ns");
  assert.deepEqual(counters.map((c: any) => c.expires_in_seconds), [59, 59]);
});

test("5: after a reload that changes only max_value and name, existing counters still show the limit they were created with", async (t) => {
  const { writeFileSync } = await import("node:fs");
  const limits = "- namespace: r\n  name: old\n  max_value: 5\n  seconds: 60\n  conditions: []\n  variables: [\"descriptors[0].user\"]\n";
  const m = await startMock(t, limits);
  await m.client.shouldRateLimit("r", [{ user: "alice" }]);
  writeFileSync(m.limitsFile, limits.replace("max_value: 5", "max_value: 7").replace("name: old", "name: new"));
  const end = Date.now() + 10000;
  while (!m.logs.some((l) => /limits reloaded/.test(l)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const [counter] = await countersOf(m, "r");
  assert.deepEqual([counter.limit.name, counter.limit.max_value, counter.remaining], ["old", 5, 4]);
  assert.deepEqual((await (await m.http("/limits/r")).json()).map((l: any) => [l.name, l.max_value]), [["new", 7]]);
  for (let i = 0; i < 6; i++) assert.equal((await m.client.shouldRateLimit("r", [{ user: "alice" }])).overall_code, "OK", "the check itself uses the new max_value");
  assert.equal((await m.client.shouldRateLimit("r", [{ user: "alice" }])).overall_code, "OVER_LIMIT");
});
