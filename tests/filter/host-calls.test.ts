// The host calls one MaaS request costs (auth, limit, token check, token report, JSON usage):
// the exact count by kind, deterministic, so a change that adds calls shows here. When a change
// removes calls, lower the figures. Bounds from issue 11: one header-map read per phase, one
// property read per attribute.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EnvoyHost } from "../../host/index.js";
import { filterWasm } from "../helpers/wasm.js";
import { chatRequest, inProcessClusters, upstreamChat } from "../../bench/scenarios.js";

const MAAS_CONFIG = readFileSync(fileURLToPath(new URL("../../local/config/plugin-config.json", import.meta.url)), "utf8");
const request = chatRequest("facebook-opt-125m-simulated");

/** Host calls of the next request, once the Report's reply has landed too. */
async function oneRequest(host: EnvoyHost) {
  const reads: string[] = [];
  host.vm.resetCounters();
  host.vm.onPropertyRead = (segments) => reads.push(segments.join("."));
  const { response } = await host.request(request, { upstream: upstreamChat });
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  host.vm.onPropertyRead = null;
  const calls: Record<string, number> = {};
  for (const [name, stats] of host.vm.hostCalls) if (stats.count > 0) calls[name] = stats.count;
  return { status: response.status, calls, reads };
}

test("a MaaS request makes exactly these host calls", async () => {
  const host = await EnvoyHost.start(filterWasm(), { pluginConfig: MAAS_CONFIG, clusters: inProcessClusters(), logLevel: 2 });
  assert.equal(host.configured, true);
  await oneRequest(host); // first request: metric definitions and other one-off work
  const { status, calls } = await oneRequest(host);
  assert.equal(status, 200);
  assert.deepEqual(calls, {
    proxy_get_header_map_pairs: 2, // request headers, response headers
    proxy_get_property: 12, // request.* ×10, source.address, destination.address (routing, auth CheckRequest)
    proxy_grpc_call: 4, // auth Check, ShouldRateLimit, CheckRateLimit, Report
    proxy_set_effective_context: 3, // replies to Check, ShouldRateLimit, CheckRateLimit (Report's outlives the stream)
    proxy_get_buffer_bytes: 4, // those three replies, the response body
    proxy_set_property: 1, // the identity for filters after us
    proxy_continue_stream: 1,
    proxy_replace_header_map_value: 1, // x-request-id on the response
    proxy_get_current_time_nanoseconds: 9, // once per callback that reads the clock (abi/hostcalls.ts caches it), the Report's late reply included
    proxy_increment_metric: 3, // inference_model_request_total; wasm-shim's kuadrant.hits and kuadrant.allowed
    proxy_record_metric: 9, // duration, upstream time to first byte, Limitador calls ×3 (the Report's when it answers, after on_log: filter/late-report.ts), request and response sizes, input and output tokens
  });
  host.close();
});

test("one header-map read per phase, one property read per attribute", async () => {
  const host = await EnvoyHost.start(filterWasm(), { pluginConfig: MAAS_CONFIG, clusters: inProcessClusters(), logLevel: 2 });
  await oneRequest(host);
  const { calls, reads } = await oneRequest(host);
  assert.ok((calls.proxy_get_header_map_pairs ?? 0) <= 2, `header maps read ${calls.proxy_get_header_map_pairs} times`);
  assert.equal(calls.proxy_get_header_map_value ?? 0, 0, "single header reads next to the map read");
  const repeated = reads.filter((path, i) => reads.indexOf(path) !== i);
  assert.deepEqual(repeated, [], `properties read more than once: ${repeated.join(", ")}`);
  assert.equal(calls.proxy_log ?? 0, 0, "an allowed request logs nothing at info level");
  host.close();
});
