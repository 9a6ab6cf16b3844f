// The filter's gateway-api-inference-extension metrics beyond counts and tokens: the model that
// answered (target_model_name, from the response body), request sizes, the response code on the
// request counter, and the upstream's time to first byte apart from the time spent in Limitador.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestLimitador, type Answer, type DecodedRequest } from "../helpers/test-limitador.js";
import { startTestAuthorino } from "../helpers/test-authorino.js";
import { startFilter, configFixture, identity, chatRequest } from "../helpers/filter-host.js";
import { FILTER_STATS_TAGS } from "../../host/stats-tags.js";
import { toTypedConfig } from "../../envoy/typed-config.js";

let answer: (req: DecodedRequest) => Answer = () => ({ overall_code: "OK" });
let limitador: Awaited<ReturnType<typeof startTestLimitador>>;
before(async () => { limitador = await startTestLimitador((req) => answer(req)); });
after(() => limitador.close());

const tokens = configFixture("maas-tokens");
const start = (config: any = tokens) => startFilter(config, { clusters: { "kuadrant-ratelimit-service": limitador.address }, statsTags: FILTER_STATS_TAGS });
const MODEL = "facebook-opt-125m-simulated";
const json = (body: object) => () => ({ status: 200, headers: [["content-type", "application/json"]] as Array<[string, string]>, body: JSON.stringify(body) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one exposed series, by its exact label text. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

test("target_model_name is the model the JSON response names; model_name stays the route's", async () => {
  const host = await start();
  await host.request(chatRequest(), { ...identity("alice", "free"), upstream: json({ model: "facebook/opt-125m", usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 } }) });
  const text = host.prometheus();
  const labels = `model_name="${MODEL}",target_model_name="facebook/opt-125m",tier="free"`;
  assert.equal(sample(text, "inference_model_request_total", `${labels},response_code="200"`), 1);
  assert.equal(sample(text, "inference_model_output_tokens_sum", labels), 6);
  assert.equal(sample(text, "inference_model_request_duration_ms_count", labels), 1);
  host.close();
});

test("target_model_name from an SSE stream (the chunks carry the model)", async () => {
  const host = await start();
  const chunk = (extra: object) => `data: ${JSON.stringify({ object: "chat.completion.chunk", model: "Qwen/Qwen3-0.6B", ...extra })}\n\n`;
  await host.request(chatRequest(), {
    ...identity("dave", "enterprise"),
    upstream: () => ({ status: 200, headers: [["content-type", "text/event-stream"]], body: [chunk({ choices: [{ delta: { content: "hi" } }] }), chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }), "data: [DONE]\n\n"] }),
  });
  assert.equal(sample(host.prometheus(), "inference_model_input_tokens_sum", `model_name="${MODEL}",target_model_name="Qwen/Qwen3-0.6B",tier="enterprise"`), 3);
  host.close();
});

test("no model in the response, or the filter's own 429: no target_model_name label at all", async () => {
  const host = await start();
  await host.request(chatRequest(), { ...identity("alice", "free"), upstream: json({ usage: { total_tokens: 3 } }) });
  answer = () => ({ overall_code: "OVER_LIMIT" });
  await host.request(chatRequest(), { ...identity("alice", "free"), upstream: json({ model: "never-seen", usage: { total_tokens: 3 } }) });
  answer = () => ({ overall_code: "OK" });
  const text = host.prometheus();
  assert.ok(!text.includes("target_model_name"), text);
  assert.ok(!text.includes("never-seen"));
  assert.equal(sample(text, "inference_model_request_total", `model_name="${MODEL}",tier="free",response_code="200"`), 1);
  assert.equal(sample(text, "inference_model_request_total", `model_name="${MODEL}",tier="free",response_code="429"`), 1);
  host.close();
});

test("the auth action's 401 is counted under response_code=\"401\" with error_class auth_denied", async () => {
  const authorino = await startTestAuthorino(() => ({ denied: { status: 401 } }));
  const host = await startFilter(configFixture("maas-auth"), { clusters: { "kuadrant-auth-service": authorino.address, "kuadrant-ratelimit-service": limitador.address }, statsTags: FILTER_STATS_TAGS });
  const { response } = await host.request(chatRequest());
  assert.equal(response.status, 401);
  const text = host.prometheus();
  // No identity: the tier is unknown; the model comes from the path.
  assert.equal(sample(text, "inference_model_request_total", `model_name="${MODEL}",tier="unknown",response_code="401"`), 1);
  assert.equal(sample(text, "inference_model_request_error_total", `model_name="${MODEL}",tier="unknown",error_class="auth_denied"`), 1);
  host.close();
  await authorino.close();
});

test("inference_model_request_sizes: the body's bytes, from Content-Length or counted when chunked", async () => {
  const host = await start();
  const req = chatRequest();
  const size = Buffer.byteLength(req.body);
  await host.request(req, { ...identity("alice", "free"), upstream: json({}) }); // no Content-Length: bytes received
  await host.request({ ...req, headers: [...req.headers, ["content-length", String(size)]] }, { ...identity("alice", "free"), upstream: json({}) });
  await host.request({ headers: [[":method", "GET"], [":path", `/llm/${MODEL}/v1/models`], [":authority", "maas.apps.example.com"]] }, { ...identity("alice", "free"), upstream: json({}) });
  const text = host.prometheus();
  const labels = `model_name="${MODEL}",tier="free"`;
  assert.equal(sample(text, "inference_model_request_sizes_count", labels), 2, "a request without a body is not a size");
  assert.equal(sample(text, "inference_model_request_sizes_sum", labels), 2 * size);
  host.close();
});

