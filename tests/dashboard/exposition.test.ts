// The dashboard's reading of the Prometheus text format and its histogram_quantile, on the shapes
// the gateway (Envoy-style /stats/prometheus) and Limitador (prom-client) export.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseExposition } from "../../local/dashboard/exposition.js";
import { histogramQuantile, addBuckets, bucketIncrease } from "../../local/dashboard/quantile.js";
import { trafficRows, limitadorRows, limitRows } from "../../local/dashboard/view.js";

const GATEWAY = `# TYPE inference_model_request_duration_ms histogram
inference_model_request_duration_ms_bucket{model_name="opt",tier="free",user="alice",le="10"} 1
inference_model_request_duration_ms_bucket{model_name="opt",tier="free",user="alice",le="100"} 3
inference_model_request_duration_ms_bucket{model_name="opt",tier="free",user="alice",le="+Inf"} 4
inference_model_request_duration_ms_sum{model_name="opt",tier="free",user="alice"} 400
inference_model_request_duration_ms_count{model_name="opt",tier="free",user="alice"} 4
inference_model_request_duration_ms_bucket{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice",le="10"} 0
inference_model_request_duration_ms_bucket{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice",le="100"} 2
inference_model_request_duration_ms_bucket{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice",le="+Inf"} 2
inference_model_request_duration_ms_sum{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice"} 90
inference_model_request_duration_ms_count{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice"} 2
# TYPE inference_model_request_total counter
inference_model_request_total{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice",response_code="200"} 2
inference_model_request_total{model_name="opt",tier="free",user="alice",response_code="429"} 3
inference_model_request_total{model_name="opt",tier="unknown",response_code="401"} 1
# TYPE inference_model_output_tokens histogram
inference_model_output_tokens_bucket{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice",le="+Inf"} 2
inference_model_output_tokens_sum{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice"} 17
inference_model_output_tokens_count{model_name="opt",target_model_name="facebook/opt",tier="free",user="alice"} 2
`;

test("labelled histogram series stay apart, with their sums and counts; escapes are undone", () => {
  const e = parseExposition(GATEWAY + 'limitador_up 1\nweird{path="C:\\\\dir",msg="say \\"hi\\"\\n"} 2.5e1 1700000000000\n');
  const h = e.histograms.get("inference_model_request_duration_ms")!;
  assert.equal(h.length, 2);
  assert.deepEqual(h[0], { labels: { model_name: "opt", tier: "free", user: "alice" }, buckets: [[10, 1], [100, 3], [Infinity, 4]], sum: 400, count: 4 });
  assert.equal(h[1].labels.target_model_name, "facebook/opt");
  assert.deepEqual(e.samples.get("limitador_up"), [{ labels: {}, value: 1 }]);
  assert.deepEqual(e.samples.get("weird"), [{ labels: { path: "C:\\dir", msg: 'say "hi"\n' }, value: 25 }]);
});

test("a line that is not a sample is an error naming the line", () => {
  assert.throws(() => parseExposition("ok 1\nnot a sample at all\n"), /line 2: not a sample/);
  assert.throws(() => parseExposition('x{a="1" b="2"} 1\n'), /line 1: bad labels/);
});

test("histogram_quantile: interpolation inside the bucket, 0 as the first bucket's start, +Inf answers the highest finite bound", () => {
  const b: Array<[number, number]> = [[10, 1], [100, 3], [Infinity, 4]];
  assert.equal(histogramQuantile(0.25, b), 10); // rank 1 is the top of the first bucket
  assert.equal(histogramQuantile(0.125, b), 5); // rank 0.5 halfway into [0, 10]
  assert.equal(histogramQuantile(0.5, b), 55); // rank 2: halfway through (10, 100]
  assert.equal(histogramQuantile(0.99, b), 100); // in +Inf: the highest finite bound
  assert.ok(Number.isNaN(histogramQuantile(0.5, [[10, 0], [Infinity, 0]])), "no observations");
  assert.ok(Number.isNaN(histogramQuantile(0.5, [[10, 1]])), "no +Inf bucket");
  assert.equal(histogramQuantile(-1, b), -Infinity);
  assert.equal(histogramQuantile(2, b), Infinity);
  assert.equal(histogramQuantile(0.5, [[10, 2], [100, 1], [Infinity, 4]]), 10, "a falling cumulative count is raised to its predecessor");
});

