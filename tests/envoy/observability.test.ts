// The cluster observability pack (envoy/observability/): the committed files are the render of
// their typed sources, the rules pass `promtool check rules`, and `promtool test rules` shows each
// alert firing on the series that should fire it and staying quiet on healthy ones.
// (tests/e2e/observability.test.ts evaluates every panel and alert on a Prometheus that scraped
// the running stack.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { GRAFANA_JSON, PROMETHEUS_RULE_YAML, renderGrafana, renderPrometheusRule } from "../../envoy/observability/render.js";
import { missing } from "../helpers/services.js";
import { ALERTS } from "../../envoy/observability/rules.js";

test("grafana-dashboard.json and prometheus-rule.yaml are the render of grafana.ts and rules.ts", () => {
  assert.equal(readFileSync(GRAFANA_JSON, "utf8"), renderGrafana(), "run `npm run envoy:render`");
  assert.equal(readFileSync(PROMETHEUS_RULE_YAML, "utf8"), renderPrometheusRule(), "run `npm run envoy:render`");
});

test("the Grafana dashboard: every query on the ${datasource} variable, unique panel ids, variables defined, no overlapping panels", () => {
  const d = JSON.parse(readFileSync(GRAFANA_JSON, "utf8"));
  const ids = d.panels.map((p: any) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  const vars = new Set(d.templating.list.map((v: any) => v.name));
  const cells = new Set<string>();
  for (const p of d.panels) {
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
      assert.ok(!cells.has(`${x},${y}`), `panel '${p.title}' overlaps another at ${x},${y}`);
      cells.add(`${x},${y}`);
    }
    if (p.type === "row") continue;
    assert.deepEqual(p.datasource, { type: "prometheus", uid: "${datasource}" }, p.title);
    assert.ok(p.targets.length > 0, p.title);
    assert.equal(new Set(p.targets.map((t: any) => t.refId)).size, p.targets.length, `refIds of '${p.title}'`);
    for (const t of p.targets) {
      for (const [, name] of t.expr.matchAll(/\$(\w+)/g)) assert.ok(name.startsWith("__") || vars.has(name), `'${p.title}' uses $${name}`);
    }
  }
});

function rulesFile(stripAnnotations = false): string {
  const dir = mkdtempSync(join(tmpdir(), "rules-"));
  const spec = parse(readFileSync(PROMETHEUS_RULE_YAML, "utf8")).spec;
  if (stripAnnotations) for (const g of spec.groups) for (const r of g.rules) delete r.annotations;
  writeFileSync(join(dir, "rules.yaml"), stringify(spec));
  return join(dir, "rules.yaml");
}

const promtool = missing("promtool", "prometheus");