test("upstream time to first byte excludes the time spent waiting for Limitador", async () => {
  const host = await start();
  const limitadorMs = 60, upstreamMs = 40;
  answer = () => ({ delayMs: limitadorMs, then: { overall_code: "OK" } });
  await host.request(chatRequest(), {
    ...identity("alice", "free"),
    upstream: async () => { await sleep(upstreamMs); return json({ usage: { total_tokens: 3 } })(); },
  });
  answer = () => ({ overall_code: "OK" });
  const text = host.prometheus();
  const free = `model_name="${MODEL}",tier="free"`;
  const ttfb = sample(text, "inference_model_upstream_ttfb_ms_sum", free)!;
  const total = sample(text, "inference_model_request_duration_ms_sum", free)!;
  const inLimitador = sample(text, "kuadrant_limitador_call_duration_ms_sum", free)!;
  assert.equal(sample(text, "inference_model_upstream_ttfb_ms_count", free), 1);
  assert.ok(ttfb >= upstreamMs, `ttfb ${ttfb} ms covers the upstream's ${upstreamMs} ms`);
  assert.ok(inLimitador >= limitadorMs, `Limitador ${inLimitador} ms`);
  assert.ok(total >= ttfb + limitadorMs, `total ${total} ms = Limitador (≥ ${limitadorMs}) + ttfb ${ttfb} + the rest`);
  host.close();
});

test("the filter's own replies (429) never reached the upstream: no time to first byte", async () => {
  const host = await start();
  answer = () => ({ overall_code: "OVER_LIMIT" });
  await host.request(chatRequest(), { ...identity("bob", "free"), upstream: json({}) });
  answer = () => ({ overall_code: "OK" });
  const text = host.prometheus();
  const free = `model_name="${MODEL}",tier="free"`;
  assert.equal(sample(text, "inference_model_request_duration_ms_count", free), 1);
  assert.equal(sample(text, "inference_model_upstream_ttfb_ms_count", free), undefined);
  host.close();
});

test("each stats_tags regex, run on the whole name as Envoy does, finds its own segment", () => {
  // Envoy matches every tag regex against the original name and removes all matches at once;
  // "model_name=" is also the tail of "target_model_name=", so the filter writes model_name first.
  const name = "wasmcustom.model_name=.=opt;.;target_model_name=.=facebook/opt-125m;.;tier=.=free;.;user=.=alice;.;response_code=.=200;.;inference_model_request_total";
  const found = FILTER_STATS_TAGS.flatMap((t) => {
    const m = new RegExp(t.regex).exec(name);
    return m ? [[t.tagName, m[2], name.slice(m.index).startsWith(`${t.tagName}=`)] as const] : [];
  });
  assert.deepEqual(found, [
    ["model_name", "opt", true], ["target_model_name", "facebook/opt-125m", true], ["tier", "free", true],
    ["user", "alice", true], ["response_code", "200", true],
  ]);
});

// Reports are sent as the response ends and never hold it: their answer arrives after the request
// was logged and its stream deleted (calls belong to the root context and outlive the stream).
for (const shape of ["classic", "typed"] as const) test(`${shape}: a Report that fails after its request ended is counted: error_class="report" on the request's labels, kuadrant.errors, and its time`, async () => {
  const host = await start(shape === "classic" ? tokens : toTypedConfig(tokens));
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  const seen = limitador.requests.length;
  answer = () => ({ overall_code: "OK" });
  const ok = await host.request(chatRequest(), { ...identity("carol", "free"), upstream: json({ usage: { total_tokens: 7 } }) });
  assert.equal(ok.response.status, 200);
  await host.grpcIdle();
  const labels = `model_name="${MODEL}",tier="free"`;
  let text = host.prometheus();
  assert.equal(sample(text, "kuadrant_limitador_call_duration_ms_count", labels), 2, "the check and the Report that answered after the request ended");
  assert.equal(sample(text, "inference_model_request_error_total", `${labels},error_class="report"`), undefined);
  const errorsBefore = host.stats.counter("wasmcustom.kuadrant.errors");

  answer = (req) => (req.method === "Report" ? { grpcError: 14, details: "limitador gone" } : { overall_code: "OK" });
  const lost = await host.request(chatRequest(), { ...identity("carol", "free"), upstream: json({ usage: { total_tokens: 9 } }) });
  assert.equal(lost.response.status, 200, "the response never waits for its Report");
  await host.grpcIdle();
  answer = () => ({ overall_code: "OK" });
  text = host.prometheus();
  assert.equal(sample(text, "inference_model_request_error_total", `${labels},error_class="report"`), 1);
  assert.equal(host.stats.counter("wasmcustom.kuadrant.errors"), errorsBefore + 1);
  assert.equal(sample(text, "kuadrant_limitador_call_duration_ms_count", labels), 4);
  assert.ok(host.logs.some((l) => l.level === 3 && l.message.includes("gRPC status 14 (limitador gone) after the request ended: its hits were not counted")), host.logText(3).join("\n"));
  assert.deepEqual(limitador.requests.slice(seen).filter((r) => r.method === "Report").map((r) => r.hits_addend), [7, 9]);
  host.close();
});