test("buckets add across series and subtract across scrapes; a fall is a restart", () => {
  assert.deepEqual(addBuckets([[10, 1], [Infinity, 2]], [[10, 3], [Infinity, 3]]), [[10, 4], [Infinity, 5]]);
  assert.deepEqual(bucketIncrease([[10, 4], [Infinity, 6]], [[10, 1], [Infinity, 2]]), [[10, 3], [Infinity, 4]]);
  assert.deepEqual(bucketIncrease([[10, 1], [Infinity, 1]], [[10, 5], [Infinity, 9]]), [[10, 1], [Infinity, 1]]);
});

test("traffic rows sum over response_code and target_model_name, quantiles over the summed buckets", () => {
  const rows = trafficRows(parseExposition(GATEWAY));
  assert.deepEqual(rows.map((r) => [r.user, r.tier, r.model, r.requests, r.ok, r.limited, r.unauthorized, r.tokensOut, r.servedBy]), [
    ["", "unknown", "opt", 1, 0, 0, 1, 0, []],
    ["alice", "free", "opt", 5, 2, 3, 0, 17, ["facebook/opt"]],
  ]);
  const alice = rows[1];
  // Summed buckets: [10: 1, 100: 5, +Inf: 6] → p50 at rank 3 is in (10, 100]: 10 + 90 * 2/4.
  assert.equal(alice.latency.total.p50, 55);
  assert.equal(alice.latency.total.count, 6);
  assert.deepEqual(alice.latency.ttfb, { p50: null, p95: null, p99: null, count: 0 });
});

test("Limitador rows add limited_calls over limit_name; limits without a live counter show their whole budget", () => {
  const rows = limitadorRows(parseExposition(`# TYPE limited_calls counter
limited_calls{model="opt",tier="free",user="bob",limitador_namespace="llm/opt",limit_name="free"} 2
limited_calls{model="opt",tier="free",user="bob",limitador_namespace="llm/opt",limit_name="free-tokens"} 1
# TYPE authorized_hits counter
authorized_hits{model="opt",tier="free",user="bob",limitador_namespace="llm/opt"} 40
`));
  assert.deepEqual(rows, [{ user: "bob", tier: "free", model: "opt", namespace: "llm/opt", authorizedCalls: 0, authorizedHits: 40, limitedCalls: 3 }]);
  const limits = [{ namespace: "llm/opt", name: "free", max_value: 5, seconds: 60 }, { namespace: "llm/opt", name: "premium", max_value: 20, seconds: 60 }];
  const counters = [{ limit: limits[0], set_variables: { "descriptors[0]['auth.identity.userid']": "bob" }, remaining: 1, expires_in_seconds: 42 }];
  assert.deepEqual(limitRows(limits, counters), [
    { namespace: "llm/opt", limit: "free", max: 5, seconds: 60, who: "bob", used: 4, remaining: 1, resetsInSeconds: 42 },
    { namespace: "llm/opt", limit: "premium", max: 20, seconds: 60, who: "", used: 0, remaining: 20, resetsInSeconds: null },
  ]);
});

test("chart series: per-second rates and windowed quantiles from the scrapes in the window; a counter that falls restarted", async () => {
  const { History } = await import("../../local/dashboard/history.js");
  const scrapeAt = (ok: number, limited: number, le10: number, inf: number) => parseExposition(`# TYPE inference_model_request_total counter
inference_model_request_total{model_name="m",tier="t",response_code="200"} ${ok}
inference_model_request_total{model_name="m",tier="t",response_code="429"} ${limited}
# TYPE inference_model_request_duration_ms histogram
inference_model_request_duration_ms_bucket{model_name="m",tier="t",le="10"} ${le10}
inference_model_request_duration_ms_bucket{model_name="m",tier="t",le="+Inf"} ${inf}
inference_model_request_duration_ms_sum{model_name="m",tier="t"} 0
inference_model_request_duration_ms_count{model_name="m",tier="t"} ${inf}
`);
  const h = new History(10_000);
  h.add(0, scrapeAt(0, 0, 0, 0));
  h.add(5_000, scrapeAt(10, 5, 10, 10)); // 10 fast requests
  h.add(10_000, scrapeAt(20, 5, 10, 20)); // then 10 slow ones
  h.add(20_000, scrapeAt(3, 5, 10, 20)); // the gateway restarted: 3 since
  const s = h.series();
  assert.deepEqual(s.t, [5, 10, 20]);
  assert.deepEqual(s.responses.ok, [2, 2, 0.3]);
  assert.deepEqual(s.responses.limited, [1, 0.5, 0]);
  assert.equal(s.p50.total[0], 5, "first 5 s: all in [0, 10]");
  assert.equal(s.p99.total[1], 10, "over 10 s, half slow: p99 in +Inf → the highest finite bound");
  assert.equal(s.p50.total[2], null, "nothing observed in the last window");
});
