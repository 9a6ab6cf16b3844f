// The auth action: the filter calls Authorino itself, as wasm-shim does, so operator configs with
// an AuthPolicy run unchanged (design §3.4; issue "Auth in the filter").
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestLimitador, type Answer } from "../helpers/test-limitador.js";
import { startTestAuthorino, type AuthAnswer } from "../helpers/test-authorino.js";
import { startFilter, configFixture, chatRequest, upstreamChat } from "../helpers/filter-host.js";

const KEYS: Record<string, { userid: string; tier: string }> = { "key-alice": { userid: "alice", tier: "free" }, "key-bob": { userid: "bob", tier: "premium" } };
let auth: (req: any) => AuthAnswer = (req) => {
  const key = (req.attributes.request.http.headers.authorization ?? "").replace(/^APIKEY /, "");
  const id = KEYS[key];
  return id ? { ok: { identity: id, headers: [["x-maas-user", id.userid]] } } : { denied: { status: 401, headers: [["www-authenticate", "APIKEY realm=\"maas\""]], body: "unauthorized\n" } };
};
let rl: () => Answer = () => ({ overall_code: "OK" });
let authorino: Awaited<ReturnType<typeof startTestAuthorino>>;
let limitador: Awaited<ReturnType<typeof startTestLimitador>>;
before(async () => {
  authorino = await startTestAuthorino((r) => auth(r));
  limitador = await startTestLimitador(() => rl());
});
after(async () => { await authorino.close(); await limitador.close(); });

const config = configFixture("maas-auth");
const withTimeout = (c: any, timeout: string) => { const out = structuredClone(c); out.services["auth-service"].timeout = timeout; return out; };
const start = (c: any = config) => startFilter(c, { clusters: { "kuadrant-auth-service": authorino.address, "kuadrant-ratelimit-service": limitador.address } });
const asUser = (key: string) => chatRequest("maas.apps.example.com", undefined, [["authorization", `APIKEY ${key}`]]);
const reset = () => { authorino.requests.length = 0; limitador.requests.length = 0; };

test("the CheckRequest carries what Authorino reads, context_extensions.host = scope, and requestData", async () => {
  reset();
  const host = await start();
  await host.request(asUser("key-alice"), { source: { address: "10.1.2.3", port: 51000 }, destination: { address: "10.0.0.1", port: 10000 }, upstream: upstreamChat() });
  const a = authorino.requests[0].attributes;
  assert.equal(a.source.address.socket_address.address, "10.1.2.3");
  assert.equal(a.source.address.socket_address.port_value, 51000);
  assert.equal(a.destination.address.socket_address.port_value, 10000);
  assert.equal(a.request.http.method, "POST");
  assert.equal(a.request.http.path, "/llm/facebook-opt-125m-simulated/v1/chat/completions");
  assert.equal(a.request.http.host, "maas.apps.example.com");
  assert.equal(a.request.http.scheme, "https");
  assert.equal(a.request.http.protocol, "HTTP/1.1");
  assert.equal(a.request.http.headers.authorization, "APIKEY key-alice");
  assert.match(a.request.http.id, /^[0-9a-f-]{36}$/);
  assert.ok(Number(a.request.time.seconds) > 1_700_000_000);
  assert.deepEqual(a.context_extensions, { host: "4f2b8c1d9e3a7f6b5c0d2e8a1b9c7d3f6e0a5b2c8d1e9f4a7b3c6d0e2f8a5b1c" });
  const labels = a.metadata_context.filter_metadata["io.kuadrant.metrics.labels"].fields;
  assert.equal(labels.user.structValue.fields.cel_expr.stringValue, "auth.identity.userid");
  assert.equal(labels.model.stringValue, "facebook-opt-125m-simulated");
  assert.deepEqual(Object.keys(a.metadata_context.filter_metadata), ["io.kuadrant.metrics.labels"]);
  host.close();
});

test("OK: the identity drives the limit (alice, free) and ok_response headers reach the upstream request", async () => {
  reset();
  const host = await start();
  const { response, stream } = await host.request(asUser("key-alice"), { upstream: upstreamChat() });
  assert.equal(response.status, 200);
  assert.deepEqual(stream.forwarded.headers.find(([k]) => k === "x-maas-user"), ["x-maas-user", "alice"]);
  assert.equal(limitador.requests.length, 1);
  assert.deepEqual(limitador.requests[0].descriptors, [
    { "limit.free__340814a7": "1", "auth.identity.userid": "alice" },
    { user: "alice", tier: "free", model: "facebook-opt-125m-simulated" },
  ]);
  host.close();
});

test("an unknown key gets Authorino's 401 with its headers and body, and Limitador is never called", async () => {
  reset();
  const host = await start();
  const { response } = await host.request(asUser("key-mallory"), { upstream: upstreamChat() });
  assert.equal(response.status, 401);
  assert.equal(response.body.toString(), "unauthorized\n");
  assert.deepEqual(response.headers.find(([k]) => k === "www-authenticate"), ["www-authenticate", 'APIKEY realm="maas"']);
  assert.equal(limitador.requests.length, 0);
  host.close();
});

test("a denial without a status is 403", async () => {
  const saved = auth;
  auth = () => ({ denied: {} });
  const host = await start();
  const { response } = await host.request(asUser("key-alice"), { upstream: upstreamChat() });
  assert.equal(response.status, 403);
  auth = saved;
  host.close();
});

test("alice is limited after her quota; bob (premium) is not", async () => {
  reset();
  let count = 0;
  rl = () => ({ overall_code: ++count > 3 ? "OVER_LIMIT" : "OK" });
  const host = await start();
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await host.request(asUser("key-alice"), { upstream: upstreamChat() })).response.status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  rl = () => ({ overall_code: "OK" });
  assert.equal((await host.request(asUser("key-bob"), { upstream: upstreamChat() })).response.status, 200);
  host.close();
});

test("auth timeout or unavailability: deny (the default for auth) → 500; allow → continue", async () => {
  const saved = auth;
  auth = () => ({ hang: true }); // the deadline is the subject: Authorino never answers in time
  const host = await start(withTimeout(config, "200ms"));
  assert.equal((await host.request(asUser("key-alice"), { upstream: upstreamChat() })).response.status, 500);
  host.close();
  const allow = structuredClone(config);
  allow.services["auth-service"].failureMode = "allow";
  auth = () => ({ grpcError: 14 });
  const host2 = await start(allow);
  assert.equal((await host2.request(asUser("key-alice"), { upstream: upstreamChat() })).response.status, 200);
  host2.close();
  auth = saved;
});

test("an ok_response the filter cannot honour (response_headers_to_add) is a 500, as in wasm-shim", async () => {
  const saved = auth;
  auth = () => ({ ok: { identity: { userid: "alice", tier: "free" }, responseHeadersToAdd: [["x-a", "b"]] } });
  const host = await start();
  assert.equal((await host.request(asUser("key-alice"), { upstream: upstreamChat() })).response.status, 500);
  auth = saved;
  host.close();
});

test("the identity is exported to filter state wasm.kuadrant.auth for filters after us", async () => {
  const host = await start();
  const { stream } = await host.request(asUser("key-alice"), { upstream: upstreamChat() });
  const attrs = stream.attributes();
  const fs = attrs.get("filter_state") as Map<string, unknown>;
  assert.ok(fs.has("wasm.kuadrant.auth"));
  host.close();
});
