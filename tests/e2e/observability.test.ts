// The cluster observability pack against the real thing: a Prometheus (Debian's) scrapes the
// running stack (the gateway's /stats/prometheus and Limitador's /metrics) with the alert rules
// loaded, `npm run traffic` runs, and then every Grafana panel query and every alert's measure
// returns data, every rule evaluates without error, and the local dashboard's numbers are the ones
// Prometheus computes from the same scrape.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { startStackProcess } from "../helpers/stack-process.js";
import { missing } from "../helpers/services.js";
import { unusedAddress } from "../helpers/raw-grpc-server.js";
import { GRAFANA_JSON, PROMETHEUS_RULE_YAML } from "../../envoy/observability/render.js";
import { ALERTS } from "../../envoy/observability/rules.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Prometheus with the two scrape jobs a cluster has (job names as Kuadrant's monitors make them) and our rules. */
async function startPrometheus(gateway: string, limitador: string) {
  const dir = mkdtempSync(join(tmpdir(), "prometheus-pack-"));
  writeFileSync(join(dir, "rules.yaml"), stringify(parse(readFileSync(PROMETHEUS_RULE_YAML, "utf8")).spec));
  writeFileSync(join(dir, "prometheus.yml"), stringify({
    global: { scrape_interval: "1s", evaluation_interval: "1s" },
    rule_files: [join(dir, "rules.yaml")],
    scrape_configs: [
      { job_name: "gateway", metrics_path: "/stats/prometheus", static_configs: [{ targets: [gateway] }] },
      { job_name: "kuadrant-system/kuadrant-limitador-monitor", static_configs: [{ targets: [limitador] }] },
    ],
  }));
  const port = Number((await unusedAddress()).split(":")[1]);
  const child = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 30000;
  while (!(await fetch(`${url}/-/ready`).then((r) => r.ok, () => false))) {
    if (Date.now() > end || child.exitCode !== null) throw new Error("prometheus did not start");
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    query: async (q: string): Promise<any[]> => {
      const res = await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)).json();
      if (res.status !== "success") throw new Error(`PromQL failed: ${q}\n${JSON.stringify(res)}`);
      return res.data.resultType === "scalar" ? [{ value: res.data.result }] : res.data.result;
    },
    stop: () => new Promise<void>((resolve) => { if (child.exitCode !== null) return resolve(); child.once("exit", () => resolve()); child.kill("SIGTERM"); }),
  };
}

function runTraffic(ports: Record<string, number>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "local/traffic.ts"), "--gateway", `http://127.0.0.1:${ports.gateway}`,
      "--admin", `http://127.0.0.1:${ports.admin}`, "--limitador-http", `http://127.0.0.1:${ports.limitadorHttp}`], { stdio: "ignore" });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`traffic exited ${code}`))));
  });
}

/** Grafana's variables, as the dashboard's defaults ("All") and a range covering the test. */
const grafanaVars = (expr: string) => expr.replaceAll("$__rate_interval", "1m").replaceAll("$__range", "10m").replaceAll("$model", ".*").replaceAll("$tier", ".*");
const finite = (r: any[]) => r.some((s) => Number.isFinite(Number(s.value[1])));

test("every Grafana panel and alert measure returns data from a Prometheus that scraped the stack; the rules evaluate cleanly; the dashboard agrees with PromQL",
  { skip: missing("prometheus", "prometheus"), timeout: 240000 }, async (t) => {
    const s = await startStackProcess(t);
    const prom = await startPrometheus(`127.0.0.1:${s.ports.admin}`, `127.0.0.1:${s.ports.limitadorHttp}`);
    t.after(() => prom.stop());
    // Prometheus sees the stack before the traffic, so rates and increases cover it.
    const upEnd = Date.now() + 30000;
    while ((await prom.query("up == 1")).length < 2) {
      assert.ok(Date.now() < upEnd, "both targets up");
      await new Promise((r) => setTimeout(r, 300));
    }
    await runTraffic(s.ports);
    await runTraffic(s.ports);
    await new Promise((r) => setTimeout(r, 300)); // the token Reports are fire-and-forget
    const exposed = await s.gatewayMetrics();
    const requests = exposed.split("\n").filter((l) => l.startsWith("inference_model_request_total{")).reduce((n, l) => n + Number(l.split(" ").pop()), 0);
    const end = Date.now() + 30000;
    while (Number((await prom.query("sum(inference_model_request_total)"))[0]?.value[1]) !== requests) {
      assert.ok(Date.now() < end, "Prometheus caught up with the gateway");
      await new Promise((r) => setTimeout(r, 300));
    }
    await new Promise((r) => setTimeout(r, 2500)); // a few more scrapes and rule evaluations

    const dashboard = JSON.parse(readFileSync(GRAFANA_JSON, "utf8"));
    const empty: string[] = [];
    let count = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        count++;
        const result = await prom.query(grafanaVars(target.expr));
        if (!finite(result)) empty.push(`${panel.title} [${target.refId}]: ${target.expr}`);
      }
    }
    for (const v of dashboard.templating.list.filter((x: any) => x.type === "query")) {
      const [, metric, label] = /^label_values\((\w+), (\w+)\)$/.exec(v.definition)!;
      const values = await (await fetch(`${prom.url}/api/v1/label/${label}/values?match[]=${metric}`)).json();
      if (!values.data.length) empty.push(`variable ${v.name}`);
    }
    for (const a of ALERTS) {
      count++;
      if (!finite(await prom.query(a.measure))) empty.push(`alert ${a.alert}: ${a.measure}`);
    }
    assert.deepEqual(empty, [], `${empty.length} of ${count} queries returned no data`);
    assert.ok(count > 40, `${count} queries`);

    const rules = (await (await fetch(`${prom.url}/api/v1/rules`)).json()).data.groups.flatMap((g: any) => g.rules);
    assert.equal(rules.length, ALERTS.length);
    for (const r of rules) assert.equal(r.health, "ok", `${r.name}: ${r.lastError}`);

    // The local dashboard computes what PromQL computes from the same counters and buckets.
    const state = await (await fetch(`http://127.0.0.1:${s.ports.dashboard}/api/state`)).json();
    const row = state.traffic.find((r: any) => r.user === "carol" && r.model === "facebook-opt-125m-simulated");
    const sel = `user="carol",model_name="facebook-opt-125m-simulated"`;
    const promValue = async (q: string) => Number((await prom.query(q))[0].value[1]);
    assert.equal(row.requests, await promValue(`sum(inference_model_request_total{${sel}})`));
    assert.equal(row.tokensOut, await promValue(`sum(inference_model_output_tokens_sum{${sel}})`));
    for (const [kind, metric] of [["total", "inference_model_request_duration_ms"], ["ttfb", "inference_model_upstream_ttfb_ms"], ["limitador", "kuadrant_limitador_call_duration_ms"]]) {
      for (const q of ["p50", "p95", "p99"]) {
        const expected = await promValue(`histogram_quantile(0.${q.slice(1)}, sum by (le) (${metric}_bucket{${sel}}))`);
        assert.ok(Math.abs(row.latency[kind][q] - expected) < 1e-9, `${kind} ${q}: dashboard ${row.latency[kind][q]}, Prometheus ${expected}`);
      }
    }
  });
