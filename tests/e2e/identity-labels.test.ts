// Who the caller is comes from Authorino alone: no client header, query or body can set `user` or
// `tier`. Identity values a real IdP may hold (quotes, backslashes, newlines, braces, 10 KB) are
// escaped in every exposition (gateway /stats/prometheus, limitador-mock /metrics), bounded where
// we bound them, and both stay parseable by Prometheus's own parser (promtool) and scrapes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStackProcess } from "../helpers/stack-process.js";
import { missing, startPrometheus, promqlEventually } from "../helpers/services.js";
import { parseExposition, sum } from "../../local/soak/exposition.js";

const ODD_USER = 'o"brien\\x\n{admin}';
const LONG_USER = `long-${"u".repeat(10240)}`;
const ODD_TIER = 'gold"\\\n{x}';

function apiKeys(): string {
  const entries = [
    { key: "alice-free-key", userid: "alice", tier: "free" },
    { key: "dave-enterprise-key", userid: "dave", tier: "enterprise" },
    { key: "odd-key", userid: ODD_USER, tier: "free" },
    { key: "long-key", userid: LONG_USER, tier: "free" },
    { key: "odd-tier-key", userid: "olga", tier: ODD_TIER },
  ];
  const file = join(mkdtempSync(join(tmpdir(), "keys-")), "api-keys.yaml");
  // YAML is a superset of JSON: JSON strings carry every character exactly.
  writeFileSync(file, entries.map((e) => `- key: ${JSON.stringify(e.key)}\n  userid: ${JSON.stringify(e.userid)}\n  tier: ${JSON.stringify(e.tier)}\n`).join(""));
  return file;
}

/** Prometheus's own parser: exit 1 is a parse error; 3 only lint advice (e.g. Limitador's names without _total). */
function promtoolParses(text: string): string | null {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return r.status === 0 || (r.status === 3 && !/error while linting/.test(r.stderr + r.stdout)) ? null : `${r.status}: ${r.stderr}${r.stdout}`.slice(0, 500);
}

test("no client header, query or body can set user or tier", async (t) => {
  const s = await startStackProcess(t, ["--api-keys", apiKeys()]);
  const forged = {
    "x-user": "dave", "x-tier": "enterprise", "x-auth-identity-userid": "dave", "x-auth-identity-tier": "enterprise",
    "x-kuadrant-user": "dave", "x-envoy-auth-user": "dave", "x-ext-authz-identity": '{"userid":"dave","tier":"enterprise"}',
    "x-forwarded-user": "dave", "x-remote-user": "dave",
  };
  const res = await fetch(`${s.gateway}/llm/facebook-opt-125m-simulated/v1/chat/completions?user=dave&tier=enterprise`, {
    method: "POST",
    headers: { authorization: "APIKEY alice-free-key", "content-type": "application/json", ...forged },
    body: JSON.stringify({ model: "facebook-opt-125m-simulated", user: "dave", tier: "enterprise", auth: { identity: { userid: "dave", tier: "enterprise" } }, metadata: { userid: "dave" }, messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(res.status, 200);
  await res.text();
  // Forged identity without a key is still 401; a second Authorization header does not help either.
  const noKey = await fetch(`${s.gateway}/llm/facebook-opt-125m-simulated/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...forged }, body: "{}" });
  assert.equal(noKey.status, 401);
  const metrics = parseExposition(await s.limitadorMetrics());
  const users = new Set(metrics.filter((m) => m.name === "authorized_calls").map((m) => `${m.labels.user}/${m.labels.tier}`));
  assert.deepEqual([...users], ["alice/free"]);
  const gateway = parseExposition(await s.gatewayMetrics());
  assert.deepEqual([...new Set(gateway.filter((m) => m.name === "inference_model_request_total").map((m) => m.labels.tier))].sort(), ["free", "unknown"]);
});

test("odd and 10 KB label values: escaped in both expositions, bounded in the gateway's, parseable by promtool and a real Prometheus", { skip: missing("prometheus", "prometheus") }, async (t) => {
  const s = await startStackProcess(t, ["--api-keys", apiKeys()]);
  for (const key of ["odd-key", "long-key", "odd-tier-key", "alice-free-key"]) {
    const res = await s.chat(key);
    assert.equal(res.status, 200, key);
    await res.text();
  }
  // limitador-mock: the user label round-trips exactly (escaped \", \\, \n; braces as they are).
  const limitadorText = await s.limitadorMetrics();
  const limitador = parseExposition(limitadorText);
  assert.equal(sum(limitador, "authorized_calls", { user: ODD_USER }), 2);
  assert.equal(sum(limitador, "authorized_calls", { user: LONG_USER }), 2);
  assert.ok(limitadorText.includes('user="o\\"brien\\\\x\\n{admin}"'), "escaped as the text format requires");
  assert.equal(promtoolParses(limitadorText), null);
  // The gateway: the filter bounds label values (64 characters, control characters replaced);
  // the admin listener escapes what is left.
  const gatewayText = await s.gatewayMetrics();
  const gateway = parseExposition(gatewayText);
  const tiers = [...new Set(gateway.filter((m) => m.name === "inference_model_request_total").map((m) => m.labels.tier))];
  const odd = tiers.find((x) => x.startsWith("gold"));
  assert.ok(odd, `tiers: ${JSON.stringify(tiers)}`);
  assert.ok(odd!.includes('"') && odd!.includes("\\") && odd!.includes("{x}"), `kept: ${JSON.stringify(odd)}`);
  for (const m of gateway) for (const v of Object.values(m.labels)) assert.ok(v.length <= 64 && !v.includes("\n"), `bounded: ${JSON.stringify(v).slice(0, 80)}`);
  assert.equal(promtoolParses(gatewayText), null);
  // A real Prometheus scrapes both after that traffic and finds the values intact.
  const prom = await startPrometheus([`127.0.0.1:${s.ports.limitadorHttp}`]);
  t.after(() => prom.stop());
  await promqlEventually(prom, `authorized_calls{user=${JSON.stringify(ODD_USER)}}`, (r) => r.length === 1 && r[0].value[1] === "2");
  await promqlEventually(prom, "up", (r) => r.length === 1 && r[0].value[1] === "1");
  const gatewayProm = await startPrometheus([`127.0.0.1:${s.ports.admin}`], "/stats/prometheus");
  t.after(() => gatewayProm.stop());
  await promqlEventually(gatewayProm, `inference_model_request_total{tier=${JSON.stringify(odd)}}`, (r) => r.length === 1);
  await promqlEventually(gatewayProm, "up", (r) => r.length === 1 && r[0].value[1] === "1");
});
