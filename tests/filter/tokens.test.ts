// TokenRateLimitPolicy: CheckRateLimit before, Report with the token count after, from JSON
// bodies and from SSE streams that are never held back (design §3.5).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestLimitador, type Answer, type DecodedRequest } from "../helpers/test-limitador.js";
import { startFilter, configFixture, identity, chatRequest } from "../helpers/filter-host.js";
import { FILTER_STATS_TAGS } from "../../host/stats-tags.js";

let answer: (req: DecodedRequest) => Answer = () => ({ overall_code: "OK" });
let limitador: Awaited<ReturnType<typeof startTestLimitador>>;
before(async () => { limitador = await startTestLimitador((req) => answer(req)); });
after(() => limitador.close());

const tokens = configFixture("maas-tokens");
let hostInUse: Awaited<ReturnType<typeof startFilter>> | null = null;
const start = async (config: any = tokens) => (hostInUse = await startFilter(config, { clusters: { "kuadrant-ratelimit-service": limitador.address } }));

async function reportsAfter(fn: () => Promise<unknown>): Promise<DecodedRequest[]> {
  limitador.requests.length = 0;
  await fn();
  await hostInUse!.grpcIdle(); // the Report is fire-and-forget: wait until it has been answered
  return limitador.requests;
}

const openAiChunk = (extra: object) => `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "facebook-opt-125m-simulated", ...extra })}\n\n`;

test("JSON response: CheckRateLimit first, then Report with usage.total_tokens and the labels", async () => {
  const host = await start();
  const requests = await reportsAfter(() => host.request(chatRequest(), {
    ...identity("alice", "free"),
    upstream: () => ({ status: 200, headers: [["content-type", "application/json"]], body: ['{"id":"c","model":"facebook-opt-125m-simulated","usage":{"prompt_tokens":21,', '"completion_tokens":355,"total_tokens":376}}'] }),
  }));
  assert.deepEqual(requests.map((r) => r.method), ["CheckRateLimit", "Report"]);
  assert.equal(requests[0].hits_addend, 0);
  const report = requests[1];
  assert.equal(report.hits_addend, 376);
  assert.deepEqual(report.descriptors, [
    { "tokenlimit.free__9c1e2a7b": "1", "auth.identity.userid": "alice" },
    { user: "alice", tier: "free", model: "facebook-opt-125m-simulated" },
  ]);
  host.close();
});

test("SSE stream (OpenAI include_usage): Report from the usage chunk; every chunk passes through unheld", async () => {
  const host = await start();
  const chunks = [
    openAiChunk({ choices: [{ index: 0, delta: { content: "Hel" } }] }),
    openAiChunk({ choices: [{ index: 0, delta: { content: "lo" }, finish_reason: "stop" }] }),
    'data: {"id":"c","object":"chat.completion.chunk","choices":[],"us',
    'age":{"prompt_tokens":21,"completion_tokens":2,"total_tokens":23}}\r',
    "\n\r\ndata: [DONE]\r\n\r\n",
  ];
  const seen: string[] = [];
  const requests = await reportsAfter(() => host.request(chatRequest(), {
    ...identity("alice", "free"),
    onDownstreamData: (c) => seen.push(c.toString()),
    upstream: () => ({ status: 200, headers: [["content-type", "text/event-stream; charset=utf-8"]], body: chunks }),
  }));
  assert.deepEqual(seen, chunks, "each chunk is released as it arrives, unchanged");
  assert.equal(requests.find((r) => r.method === "Report")?.hits_addend, 23);
  host.close();
});

