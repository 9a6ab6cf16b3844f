// A real Prometheus (Debian `prometheus`) scrapes the mock; PromQL returns the per user/tier/model series.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startMock } from "../helpers/limitador-mock.js";
import { missing, startPrometheus, promqlEventually } from "../helpers/services.js";

const skip = missing("prometheus", "prometheus");
const LIMITS = `
- namespace: llm/route
  max_value: 2
  seconds: 60
  conditions: ["descriptors[0]['limit.free__340814a7'] == '1'"]
  variables: ["descriptors[0]['auth.identity.userid']"]
`;

test("sum by (user, tier, model) (authorized_calls) from a real Prometheus", { skip }, async (t) => {
  const m = await startMock(t, LIMITS, { metricLabelsDefault: "descriptors[1]" });
  const send = (user: string, tier: string, model: string) => m.client.shouldRateLimit("llm/route", [{ "limit.free__340814a7": tier === "free" ? "1" : "0", "auth.identity.userid": user }, { user, tier, model }]);
  for (let i = 0; i < 3; i++) await send("alice", "free", "opt-125m");
  await send("bob", "premium", "opt-125m");
  await send("bob", "premium", "granite");
  const prom = await startPrometheus([`127.0.0.1:${m.mock.httpPort}`]);
  t.after(() => prom.stop());
  const result = await promqlEventually(prom, "sum by (user, tier, model) (authorized_calls)", (r) => r.length === 3);
  const got = Object.fromEntries(result.map((s: any) => [`${s.metric.user}/${s.metric.tier}/${s.metric.model}`, Number(s.value[1])]));
  assert.deepEqual(got, { "alice/free/opt-125m": 2, "bob/premium/opt-125m": 1, "bob/premium/granite": 1 });
  const limited = await prom.query("sum by (user) (limited_calls)");
  assert.deepEqual(limited.map((s: any) => [s.metric.user, Number(s.value[1])]), [["alice", 1]]);
});
