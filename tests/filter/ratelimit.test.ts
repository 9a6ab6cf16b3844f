// The heart of the product: user, tier and model reach Limitador as the operator and MaaS expect,
// and the answer is enforced (design §3.3; issue "The filter").
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestLimitador, type Answer, type DecodedRequest } from "../helpers/test-limitador.js";
import { startFilter, configFixture, identity, chatRequest, upstreamChat, CHAT_PATH } from "../helpers/filter-host.js";
import { unusedAddress } from "../helpers/raw-grpc-server.js";

let answer: (req: DecodedRequest) => Answer = () => ({ overall_code: "OK" });
let limitador: Awaited<ReturnType<typeof startTestLimitador>>;
before(async () => { limitador = await startTestLimitador((req) => answer(req)); });
after(() => limitador.close());

const maas = configFixture("maas-ratelimit");
const start = (config: any = maas, extra = {}) => startFilter(config, { clusters: { "kuadrant-ratelimit-service": limitador.address }, ...extra });

test("alice (free) reaches Limitador as the MaaS namespace with descriptors[1] = {user, tier, model}", async () => {
  answer = () => ({ overall_code: "OK" });
  limitador.requests.length = 0;
  const host = await start();
  assert.equal(host.configured, true, host.logText().join("\n"));
  const { response, stream } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(response.status, 200);
  assert.equal(limitador.requests.length, 1);
  const req = limitador.requests[0];
  assert.equal(req.method, "ShouldRateLimit");
  assert.equal(req.domain, "llm/facebook-opt-125m-simulated-kserve-route");
  assert.deepEqual(req.descriptors, [
    { "limit.free__340814a7": "1", "auth.identity.userid": "alice" },
    { user: "alice", tier: "free", model: "facebook-opt-125m-simulated" },
  ]);
  assert.equal(req.hits_addend, 1);
  assert.equal(req.metadata["x-request-id"], stream.forwarded.headers.find(([k]) => k === "x-request-id")![1]);
  host.close();
});

test("over the limit: 429 'Too Many Requests' with Limitador's headers, nothing reaches the model", async () => {
  answer = () => ({ overall_code: "OVER_LIMIT", response_headers_to_add: [{ key: "X-RateLimit-Limit", value: "5, 5;w=60" }, { key: "X-RateLimit-Remaining", value: "0" }] });
  const host = await start();
  let upstreamCalls = 0;
  const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: () => { upstreamCalls++; return upstreamChat()(); } });
  assert.equal(response.status, 429);
  assert.equal(response.body.toString(), "Too Many Requests\n");
  assert.deepEqual(response.headers.filter(([k]) => k.startsWith("x-ratelimit")), [["x-ratelimit-limit", "5, 5;w=60"], ["x-ratelimit-remaining", "0"]]);
  assert.equal(upstreamCalls, 0);
  host.close();
});

test("OK: Limitador's headers are added to the downstream response", async () => {
  answer = () => ({ overall_code: "OK", response_headers_to_add: [{ key: "X-RateLimit-Remaining", value: "4" }] });
  const host = await start();
  const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(response.status, 200);
  assert.deepEqual(response.headers.find(([k]) => k === "x-ratelimit-remaining"), ["x-ratelimit-remaining", "4"]);
  host.close();
});

test("UNKNOWN from Limitador is a 500 whatever the failure mode", async () => {
  answer = () => ({ overall_code: "UNKNOWN" });
  const host = await start();
  const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(response.status, 500);
  host.close();
});

function withFailureMode(mode: "allow" | "deny", timeout = "30s") {
  const c = structuredClone(maas);
  c.services["ratelimit-service"].failureMode = mode;
  c.services["ratelimit-service"].timeout = timeout;
  return c;
}

test("Limitador down: failureMode allow lets the request through, deny answers 500", async () => {
  const down = await unusedAddress();
  for (const [mode, status] of [["allow", 200], ["deny", 500]] as const) {
    const host = await startFilter(withFailureMode(mode), { clusters: { "kuadrant-ratelimit-service": down } });
    const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
    assert.equal(response.status, status, `failureMode ${mode}`);
    if (mode === "deny") assert.equal(response.body.toString(), "Internal Server Error.\n");
    host.close();
  }
});

test("a timeout follows the failure mode (deny → 500, allow → continue)", async () => {
  answer = () => ({ hang: true }); // the deadline is the subject: the server never answers in time
  for (const [mode, status] of [["allow", 200], ["deny", 500]] as const) {
    const host = await start(withFailureMode(mode, "30ms"));
    const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
    assert.equal(response.status, status, `failureMode ${mode}`);
    host.close();
  }
});

