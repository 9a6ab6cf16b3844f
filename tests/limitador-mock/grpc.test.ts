// Limitador's gRPC semantics (research/limitador.md §1–§2), through a real grpc-js client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startMock } from "../helpers/limitador-mock.js";

const LIMITS = `
- namespace: llm/route
  name: free-per-user
  max_value: 3
  seconds: 60
  conditions: ["descriptors[0].tier == 'free'"]
  variables: ["descriptors[0].user"]
- namespace: llm/route
  name: free-global
  max_value: 5
  seconds: 60
  conditions: ["descriptors[0].tier == 'free'"]
  variables: []
- namespace: llm/tokens
  max_value: 100
  seconds: 60
  conditions: []
  variables: ["descriptors[0]['auth.identity.userid']"]
- namespace: llm/short
  max_value: 1
  seconds: 1
  conditions:
  variables:
- namespace: llm/bad
  max_value: 1
  seconds: 60
  conditions: []
  variables: ["descriptors[0]"]
`;

const free = (user: string) => [{ tier: "free", user }];

test("ShouldRateLimit: counts per user until over the limit; rejected calls do not consume quota", async (t) => {
  const m = await startMock(t, LIMITS);
  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await m.client.shouldRateLimit("llm/route", free("alice"))).overall_code);
  assert.deepEqual(codes, ["OK", "OK", "OK", "OVER_LIMIT", "OVER_LIMIT"]);
  // free-global (5) was incremented only by the 3 allowed calls: bob gets 2 more.
  assert.equal((await m.client.shouldRateLimit("llm/route", free("bob"))).overall_code, "OK");
  assert.equal((await m.client.shouldRateLimit("llm/route", free("bob"))).overall_code, "OK");
  assert.equal((await m.client.shouldRateLimit("llm/route", free("bob"))).overall_code, "OVER_LIMIT");
  await m.close();
});

test("all-or-nothing: when one stacked counter is over, none is incremented", async (t) => {
  const m = await startMock(t, LIMITS);
  for (let i = 0; i < 3; i++) await m.client.shouldRateLimit("llm/route", free("alice"));
  await m.client.shouldRateLimit("llm/route", free("alice")); // limited by free-per-user
  const counters = await (await m.http("/counters/llm%2Froute")).json();
  const global = counters.find((c: any) => c.limit.name === "free-global");
  assert.equal(global.remaining, 2, "the global counter holds only the 3 allowed hits");
  await m.close();
});

test("hits_addend 0 counts as 1; hits_addend n counts n; n over the max is limited", async (t) => {
  const m = await startMock(t, LIMITS);
  const d = [{ "auth.identity.userid": "alice" }];
  assert.equal((await m.client.shouldRateLimit("llm/tokens", d, 0)).overall_code, "OK");
  assert.equal((await m.client.shouldRateLimit("llm/tokens", d, 98)).overall_code, "OK");
  assert.equal((await m.client.shouldRateLimit("llm/tokens", d, 2)).overall_code, "OVER_LIMIT");
  assert.equal((await m.client.shouldRateLimit("llm/tokens", d, 1)).overall_code, "OK");
  assert.equal((await m.client.shouldRateLimit("llm/tokens", [{ "auth.identity.userid": "bob" }], 101)).overall_code, "OVER_LIMIT");
  await m.close();
});

test("CheckRateLimit is read-only and checks with delta 1; Report always increments and answers OK", async (t) => {
  const m = await startMock(t, LIMITS);
  const d = [{ "auth.identity.userid": "alice" }];
  for (let i = 0; i < 3; i++) assert.equal((await m.client.checkRateLimit("llm/tokens", d, 500)).overall_code, "OK");
  assert.equal((await m.client.report("llm/tokens", d, 100)).overall_code, "OK");
  assert.equal((await m.client.checkRateLimit("llm/tokens", d)).overall_code, "OVER_LIMIT");
  assert.equal((await m.client.report("llm/tokens", d, 50)).overall_code, "OK", "Report is never limited");
  const text = await (await m.http("/counters/llm%2Ftokens")).text();
  assert.match(text, /"remaining":18446744073709551566,/, "100 − 150 wraps as a u64, as in Limitador");
  await m.close();
});

