// Limitador's HTTP API: JSON shapes and status codes (research/limitador.md §4).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startMock } from "../helpers/limitador-mock.js";
import { httpRaw } from "../helpers/conformance/wire.js";

const LIMITS = `
- namespace: ns/route
  name: per-user
  max_value: 2
  seconds: 60
  conditions: ["descriptors[0].tier == 'free'"]
  variables: ["descriptors[0].user"]
`;
const post = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("/status, /limits/{ns} and /counters/{ns} in Limitador's shapes", async (t) => {
  const m = await startMock(t, LIMITS);
  const status = await (await m.http("/status")).json();
  assert.deepEqual(Object.keys(status), ["started_at", "config_applied_at", "config_version", "config_err_since"]);
  assert.match(status.started_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}$/);
  assert.deepEqual(await (await m.http("/limits/ns%2Froute")).json(), [{ id: null, namespace: "ns/route", max_value: 2, seconds: 60, name: "per-user", conditions: ["descriptors[0].tier == 'free'"], variables: ["descriptors[0].user"] }]);
  assert.deepEqual(await (await m.http("/limits/unknown")).json(), []);
  await m.client.shouldRateLimit("ns/route", [{ tier: "free", user: "alice" }]);
  const [counter] = await (await m.http("/counters/ns%2Froute")).json();
  assert.deepEqual(counter.set_variables, { "descriptors[0].user": "alice" });
  assert.equal(counter.remaining, 1);
  assert.ok(counter.expires_in_seconds > 55 && counter.expires_in_seconds <= 60);
  assert.equal(counter.limit.name, "per-user");
});

test("/check is read-only (429 text when over), /report increments, neither touches metrics", async (t) => {
  const m = await startMock(t, LIMITS);
  const body = { namespace: "ns/route", values: { tier: "free", user: "bob" }, delta: 2 };
  assert.equal((await m.http("/check", post(body))).status, 200);
  assert.equal((await m.http("/report", post(body))).status, 200);
  const limited = await m.http("/check", post({ ...body, delta: 1 }));
  assert.equal(limited.status, 429);
  assert.equal(await limited.text(), "Too many requests");
  assert.ok(!/^(authorized|limited)_[a-z]+\{/m.test(await m.metrics()), "no series");
});

test("/check_and_report: 200 or 429 with null bodies, DraftVersion03 headers, metrics, delta 0 stays 0", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[0]" });
  const body = { namespace: "ns/route", values: { tier: "free", user: "carol" }, delta: 1, response_headers: "DraftVersion03" };
  const ok = await m.http("/check_and_report", post(body));
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "null");
  assert.equal(ok.headers.get("x-ratelimit-remaining"), "1");
  assert.equal(ok.headers.get("x-ratelimit-limit"), '2, 2;w=60;name="per-user"');
  await m.http("/check_and_report", post({ ...body, delta: 0 }));
  await m.http("/check_and_report", post(body));
  const over = await m.http("/check_and_report", post(body));
  assert.equal(over.status, 429);
  assert.equal(await over.text(), "null");
  const text = await m.metrics();
  assert.match(text, /^authorized_hits\{tier="free",user="carol",limitador_namespace="ns\/route"\} 2$/m);
  assert.match(text, /^limited_calls\{tier="free",user="carol",limitador_namespace="ns\/route"\} 1$/m);
});

test("a request missing required fields is 400", async (t) => {
  const m = await startMock(t, LIMITS);
  assert.equal((await m.http("/check", post({ namespace: "ns/route" }))).status, 400);
  assert.equal((await m.http("/check", { method: "POST", body: "{" })).status, 400);
  assert.equal((await m.http("/nope")).status, 404);
});

test("7: a namespace with an unencoded / does not match a route: 404 with an empty body and no content-type", async (t) => {
  const m = await startMock(t, LIMITS);
  const base = `http://127.0.0.1:${m.mock.httpPort}`;
  for (const path of ["/counters/ns/route", "/limits/ns/route", "/nope", "/counters/"]) {
    const r = await httpRaw(base, "GET", path);
    assert.equal(r.status, 404, path);
    assert.equal(r.body.length, 0, path);
    assert.equal(r.rawHeaders.find(([k]) => k.toLowerCase() === "content-type"), undefined, path);
  }
  assert.equal((await httpRaw(base, "GET", "/counters/ns%2Froute")).status, 200, "the encoded form is one segment");
});

test("9: GET /api/spec serves a Swagger 2.0 document of the API", async (t) => {
  const m = await startMock(t, LIMITS);
  const spec = await (await m.http("/api/spec")).json();
  assert.equal(spec.swagger, "2.0");
  assert.deepEqual(Object.keys(spec.paths).sort(), ["/check", "/check_and_report", "/counters/{namespace}", "/limits/{namespace}", "/metrics", "/report", "/status"]);
});

test("10: responses carry content-length (no chunking) and lower-case header names", async (t) => {
  const m = await startMock(t, LIMITS);
  const base = `http://127.0.0.1:${m.mock.httpPort}`;
  const body = JSON.stringify({ namespace: "ns/route", values: { tier: "free", user: "u" }, delta: 1, response_headers: "DraftVersion03" });
  for (const [method, path, b] of [["GET", "/status"], ["GET", "/metrics"], ["GET", "/limits/ns%2Froute"], ["POST", "/check_and_report", body], ["POST", "/check", "{"]] as const) {
    const r = await httpRaw(base, method, path, b ? { "content-type": "application/json" } : {}, b);
    const names = r.rawHeaders.map(([k]) => k).filter((k) => !/^(connection|keep-alive)$/i.test(k));
    assert.deepEqual(names, names.map((k) => k.toLowerCase()), `${path}: ${names}`);
    assert.equal(r.rawHeaders.find(([k]) => k === "content-length")?.[1], String(r.body.length), path);
    assert.ok(!r.rawHeaders.some(([k]) => k.toLowerCase() === "transfer-encoding"), path);
  }
  const limited = await httpRaw(base, "POST", "/check_and_report", { "content-type": "application/json" }, body);
  assert.deepEqual(limited.rawHeaders.filter(([k]) => k.startsWith("x-ratelimit")).map(([k]) => k), ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]);
});
