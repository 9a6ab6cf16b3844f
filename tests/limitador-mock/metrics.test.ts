// Metric names and labels exactly as Limitador exports them, with the user/tier/model labels from
// --metric-labels-default descriptors[1].
import { test } from "node:test";
import assert from "node:assert/strict";
import { startMock } from "../helpers/limitador-mock.js";

const LIMITS = `
- namespace: llm/facebook-opt-125m-simulated-kserve-route
  name: free
  max_value: 2
  seconds: 60
  conditions: ["descriptors[0]['limit.free__340814a7'] == '1'"]
  variables: ["descriptors[0]['auth.identity.userid']"]
`;
const NS = "llm/facebook-opt-125m-simulated-kserve-route";
const req = (user: string, model = "facebook-opt-125m-simulated"): Array<Record<string, string>> => [
  { "limit.free__340814a7": "1", "auth.identity.userid": user },
  { user, tier: "free", model },
];

test("the exposition our users document: authorized_calls / authorized_hits / limited_calls with model, tier, user, namespace", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  await m.client.shouldRateLimit(NS, req("alice"));
  await m.client.shouldRateLimit(NS, req("alice"));
  await m.client.shouldRateLimit(NS, req("alice"));
  await m.client.report(NS, req("alice"), 376);
  const text = await m.metrics();
  assert.match(text, /^# HELP authorized_calls Authorized calls\n# TYPE authorized_calls counter\nauthorized_calls\{model="facebook-opt-125m-simulated",tier="free",user="alice",limitador_namespace="llm\/facebook-opt-125m-simulated-kserve-route"\} 2$/m);
  assert.match(text, /^authorized_hits\{model="facebook-opt-125m-simulated",tier="free",user="alice",limitador_namespace="llm\/facebook-opt-125m-simulated-kserve-route"\} 378$/m);
  assert.match(text, /^limited_calls\{model="facebook-opt-125m-simulated",tier="free",user="alice",limitador_namespace="llm\/facebook-opt-125m-simulated-kserve-route"\} 1$/m);
  assert.match(text, /^limitador_up 1$/m);
  assert.match(text, /^datastore_partitioned 0$/m);
  assert.ok(!/_total/.test(text), "no _total suffix, as Limitador");
  await m.close();
});

test("right after start only the two gauges are present", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  const series = (await m.metrics()).split("\n").filter((l) => l && !l.startsWith("#"));
  assert.deepEqual(series.sort(), ["datastore_partitioned 0", "limitador_up 1"]);
  await m.close();
});

test("--limit-name-in-labels adds limit_name to limited_calls only", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]", limitNameInLabels: true });
  for (let i = 0; i < 3; i++) await m.client.shouldRateLimit(NS, req("bob"));
  const text = await m.metrics();
  assert.match(text, /^limited_calls\{model="facebook-opt-125m-simulated",tier="free",user="bob",limitador_namespace="[^"]+",limit_name="free"\} 1$/m);
  assert.match(text, /^authorized_calls\{model="facebook-opt-125m-simulated",tier="free",user="bob",limitador_namespace="[^"]+"\} 2$/m);
  await m.close();
});

test("without descriptors[1] (or without the flag) only limitador_namespace is a label; values are escaped", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  await m.client.shouldRateLimit(NS, [{ "limit.free__340814a7": "1", "auth.identity.userid": "x" }]);
  await m.client.shouldRateLimit(NS, [{ "limit.free__340814a7": "1", "auth.identity.userid": "y" }, { user: 'we"ird\\na\nme' }]);
  const text = await m.metrics();
  assert.match(text, /^authorized_calls\{limitador_namespace="[^"]+"\} 1$/m);
  assert.match(text, /^authorized_calls\{user="we\\"ird\\\\na\\nme",limitador_namespace="[^"]+"\} 1$/m);
  await m.close();
});

test("CheckRateLimit counts calls (not hits); Report counts hits only", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  await m.client.checkRateLimit(NS, req("carol"), 0);
  await m.client.report(NS, req("carol"), 10);
  const text = await m.metrics();
  assert.match(text, /^authorized_calls\{[^}]*user="carol"[^}]*\} 1$/m);
  assert.match(text, /^authorized_hits\{[^}]*user="carol"[^}]*\} 10$/m);
  await m.close();
});