test("a gRPC error status follows the failure mode", async () => {
  answer = () => ({ grpcError: 14, details: "Service unavailable" });
  const host = await start(withFailureMode("deny"));
  const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(response.status, 500);
  host.close();
});

test("an undecodable reply follows the failure mode", async () => {
  const { startRawGrpcServer } = await import("../helpers/raw-grpc-server.js");
  const garbage = await startRawGrpcServer({ "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit": () => Buffer.from([0x0a, 0xff, 0xff]) });
  const host = await startFilter(withFailureMode("deny"), { clusters: { "kuadrant-ratelimit-service": garbage.address } });
  const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(response.status, 500);
  host.close();
  await garbage.close();
});

test("a stream reset while its check is in flight breaks nothing; the next request works", async () => {
  answer = () => ({ delayMs: 100, then: { overall_code: "OK" } });
  const host = await start(withFailureMode("allow"));
  const stream = await host.newStream({ ...identity("alice", "free"), upstream: upstreamChat() });
  const req = chatRequest();
  stream.sendRequestHeaders(req.headers, false);
  stream.sendRequestBody(req.body, true);
  assert.equal(stream.requestPaused, true);
  stream.reset();
  await host.grpcIdle(); // the late reply has arrived (and found no stream)
  assert.equal(host.vm.failed, false);
  answer = () => ({ overall_code: "OK" });
  const { response } = await host.request(chatRequest(), { ...identity("bob", "premium"), upstream: upstreamChat() });
  assert.equal(response.status, 200);
  host.close();
});

