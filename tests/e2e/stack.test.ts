// End to end, black box: the local stack as `npm start` runs it, real HTTP in, real gRPC between
// the components, metrics out (issue "The local stack and end-to-end").
import { test } from "node:test";
import assert from "node:assert/strict";
import { startStackProcess, generousPluginConfig } from "../helpers/stack-process.js";
import { missing, startPrometheus, promqlEventually } from "../helpers/services.js";
import { eventually } from "../helpers/eventually.js";

const NS = "llm/facebook-opt-125m-simulated-kserve-route";
const line = (metric: string, user: string, tier: string, value: number, model = "facebook-opt-125m-simulated") =>
  new RegExp(`^${metric}\\{model="${model}",tier="${tier}",user="${user}",limitador_namespace="${NS.replace(/\//g, "\\/")}"\\} ${value}$`, "m");

test("users of each tier, requests until 429, a bad key gets 401 and is not counted, exact metric lines", async (t) => {
  const s = await startStackProcess(t);
  // alice (free): 5 requests per minute on this model, then 429 with Limitador's headers.
  const statuses: number[] = [];
  let usage = 0;
  for (let i = 0; i < 7; i++) {
    const res = await s.chat("alice-free-key");
    statuses.push(res.status);
    if (res.status === 200) usage += (await res.json()).usage.total_tokens;
    else {
      assert.equal(await res.text(), "Too Many Requests\n");
      assert.equal(res.headers.get("x-ratelimit-remaining"), "0");
    }
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  // carol (premium) and dave (enterprise) are well within their limits.
  for (const key of ["carol-premium-key", "dave-enterprise-key"]) assert.equal((await s.chat(key)).status, 200);
  // No key / an unknown key: Authorino's 401, never reaching Limitador.
  const before = await s.limitadorMetrics();
  const denied = await s.chat("nobody-key");
  assert.equal(denied.status, 401);
  assert.match(denied.headers.get("www-authenticate") ?? "", /APIKEY/);
  assert.equal((await s.chat(null)).status, 401);
  // Reports are fire-and-forget: wait until alice's tokens have arrived.
  const text = await eventually(async () => { const t = await s.limitadorMetrics(); return line("authorized_hits", "alice", "free", 5 + usage).test(t) && t; }, "alice's token Reports");
  const series = (t: string) => t.split("\n").filter((l) => /^(authorized|limited)_/.test(l) && !/user="(alice|carol|dave)"/.test(l));
  assert.deepEqual(series(text), series(before), "the 401s added no series");
  assert.ok(!/nobody/.test(text));
  // The documented lines: ShouldRateLimit + CheckRateLimit per allowed request; hits = 1 per request + reported tokens.
  assert.match(text, line("authorized_calls", "alice", "free", 10));
  assert.match(text, line("authorized_hits", "alice", "free", 5 + usage));
  assert.match(text, /^limited_calls\{model="facebook-opt-125m-simulated",tier="free",user="alice",limitador_namespace="llm\/facebook-opt-125m-simulated-kserve-route",limit_name="free"\} 2$/m);
  assert.match(text, line("authorized_calls", "carol", "premium", 2));
  assert.match(text, line("authorized_calls", "dave", "enterprise", 2));
});

test("streaming: SSE chunks pass through as they come and the token Report matches the usage chunk", async (t) => {
  const s = await startStackProcess(t);
  const res = await s.chat("dave-enterprise-key", "qwen3-0-6b-instruct-simulated", { stream: true, stream_options: { include_usage: true } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const body = await res.text();
  const events = body.split("\n\n").filter(Boolean);
  assert.equal(events.at(-1), "data: [DONE]");
  const usage = JSON.parse(events.at(-2)!.slice(6)).usage;
  const text = await eventually(async () => { const t = await s.limitadorMetrics(); return /^authorized_hits\{[^}]*user="dave"[^}]*\} (?!1$)\d+$/m.test(t) && t; }, "dave's token Report");
  assert.match(text, new RegExp(`^authorized_hits\\{model="qwen3-0-6b-instruct-simulated",tier="enterprise",user="dave",limitador_namespace="llm/qwen3-0-6b-instruct-simulated-kserve-route"\\} ${1 + usage.total_tokens}$`, "m"));
  assert.match(await s.gatewayMetrics(), new RegExp(`^inference_model_output_tokens_sum\\{model_name="qwen3-0-6b-instruct-simulated",target_model_name="qwen3-0-6b-instruct-simulated",tier="enterprise",user="dave"\\} ${usage.completion_tokens}$`, "m"));
});

test("a real Prometheus scraping the stack answers sum by (user, tier, model) (authorized_hits)", { skip: missing("prometheus", "prometheus") }, async (t) => {
  const s = await startStackProcess(t);
  const expected: Record<string, number> = {};
  for (const key of ["alice-free-key", "bob-free-key", "carol-premium-key"]) {
    for (let i = 0; i < 2; i++) {
      const res = await s.chat(key);
      assert.equal(res.status, 200);
      const user = key.split("-")[0];
      expected[user] = (expected[user] ?? 0) + 1 + (await res.json()).usage.total_tokens;
    }
  }
  // Every Report has arrived before Prometheus scrapes, so its answer can be exact.
  await eventually(async () => {
    const t = await s.limitadorMetrics();
    return Object.entries(expected).every(([user, hits]) => new RegExp(`^authorized_hits\\{[^}]*user="${user}"[^}]*\\} ${hits}$`, "m").test(t));
  }, "every token Report");
  const prom = await startPrometheus([`127.0.0.1:${s.ports.limitadorHttp}`]);
  t.after(() => prom.stop());
  const result = await promqlEventually(prom, "sum by (user, tier, model) (authorized_hits)",
    (r) => r.length === 3 && r.every((x: any) => Number(x.value[1]) === expected[x.metric.user]));
  const exposed = await s.limitadorMetrics();
  for (const r of result) {
    const m = new RegExp(`^authorized_hits\\{model="${r.metric.model}",tier="${r.metric.tier}",user="${r.metric.user}",[^}]*\\} (\\d+)$`, "m").exec(exposed);
    assert.ok(m, `series for ${JSON.stringify(r.metric)}`);
    assert.equal(Number(r.value[1]), Number(m![1]));
  }
  assert.deepEqual(result.map((r: any) => r.metric.user).sort(), ["alice", "bob", "carol"]);
  const gatewayProm = await startPrometheus([`127.0.0.1:${s.ports.admin}`], "/stats/prometheus");
  t.after(() => gatewayProm.stop());
  const requests = await promqlEventually(gatewayProm, "sum by (tier) (inference_model_request_total)", (r) => r.length === 2);
  assert.deepEqual(Object.fromEntries(requests.map((r: any) => [r.metric.tier, Number(r.value[1])])), { free: 4, premium: 2 });
});

test("--ext-authz: Envoy's ext_authz in front, identity from its dynamic metadata (Istio without Kuadrant)", async (t) => {
  const pluginConfig = generousPluginConfig((config) => {
    for (const set of config.actionSets) set.actions = set.actions.filter((a: any) => a.service !== "auth-service");
  });
  const s = await startStackProcess(t, ["--ext-authz", "--plugin-config", pluginConfig]);
  assert.equal((await s.chat("nobody")).status, 401);
  assert.equal((await s.chat("bob-free-key")).status, 200);
  assert.match(await s.limitadorMetrics(), line("authorized_calls", "bob", "free", 2));
});

test("a busy port is reported clearly and nothing is left running", async (t) => {
  const net = await import("node:net");
  const blocker = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => blocker.once("listening", r));
  t.after(() => blocker.close());
  const port = (blocker.address() as import("node:net").AddressInfo).port;
  await assert.rejects(startStackProcess(t, ["--model-port", String(port)]), /port \d+ \(model simulator\) is already in use: stop what listens there, or pass --model-port <port>/);
});
