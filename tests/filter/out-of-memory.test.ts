// When linear memory cannot grow (Envoy's or the module's limit), the filter's allocator says so
// in a critical log line before it traps, so the failure policy that follows has a reason in the
// log. The fixture is the release filter with its memory capped at 24 pages (1.5 MiB): a JSON
// answer of ~1 MB, buffered for its usage and decoded, needs more.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EnvoyHost } from "../../host/index.js";
import { fixtureWasm } from "../helpers/wasm.js";
import { chatRequest, inProcessClusters, upstreamChat } from "../../bench/scenarios.js";

const MAAS_CONFIG = readFileSync(fileURLToPath(new URL("../../local/config/plugin-config.json", import.meta.url)), "utf8");

test("out of memory: a critical log line names it, then the VM fails by its policy (FAIL_CLOSED: 503 from then on)", async () => {
  const host = await EnvoyHost.start(fixtureWasm("filter-24-pages"), { pluginConfig: MAAS_CONFIG, clusters: inProcessClusters(), logLevel: 2 });
  assert.equal(host.configured, true);
  const request = chatRequest("facebook-opt-125m-simulated");
  const normal = await host.request(request, { upstream: upstreamChat });
  assert.equal(normal.response.status, 200, "an ordinary request fits in 24 pages");
  const huge = JSON.stringify({ usage: { total_tokens: 3 }, choices: [{ message: { content: "x".repeat(1_000_000) } }] });
  await host.request(request, { upstream: () => ({ status: 200, headers: [["content-type", "application/json"]], body: huge }) });
  assert.ok(host.logs.some((l) => l.level === 5 && l.message === "filter: out of memory (linear memory cannot grow)"), host.logText(4).join("\n"));
  assert.equal(host.vm.failed, true);
  const after = await host.request(request, { upstream: upstreamChat });
  assert.equal(after.response.status, 503);
  host.close();
});
