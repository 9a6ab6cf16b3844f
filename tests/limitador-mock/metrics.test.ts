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

test("11: at start only limitador_up and datastore_partitioned; a counter family appears on its first increment", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  assert.equal(await m.metrics(), "# HELP limitador_up Limitador is running\n# TYPE limitador_up gauge\nlimitador_up 1\n\n# HELP datastore_partitioned Limitador is partitioned from backing datastore\n# TYPE datastore_partitioned gauge\ndatastore_partitioned 0\n\n");
  await m.client.checkRateLimit(NS, req("zed"));
  const text = await m.metrics();
  assert.match(text, /^# TYPE authorized_calls counter$/m);
  assert.ok(!/authorized_hits|limited_calls/.test(text), "CheckRateLimit touched authorized_calls only");
});

test("12: authorized_hits has no HELP line; every family ends with a blank line", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  for (let i = 0; i < 3; i++) await m.client.shouldRateLimit(NS, req("amy"));
  const text = await m.metrics();
  assert.match(text, /(^|\n\n)# TYPE authorized_hits counter\nauthorized_hits\{[^\n]+\} 2\n\n/);
  assert.ok(!text.includes("# HELP authorized_hits"));
  const blocks = text.split("\n\n").filter(Boolean);
  assert.deepEqual(blocks.map((b) => /# TYPE (\S+)/.exec(b)![1]), ["authorized_calls", "authorized_hits", "limited_calls", "limitador_up", "datastore_partitioned"]);
  assert.ok(text.endsWith("\n\n"));
});

test("13: label names are sanitised as the exporter does ([a-zA-Z_][a-zA-Z0-9_]*, per character)", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  await m.client.shouldRateLimit("other", [{}, { "9lives": "a", "req.method": "b", "x-y": "c", "ünï": "d", ok_1: "e" }]);
  assert.match(await m.metrics(), /^authorized_calls\{_lives="a",ok_1="e",req_method="b",x_y="c",_n_="d",limitador_namespace="other"\} 1$/m);
});

test("14: label values are escaped as Limitador's exporter escapes them, backslash quirks included", async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  const cases: Array<[string, string]> = [
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["one\\back", "one\\\\back"], // a lone backslash is escaped
    ["two\\\\back", "two\\\\back"], // two backslashes print as one escaped backslash: read back, one is lost
    ['a\\"b', 'a\\"b'], // backslash-quote: the backslash is dropped
    ["a\\\nb", "a\\n\\\\b"], // backslash-newline: the newline is written first, the backslash after it
    ["end\\", "end\\\\"],
    ["line\nbreak", "line\\nbreak"],
  ];
  for (const [i, [value]] of cases.entries()) await m.client.shouldRateLimit(`esc${i}`, [{}, { v: value }]);
  const text = await m.metrics();
  for (const [i, [value, shown]] of cases.entries()) {
    const line = text.split("\n").find((l) => l.startsWith("authorized_calls{") && l.includes(`limitador_namespace="esc${i}"`));
    assert.equal(line, `authorized_calls{v="${shown}",limitador_namespace="esc${i}"} 1`, JSON.stringify(value));
  }
});

test("-L custom labels come after the default ones; one that does not resolve is left out; the file is reloaded", async (t) => {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const m0 = await startMock(t, LIMITS);
  const labels = join(m0.dir, "labels.yaml");
  writeFileSync(labels, "tier0: descriptors[0].tier\nmissing: descriptors[0].nope\nconst: \"'x' + 'y'\"\nbroken: \"descriptors[\"\n");
  await m0.close();
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]", customMetricLabels: labels });
  assert.ok(m.logs.some((l) => /Failed to parse custom label `broken`/.test(l)), m.logs.join("\n"));
  await m.client.shouldRateLimit("other", [{ tier: "gold" }, { user: "u" }]);
  assert.match(await m.metrics(), /^authorized_calls\{user="u",const="xy",tier0="gold",limitador_namespace="other"\} 1$/m);
  writeFileSync(labels, "model: descriptors[1].model\n");
  const end = Date.now() + 10000;
  while (!m.logs.includes("custom labels reloaded") && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await m.client.shouldRateLimit("other", [{ tier: "gold" }, { user: "v", model: "m" }]);
  // `model` from both sources: one label, where it first appeared, with the custom file's value.
  assert.match(await m.metrics(), /^authorized_calls\{model="m",user="v",limitador_namespace="other"\} 1$/m);
});