test("empty domain → UNKNOWN; an unknown namespace is OK", async (t) => {
  const m = await startMock(t, LIMITS);
  assert.equal((await m.client.shouldRateLimit("", free("a"))).overall_code, "UNKNOWN");
  assert.equal((await m.client.shouldRateLimit("nowhere", free("a"))).overall_code, "OK");
  await m.close();
});

test("a missing key makes the limit not apply; a variable that yields a map is UNAVAILABLE", async (t) => {
  const m = await startMock(t, LIMITS);
  for (let i = 0; i < 10; i++) assert.equal((await m.client.shouldRateLimit("llm/route", [{ tier: "free" }])).overall_code, i < 5 ? "OK" : "OVER_LIMIT");
  await assert.rejects(m.client.shouldRateLimit("llm/bad", [{ a: "b" }]), (err: any) => err.code === 14 && err.details === "Service unavailable");
  await m.close();
});

test("fixed window: starts at the first hit and resets after `seconds`", async (t) => {
  const m = await startMock(t, LIMITS);
  assert.equal((await m.client.shouldRateLimit("llm/short", [{ a: "b" }])).overall_code, "OK");
  assert.equal((await m.client.shouldRateLimit("llm/short", [{ a: "b" }])).overall_code, "OVER_LIMIT");
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await m.client.shouldRateLimit("llm/short", [{ a: "b" }])).overall_code, "OK");
  await m.close();
});

test("50 concurrent clients: exact counts, no lost or double increments", async (t) => {
  const m = await startMock(t, `
- namespace: load
  max_value: 1000
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
`);
  const { LimitadorClient } = await import("../helpers/limitador-client.js");
  const clients = Array.from({ length: 50 }, () => new LimitadorClient(`127.0.0.1:${m.mock.grpcPort}`));
  const results = await Promise.all(clients.map(async (c) => {
    let ok = 0;
    for (let i = 0; i < 30; i++) if ((await c.shouldRateLimit("load", [{ user: "shared" }])).overall_code === "OK") ok++;
    return ok;
  }));
  clients.forEach((c) => c.close());
  assert.equal(results.reduce((a, b) => a + b, 0), 1000, "exactly max_value calls allowed out of 1500");
  const [counter] = await (await m.http("/counters/load")).json();
  assert.equal(counter.remaining, 0);
  assert.match(await m.metrics(), /^authorized_calls\{limitador_namespace="load"\} 1000$/m);
  assert.match(await m.metrics(), /^limited_calls\{limitador_namespace="load"\} 500$/m);
  await m.close();
});

test("DRAFT_VERSION_03 headers: sorted keys, most restrictive first, named windows", async (t) => {
  const m = await startMock(t, LIMITS, { rateLimitHeaders: "DRAFT_VERSION_03" });
  const first = await m.client.shouldRateLimit("llm/route", free("alice"));
  assert.deepEqual(first.response_headers_to_add.map(({ key, value }) => ({ key, value })), [
    { key: "X-RateLimit-Limit", value: '3, 3;w=60;name="free-per-user", 5;w=60;name="free-global"' },
    { key: "X-RateLimit-Remaining", value: "2" },
    { key: "X-RateLimit-Reset", value: "59" }, // a new qualified counter: its TTL is read just after it was created
  ]);
  await m.client.shouldRateLimit("llm/route", free("alice"));
  await m.client.shouldRateLimit("llm/route", free("alice"));
  const limited = await m.client.shouldRateLimit("llm/route", free("alice"));
  assert.equal(limited.overall_code, "OVER_LIMIT");
  assert.equal(limited.response_headers_to_add.find((h) => h.key === "X-RateLimit-Remaining")!.value, "0");
  assert.match(limited.response_headers_to_add.find((h) => h.key === "X-RateLimit-Reset")!.value, /^5[89]$/);
  assert.deepEqual((await m.client.shouldRateLimit("nowhere", free("a"))).response_headers_to_add, [], "no headers when no limit applied");
  await m.close();
});