test("promtool check rules accepts every rule (PromQL and annotation templates)", { skip: promtool }, () => {
  const r = spawnSync("promtool", ["check", "rules", rulesFile()], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${ALERTS.length} rules found`));
});

test("promtool check rules does catch a broken expression", { skip: promtool }, () => {
  const file = rulesFile();
  writeFileSync(file, readFileSync(file, "utf8").replace("histogram_quantile(0.99,", "histogram_quantile(0.99"));
  assert.notEqual(spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" }).status, 0);
});

test("promtool test rules: each alert fires on the series that should fire it, not on healthy ones", { skip: promtool }, () => {
  const rules = rulesFile(true);
  const ns = "llm/opt-route";
  const bucket = (name: string, labels: string, perMinute: Record<string, number>) =>
    Object.entries(perMinute).map(([le, n]) => ({ series: `${name}_bucket{${labels},le="${le}"}`, values: `0+${n}x40` }));
  const tests = {
    rule_files: [rules],
    evaluation_interval: "1m",
    tests: [{
      interval: "1m",
      input_series: [
        // Limitador: free refuses 6 of 66 calls a minute (9%), premium none.
        { series: `limited_calls{tier="free",user="alice",limitador_namespace="${ns}",limit_name="free"}`, values: "0+6x40" },
        { series: `authorized_calls{tier="free",user="alice",limitador_namespace="${ns}"}`, values: "0+60x40" },
        { series: `authorized_calls{tier="premium",user="carol",limitador_namespace="${ns}"}`, values: "0+60x40" },
        { series: `up{job="limitador",instance="limitador:8080"}`, values: "0x40" },
        // Gateway: model "bad" answers 10% 5xx and is slow; "good" is healthy.
        { series: `inference_model_request_total{model_name="bad",tier="free",response_code="200"}`, values: "0+90x40" },
        { series: `inference_model_request_total{model_name="bad",tier="free",response_code="500"}`, values: "0+10x40" },
        { series: `inference_model_request_total{model_name="good",tier="free",response_code="200"}`, values: "0+100x40" },
        { series: `inference_model_request_error_total{model_name="bad",tier="free",error_class="failure_mode_allow"}`, values: "0+5x40" },
        { series: `inference_model_request_error_total{model_name="bad",tier="free",error_class="report"}`, values: "0+2x40" },
        ...bucket("inference_model_upstream_ttfb_ms", `model_name="bad",tier="free"`, { "5000": 0, "30000": 100, "+Inf": 100 }),
        ...bucket("inference_model_upstream_ttfb_ms", `model_name="good",tier="free"`, { "5000": 100, "30000": 100, "+Inf": 100 }),
        ...bucket("kuadrant_limitador_call_duration_ms", `model_name="good",tier="free"`, { "25": 10, "100": 100, "+Inf": 100 }),
        // The filter's label-set cap was reached.
        { series: `inference_model_request_total{model_name="other",tier="other",response_code="200"}`, values: "0+1x40" },
      ],
      alert_rule_test: [
        { eval_time: "20m", alertname: "LLMGatewayTierNearLimit", exp_alerts: [{ exp_labels: { severity: "warning", tier: "free", limitador_namespace: ns } }] },
        { eval_time: "5m", alertname: "LLMGatewayTierNearLimit", exp_alerts: [] },
        { eval_time: "20m", alertname: "LLMGatewayErrorRatioHigh", exp_alerts: [{ exp_labels: { severity: "critical", model_name: "bad" } }] },
        { eval_time: "20m", alertname: "LLMGatewayModelP99LatencyHigh", exp_alerts: [{ exp_labels: { severity: "warning", model_name: "bad" } }] },
        { eval_time: "20m", alertname: "LLMGatewayLimitadorP99LatencyHigh", exp_alerts: [{ exp_labels: { severity: "warning" } }] },
        { eval_time: "20m", alertname: "LLMGatewayLimitadorDown", exp_alerts: [{ exp_labels: { severity: "critical", job: "limitador", instance: "limitador:8080" } }] },
        { eval_time: "1m", alertname: "LLMGatewayLimitadorDown", exp_alerts: [] },
        { eval_time: "20m", alertname: "LLMGatewayRateLimitCallsFailing", exp_alerts: [{ exp_labels: { severity: "critical", model_name: "bad" } }] },
        { eval_time: "20m", alertname: "LLMGatewayTokenReportsFailing", exp_alerts: [{ exp_labels: { severity: "warning", model_name: "bad" } }] },
        { eval_time: "3m", alertname: "LLMGatewayTokenReportsFailing", exp_alerts: [] },
        { eval_time: "20m", alertname: "LLMGatewayUnauthenticatedRatioHigh", exp_alerts: [] },
        { eval_time: "20m", alertname: "LLMGatewayMetricLabelSetsExhausted", exp_alerts: [{ exp_labels: { severity: "warning" } }] },
        { eval_time: "20m", alertname: "LLMGatewayLimitadorMetricCardinalityHigh", exp_alerts: [] },
      ],
    }],
  };
  const file = join(mkdtempSync(join(tmpdir(), "rules-test-")), "tests.yaml");
  writeFileSync(file, stringify(tests));
  const r = spawnSync("promtool", ["test", "rules", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});