test("SSE stream (Anthropic): no total_tokens in the API, so input + output is reported", async () => {
  const host = await start();
  const events = [
    'event: message_start\ndata: {"type":"message_start","message":{"model":"claude","usage":{"input_tokens":25,"output_tokens":1}}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"Hi"}}\n\n',
    'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":15}}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ];
  const requests = await reportsAfter(() => host.request(chatRequest(undefined, "/llm/claude/v1/messages"), {
    ...identity("alice", "free"),
    upstream: () => ({ status: 200, headers: [["content-type", "text/event-stream"]], body: events }),
  }));
  assert.equal(requests.find((r) => r.method === "Report")?.hits_addend, 40);
  host.close();
});

test("SSE stream (OpenAI Responses API): usage from response.completed", async () => {
  const host = await start();
  const events = [
    'event: response.created\ndata: {"type":"response.created","response":{"model":"gpt","usage":null}}\n\n',
    'event: response.completed\ndata: {"type":"response.completed","response":{"model":"gpt","usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}}\n\n',
  ];
  const requests = await reportsAfter(() => host.request(chatRequest(undefined, "/llm/gpt/v1/responses"), {
    ...identity("alice", "free"),
    upstream: () => ({ status: 200, headers: [["content-type", "text/event-stream"]], body: events }),
  }));
  assert.equal(requests.find((r) => r.method === "Report")?.hits_addend, 15);
  host.close();
});

test("no usage, an error status or 0 tokens: no Report (Limitador would count 0 as 1)", async () => {
  const host = await start();
  const cases = [
    { status: 200, headers: [["content-type", "application/json"]] as Array<[string, string]>, body: '{"choices":[]}' },
    { status: 500, headers: [["content-type", "application/json"]] as Array<[string, string]>, body: '{"usage":{"total_tokens":9}}' },
    { status: 200, headers: [["content-type", "application/json"]] as Array<[string, string]>, body: '{"usage":{"total_tokens":0}}' },
    { status: 200, headers: [["content-type", "application/json"]] as Array<[string, string]>, body: '{"usage":' },
  ];
  for (const upstream of cases) {
    const requests = await reportsAfter(() => host.request(chatRequest(), { ...identity("alice", "free"), upstream: () => upstream }));
    assert.deepEqual(requests.map((r) => r.method), ["CheckRateLimit"], JSON.stringify(upstream));
  }
  host.close();
});

test("over the token budget: the check answers OVER_LIMIT → 429 and no Report", async () => {
  answer = (req) => ({ overall_code: req.method === "CheckRateLimit" ? "OVER_LIMIT" : "OK" });
  const host = await start();
  let response: any;
  const requests = await reportsAfter(async () => { ({ response } = await host.request(chatRequest(), { ...identity("alice", "free"), upstream: () => ({ status: 200 }) })); });
  assert.equal(response.status, 429);
  assert.deepEqual(requests.map((r) => r.method), ["CheckRateLimit"]);
  answer = () => ({ overall_code: "OK" });
  host.close();
});

test("a model label from responseBodyJSON('/model') is on the Report only, as with wasm-shim", async () => {
  const c = structuredClone(tokens);
  c.requestData["metrics.labels.model"] = 'responseBodyJSON("/model")';
  const host = await start(c);
  const requests = await reportsAfter(() => host.request(chatRequest(), {
    ...identity("alice", "free"),
    upstream: () => ({ status: 200, headers: [["content-type", "application/json"]], body: '{"model":"opt-125m","usage":{"total_tokens":5}}' }),
  }));
  assert.deepEqual(requests[0].descriptors[1], { user: "alice", tier: "free" });
  assert.deepEqual(requests[1].descriptors[1], { user: "alice", tier: "free", model: "opt-125m" });
  host.close();
});

test("the filter's own metrics: requests, tokens and limited calls by model and tier, extractable with stats_tags", async () => {
  const host = await startFilter(tokens, {
    clusters: { "kuadrant-ratelimit-service": limitador.address },
    statsTags: FILTER_STATS_TAGS,
  });
  const json = () => ({ status: 200, headers: [["content-type", "application/json"]] as Array<[string, string]>, body: '{"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}' });
  await host.request(chatRequest(), { ...identity("alice", "free"), upstream: json });
  await host.request(chatRequest(), { ...identity("bob", "premium"), upstream: json });
  answer = (req) => ({ overall_code: req.method === "CheckRateLimit" ? "OVER_LIMIT" : "OK" });
  await host.request(chatRequest(), { ...identity("alice", "free"), upstream: json });
  answer = () => ({ overall_code: "OK" });
  const text = host.prometheus();
  assert.match(text, /^inference_model_request_total\{model_name="facebook-opt-125m-simulated",tier="free",response_code="200"\} 1$/m);
  assert.match(text, /^inference_model_request_total\{model_name="facebook-opt-125m-simulated",tier="free",response_code="429"\} 1$/m);
  assert.match(text, /^inference_model_request_total\{model_name="facebook-opt-125m-simulated",tier="premium",response_code="200"\} 1$/m);
  assert.match(text, /^inference_model_rate_limited_total\{model_name="facebook-opt-125m-simulated",tier="free"\} 1$/m);
  assert.match(text, /^inference_model_input_tokens_sum\{model_name="facebook-opt-125m-simulated",tier="free"\} 7$/m);
  assert.match(text, /^inference_model_output_tokens_count\{model_name="facebook-opt-125m-simulated",tier="premium"\} 1$/m);
  assert.ok(!/user=/.test(text), "no per-user series unless enabled");
  host.close();
});

test("metric label sets are capped; the overflow is counted under 'other'", async () => {
  const host = await startFilter(tokens, { clusters: { "kuadrant-ratelimit-service": limitador.address }, vmConfig: '{"metricsMaxLabelSets": 2}',
    statsTags: FILTER_STATS_TAGS });
  for (const tier of ["a", "b", "c", "d"]) await host.request(chatRequest(), { ...identity("u", tier), upstream: () => ({ status: 200 }) });
  const series = host.prometheus().split("\n").filter((l) => l.startsWith("inference_model_request_total{"));
  assert.deepEqual(series.sort(), [
    'inference_model_request_total{model_name="facebook-opt-125m-simulated",tier="a",response_code="200"} 1',
    'inference_model_request_total{model_name="facebook-opt-125m-simulated",tier="b",response_code="200"} 1',
    'inference_model_request_total{model_name="other",tier="other",response_code="200"} 2',
  ]);
  host.close();
});

test("a JSON response without content-type is still read (as wasm-shim): the Report carries its tokens", async () => {
  const host = await start();
  const requests = await reportsAfter(() => host.request(chatRequest(), {
    ...identity("alice", "free"),
    upstream: () => ({ status: 200, headers: [], body: '{"id":"c","model":"facebook-opt-125m-simulated","usage":{"prompt_tokens":4,"completion_tokens":5,"total_tokens":9}}' }),
  }));
  assert.equal(requests.find((r) => r.method === "Report")?.hits_addend, 9);
  host.close();
});
