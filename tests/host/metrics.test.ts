// Metrics: ids, wasmcustom. names, Envoy's counter rules, /stats/prometheus with stats_tags (research §4).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost, StatsStore, extractTags } from "../../host/index.js";
import { MetricRegistry } from "../../host/stats.js";
import { fixtureWasm, GET } from "../helpers/wasm.js";

test("metric ids encode the type: counters 4, 8…, gauges 5…, histograms 6…", async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"), { logLevel: 0 });
  assert.ok(host.logs.some((l) => l.message === "metrics 4 5 6 8"));
  assert.deepEqual(host.stats.names(), ["wasmcustom.probe_body_bytes", "wasmcustom.probe_inflight",
    "wasmcustom.probe_model=.=opt-125m;.;probe_tier=.=free;.;probe_tagged", "wasmcustom.probe_requests"]);
  host.close();
});

test("counters, gauges and histograms move as the filter records them", async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"));
  for (let i = 0; i < 3; i++) {
    await host.request({ headers: [[":method", "POST"], [":path", "/m"], [":authority", "h"], ["x-probe", "metrics"]], body: "x".repeat(10 * (i + 1)) }, { upstream: () => ({ status: 200 }) });
  }
  assert.equal(host.stats.counter("wasmcustom.probe_requests"), 3);
  assert.equal(host.stats.gauge("wasmcustom.probe_inflight"), 0);
  assert.deepEqual(host.stats.histogram("wasmcustom.probe_body_bytes"), [10, 20, 30]);
  host.close();
});

test("Envoy rules: a counter delta of 0 or less is BAD_ARGUMENT; increment on a histogram is BAD_ARGUMENT; unknown id NOT_FOUND", () => {
  const reg = new MetricRegistry(new StatsStore());
  const c = reg.define(0, "c").id!, h = reg.define(2, "h").id!, g = reg.define(1, "g").id!;
  assert.equal(reg.increment(c, 0n), 2);
  assert.equal(reg.increment(c, -1n), 2);
  assert.equal(reg.increment(c, 5n), 0);
  assert.equal(reg.increment(h, 1n), 2);
  assert.equal(reg.increment(g, -3n), 0);
  assert.equal(reg.increment(999, 1n), 1);
  assert.equal(reg.define(3, "bad").status, 2);
  assert.deepEqual(reg.get(h), { status: 2 });
});

test("/stats/prometheus strips wasmcustom., extracts stats_tags (group 1 removed, group 2 the value)", async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"), {
    statsTags: [
      { tagName: "model", regex: "(probe_model=\\.=(.*?);\\.;)" },
      { tagName: "tier", regex: "(probe_tier=\\.=(.*?);\\.;)" },
    ],
  });
  await host.request({ headers: [[":method", "POST"], [":path", "/m"], [":authority", "h"], ["x-probe", "metrics"]], body: "x" }, { upstream: () => ({ status: 200 }) });
  const text = host.prometheus();
  assert.match(text, /^# TYPE probe_tagged counter\nprobe_tagged\{model="opt-125m",tier="free"\} 2$/m);
  assert.match(text, /^probe_requests 1$/m);
  assert.match(text, /^probe_body_bytes_bucket\{le="0\.5"\} 0$/m);
  assert.match(text, /^probe_body_bytes_bucket\{le="1"\} 1$/m);
  assert.match(text, /^probe_body_bytes_sum 1$/m);
  assert.match(text, /^probe_body_bytes_count 1$/m);
  host.close();
});

test("without a matching stats_tag the label-like text stays in the (sanitized) name", () => {
  const store = new StatsStore();
  store.ensure("wasmcustom.a=.=b;.;x", "counter").value = 1n;
  assert.match(store.prometheus(), /^a___b___x 1$/m);
  assert.deepEqual(extractTags("wasmcustom.k=.=v;.;n", [{ tagName: "k", regex: "(k=\\.=(.*?);\\.;)" }]), { name: "wasmcustom.n", labels: [["k", "v"]] });
});

test("a histogram keeps bucket counts, sum and count, not its samples: memory stays flat on a long-running gateway", () => {
  const store = new StatsStore();
  const reg = new MetricRegistry(store);
  const h = reg.define(2, "latency").id!;
  for (let i = 1; i <= 5000; i++) assert.equal(reg.record(h, BigInt(i)), 0);
  const text = store.prometheus();
  assert.match(text, /^latency_bucket\{le="1000"\} 1000$/m);
  assert.match(text, /^latency_bucket\{le="2500"\} 2500$/m);
  assert.match(text, /^latency_bucket\{le="5000"\} 5000$/m);
  assert.match(text, /^latency_bucket\{le="\+Inf"\} 5000$/m);
  assert.match(text, /^latency_sum 12502500$/m);
  assert.match(text, /^latency_count 5000$/m);
  assert.equal(store.histogramCount("wasmcustom.latency"), 5000);
  const recent = store.histogram("wasmcustom.latency");
  assert.equal(recent.length, 1024);
  assert.deepEqual([recent[0], recent[1023]], [3977, 5000]);
});
