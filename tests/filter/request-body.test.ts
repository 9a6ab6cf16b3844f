// requestBodyJSON: a TelemetryPolicy or limit that reads the request body (e.g. the model) waits
// for the body, holds it while Limitador answers, and forwards it unchanged.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestLimitador, type Answer, type DecodedRequest } from "../helpers/test-limitador.js";
import { startTestAuthorino } from "../helpers/test-authorino.js";
import { startFilter, configFixture, identity, chatRequest, upstreamChat } from "../helpers/filter-host.js";

let answer: (req: DecodedRequest) => Answer = () => ({ overall_code: "OK" });
let limitador: Awaited<ReturnType<typeof startTestLimitador>>;
let authorino: Awaited<ReturnType<typeof startTestAuthorino>>;
before(async () => {
  limitador = await startTestLimitador((req) => answer(req));
  authorino = await startTestAuthorino(() => ({ ok: { identity: { userid: "alice", tier: "free" }, headers: [["x-user", "alice"]] } }));
});
after(async () => { await limitador.close(); await authorino.close(); });

function bodyModelConfig(name = "maas-ratelimit") {
  const c = configFixture(name);
  c.requestData["metrics.labels.model"] = 'requestBodyJSON("/model")';
  return c;
}
const start = (c: any) => startFilter(c, { clusters: { "kuadrant-ratelimit-service": limitador.address, "kuadrant-auth-service": authorino.address } });
const body = (model: string) => JSON.stringify({ model, stream: false, messages: [{ role: "user", content: "hi" }] });

test("the model label comes from the request body; the body reaches the model unchanged", async () => {
  answer = () => ({ delayMs: 20, then: { overall_code: "OK" } });
  limitador.requests.length = 0;
  const host = await start(bodyModelConfig());
  const stream = await host.newStream({ ...identity("alice", "free"), upstream: upstreamChat() });
  const req = chatRequest();
  stream.sendRequestHeaders(req.headers, false);
  stream.sendRequestBody(body("granite").slice(0, 10), false);
  stream.sendRequestBody(body("granite").slice(10), true);
  const response = await stream.completion;
  assert.equal(response.status, 200);
  assert.deepEqual(limitador.requests[0].descriptors[1], { user: "alice", tier: "free", model: "granite" });
  assert.equal(stream.forwarded.body.toString(), body("granite"));
  host.close();
});

test("over the limit in the body phase: 429 and nothing reaches the model", async () => {
  answer = () => ({ overall_code: "OVER_LIMIT" });
  const host = await start(bodyModelConfig());
  let upstreamCalls = 0;
  const { response } = await host.request({ headers: chatRequest().headers, body: body("granite") }, { ...identity("alice", "free"), upstream: () => { upstreamCalls++; return upstreamChat()(); } });
  assert.equal(response.status, 429);
  assert.equal(upstreamCalls, 0);
  answer = () => ({ overall_code: "OK" });
  host.close();
});

test("Kuadrant order: auth first (headers still held, so its headers reach upstream), then the check waits for the body", async () => {
  limitador.requests.length = 0;
  const c = bodyModelConfig("maas-auth");
  const host = await start(c);
  const req = chatRequest("maas.apps.example.com", undefined, [["authorization", "APIKEY k"]]);
  const { response, stream } = await host.request({ headers: req.headers, body: body("qwen") }, { upstream: upstreamChat() });
  assert.equal(response.status, 200);
  assert.deepEqual(stream.forwarded.headers.find(([k]) => k === "x-user"), ["x-user", "alice"]);
  assert.deepEqual(limitador.requests[0].descriptors[1], { user: "alice", tier: "free", model: "qwen" });
  host.close();
});

test("a predicate on the request body (only streamed requests are limited here)", async () => {
  limitador.requests.length = 0;
  const c = configFixture("maas-ratelimit");
  c.actionSets[0].actions[0].predicates = ['requestBodyJSON("/stream") == true'];
  const host = await start(c);
  const streamed = JSON.stringify({ model: "m", stream: true });
  await host.request({ headers: chatRequest().headers, body: streamed }, { ...identity("alice", "free"), upstream: upstreamChat() });
  await host.request({ headers: chatRequest().headers, body: body("m") }, { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.equal(limitador.requests.length, 1, "only the streamed request was checked");
  host.close();
});

test("the request body is read as JSON whatever its content-type (as wasm-shim); no body or not JSON: the label is left out", async () => {
  limitador.requests.length = 0;
  const host = await start(bodyModelConfig());
  const withType = (type: string | null) => chatRequest().headers.filter(([k]) => k !== "content-type" || type !== null).map(([k, v]) => (k === "content-type" ? [k, type!] : [k, v])) as Array<[string, string]>;
  await host.request({ headers: withType("text/plain"), body: body("granite") }, { ...identity("alice", "free"), upstream: upstreamChat() });
  await host.request({ headers: withType(null), body: body("mistral") }, { ...identity("alice", "free"), upstream: upstreamChat() });
  await host.request({ headers: withType("application/json"), body: "model=granite" }, { ...identity("alice", "free"), upstream: upstreamChat() });
  await host.request({ headers: chatRequest().headers }, { ...identity("alice", "free"), upstream: upstreamChat() });
  assert.deepEqual(limitador.requests.map((r) => r.descriptors[1]), [
    { user: "alice", tier: "free", model: "granite" },
    { user: "alice", tier: "free", model: "mistral" },
    { user: "alice", tier: "free" },
    { user: "alice", tier: "free" },
  ]);
  host.close();
});