test("the request body is held while the check is in flight and reaches the model after OK", async () => {
  answer = () => ({ delayMs: 30, then: { overall_code: "OK" } });
  const host = await start();
  const req = chatRequest();
  const { stream, response } = await host.request(req, { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(response.status, 200);
  assert.equal(stream.forwarded.body.toString(), req.body);
  host.close();
});

test("a label that does not resolve is left out of descriptors[1]; the call still happens", async () => {
  answer = () => ({ overall_code: "OK" });
  limitador.requests.length = 0;
  const c = structuredClone(maas);
  c.actionSets[0].actions[0].conditionalData = [{ data: [{ expression: { key: "user", value: "auth.identity.userid" } }] }];
  const host = await start(c);
  await host.request(chatRequest(), { ...identity("carol"), upstream: upstreamChat() });
  assert.deepEqual(limitador.requests[0].descriptors, [{ user: "carol" }, { user: "carol", model: "facebook-opt-125m-simulated" }]);
  host.close();
});

test("no conditionalData block applies → no call; unmatched host or path → no call", async () => {
  limitador.requests.length = 0;
  const host = await start();
  const enterprise = await host.request(chatRequest(), { ...identity("erin", "enterprise"), upstream: upstreamChat() });
  const otherHost = await host.request(chatRequest("api.other.com"), { ...identity("alice", "free"), upstream: upstreamChat() });
  const otherPath = await host.request(chatRequest(undefined, "/llm/other-model/v1/chat/completions"), { ...identity("alice", "free"), upstream: upstreamChat() });
  const apex = await host.request(chatRequest("apps.example.com"), { ...identity("alice", "free"), upstream: upstreamChat() });
  for (const r of [enterprise, otherHost, otherPath, apex]) assert.equal(r.response.status, 200);
  assert.equal(limitador.requests.length, 0);
  host.close();
});

test("hostnames: case-insensitive, port stripped; exact beats wildcard with no fall-back", async () => {
  answer = () => ({ overall_code: "OK" });
  limitador.requests.length = 0;
  const c = structuredClone(maas);
  const exact = structuredClone(c.actionSets[0]);
  exact.routeRuleConditions.hostnames = ["special.apps.example.com"];
  exact.routeRuleConditions.predicates = ["request.url_path == '/never'"];
  c.actionSets.push(exact);
  const host = await start(c);
  await host.request(chatRequest("MAAS.Apps.Example.COM:8443"), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(limitador.requests.length, 1);
  await host.request(chatRequest("special.apps.example.com"), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(limitador.requests.length, 1, "the exact entry shadows the wildcard one");
  host.close();
});

test("ratelimit.domain overrides the scope; a static hits_addend is sent", async () => {
  limitador.requests.length = 0;
  const c = structuredClone(maas);
  c.actionSets[0].actions[0].conditionalData = [{ data: [
    { static: { key: "ratelimit.domain", value: "custom/ns" } },
    { static: { key: "ratelimit.hits_addend", value: "7" } },
    { static: { key: "k", value: "v" } },
  ] }];
  const host = await start(c);
  await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(limitador.requests[0].domain, "custom/ns");
  assert.equal(limitador.requests[0].hits_addend, 7);
  assert.deepEqual(limitador.requests[0].descriptors[0], { k: "v" });
  host.close();
});

test("actions run in order; a second check waits for the first", async () => {
  answer = () => ({ delayMs: 20, then: { overall_code: "OK" } });
  limitador.requests.length = 0;
  const c = structuredClone(maas);
  const second = structuredClone(c.actionSets[0].actions[0]);
  second.scope = "second/scope";
  c.actionSets[0].actions.push(second);
  const host = await start(c);
  const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(response.status, 200);
  assert.deepEqual(limitador.requests.map((r) => r.domain), ["llm/facebook-opt-125m-simulated-kserve-route", "second/scope"]);
  host.close();
});

test("the first OVER_LIMIT stops the chain: later actions are not called", async () => {
  limitador.requests.length = 0;
  answer = (req) => ({ overall_code: req.domain === "second/scope" ? "OK" : "OVER_LIMIT" });
  const c = structuredClone(maas);
  const second = structuredClone(c.actionSets[0].actions[0]);
  second.scope = "second/scope";
  c.actionSets[0].actions.push(second);
  const host = await start(c);
  const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(response.status, 429);
  assert.equal(limitador.requests.length, 1);
  host.close();
});

test("identity from filter state (wasm-shim ≤ 0.11 flattening) when ext_authz metadata is absent", async () => {
  answer = () => ({ overall_code: "OK" });
  limitador.requests.length = 0;
  const host = await start();
  await host.request(chatRequest(), {
    filterState: { "wasm.kuadrant.auth.identity.userid": '"dave"', "wasm.kuadrant.auth.identity.tier": '"premium"' },
    upstream: upstreamChat(),
  });
  assert.deepEqual(limitador.requests[0].descriptors[1], { user: "dave", tier: "premium", model: "facebook-opt-125m-simulated" });
  host.close();
});

test("a mistake confined to one route fails that route's action (failureMode), the other routes work", async () => {
  answer = () => ({ overall_code: "OK" });
  for (const [mode, brokenStatus] of [["deny", 500], ["allow", 200]] as const) {
    limitador.requests.length = 0;
    const c = withFailureMode(mode);
    const broken = structuredClone(c.actionSets[0]);
    broken.routeRuleConditions.hostnames = ["broken.example.com"];
    broken.actions[0].conditionalData = [{ data: [{ static: { key: "ratelimit.domain", value: "" } }, { static: { key: "k", value: "v" } }] }];
    c.actionSets.push(broken);
    const host = await start(c);
    assert.equal(host.configured, true, host.logText().join("\n"));
    const bad = await host.request(chatRequest("broken.example.com"), { ...identity("alice", "free"), upstream: upstreamChat() });
    assert.equal(bad.response.status, brokenStatus, `failureMode ${mode}`);
    assert.equal(limitador.requests.length, 0, "nothing is sent for the broken action");
    const good = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
    assert.equal(good.response.status, 200);
    assert.equal(limitador.requests.length, 1);
    host.close();
  }
});

test("source.remote_address is the client IP without the port (per-IP limits), IPv4 and IPv6", async () => {
  answer = () => ({ overall_code: "OK" });
  const c = structuredClone(maas);
  c.actionSets[0].actions[0].conditionalData = [{ data: [{ expression: { key: "ip", value: "source.remote_address" } }] }];
  const host = await start(c);
  for (const [address, ip] of [["10.1.2.3", "10.1.2.3"], ["2001:db8::7", "2001:db8::7"]]) {
    limitador.requests.length = 0;
    const { response } = await host.request(chatRequest(), { ...identity("alice", "free"), source: { address: address.includes(":") ? `[${address}]` : address, port: 51234 }, upstream: upstreamChat() });
    assert.equal(response.status, 200);
    assert.deepEqual(limitador.requests[0].descriptors[0], { ip });
  }
  host.close();
});

test("a conditionalData block without data is an empty block (wasm-shim's default), not a refusal", async () => {
  answer = () => ({ overall_code: "OK" });
  limitador.requests.length = 0;
  const c = structuredClone(maas);
  c.actionSets[0].actions[0].conditionalData = [{ predicates: ["true"] }, { data: [{ static: { key: "k", value: "v" } }] }];
  const host = await start(c);
  assert.equal(host.configured, true, host.logText().join("\n"));
  await host.request(chatRequest(), { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.deepEqual(limitador.requests[0].descriptors[0], { k: "v" });
  host.close();
});
