// The PrometheusRule for clusters (alerts on the filter's Envoy stats and Limitador's metrics),
// rendered to prometheus-rule.yaml by `npm run envoy:render` and validated against the
// prometheus-operator CRD schema (@kubernetes-models/prometheus-operator) on the way.
// Each alert is `<measure> <op> <threshold>`: the tests evaluate the measure on a Prometheus that
// scraped the e2e stack (it must return data) and run promtool over the whole rule.
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

/** `part / total` by `by`, 0 (not "no data") when `part` has no series yet. */
function ratio(part: string, total: string, by: string, window: string): string {
  const p = `sum by (${by}) (rate(${part}[${window}]))`;
  const t = `sum by (${by}) (rate(${total}[${window}]))`;
  return `(${p} or 0 * ${t}) / ${t}`;
}

const LIMITADOR_JOB = `job=~".*limitador.*"`;

export interface Alert { alert: string; measure: string; op: ">" | "==" | "<"; threshold: number; for: string; severity: "warning" | "critical"; summary: string; description: string }

export const ALERTS: Alert[] = [
  {
    alert: "LLMGatewayTierNearLimit",
    measure: (() => {
      const by = "tier, limitador_namespace";
      const limited = `sum by (${by}) (rate(limited_calls[10m]))`;
      const authorized = `sum by (${by}) (rate(authorized_calls[10m]))`;
      return `(${limited} or 0 * ${authorized}) / ((${authorized} or 0 * ${limited}) + (${limited} or 0 * ${authorized}))`;
    })(),
    op: ">", threshold: 0.05, for: "10m", severity: "warning",
    summary: "Tier {{ $labels.tier }} is at its limits on {{ $labels.limitador_namespace }}",
    description: "{{ $value | humanizePercentage }} of the tier's calls to Limitador were refused over 10 minutes: its users are spending their request or token budgets. Raise the tier's limits or move users up a tier. (Limitador exports no remaining-budget metric: refusals are the first sign; GET /counters/{namespace} shows what remains.)",
  },
  {
    alert: "LLMGatewayErrorRatioHigh",
    measure: ratio(`inference_model_request_total{response_code=~"5.."}`, "inference_model_request_total", "model_name", "5m"),
    op: ">", threshold: 0.05, for: "5m", severity: "critical",
    summary: "{{ $value | humanizePercentage }} of requests for {{ $labels.model_name }} end in 5xx",
    description: "The gateway answered 5xx to more than 5% of the requests for this model over 5 minutes (the model failing, or the filter failing closed: see inference_model_request_error_total by error_class).",
  },
  {
    alert: "LLMGatewayModelP99LatencyHigh",
    measure: `histogram_quantile(0.99, sum by (le, model_name) (rate(inference_model_upstream_ttfb_ms_bucket[5m])))`,
    op: ">", threshold: 10000, for: "10m", severity: "warning",
    summary: "p99 time to first byte of {{ $labels.model_name }} is {{ $value | humanize }} ms",
    description: "The model's p99 time to first byte (from the gateway letting the request go to the response headers; for streamed answers, time to first token) has been above 10 s for 10 minutes.",
  },
  {
    alert: "LLMGatewayLimitadorP99LatencyHigh",
    measure: `histogram_quantile(0.99, sum by (le) (rate(kuadrant_limitador_call_duration_ms_bucket[5m])))`,
    op: ">", threshold: 50, for: "10m", severity: "warning",
    summary: "p99 of the gateway's calls to Limitador is {{ $value | humanize }} ms",
    description: "Limitador answers slowly. The filter's default rate-limit timeout is 100 ms: past it, failureMode decides (allow lets requests through unchecked).",
  },
  {
    alert: "LLMGatewayLimitadorDown",
    measure: `up{${LIMITADOR_JOB}}`,
    op: "==", threshold: 0, for: "2m", severity: "critical",
    summary: "Prometheus cannot scrape Limitador {{ $labels.instance }}",
    description: "Limitador's /metrics has not answered for 2 minutes. If the gateway cannot reach it either, requests are refused (failureMode deny) or go unlimited (allow): see LLMGatewayRateLimitCallsFailing.",
  },
  {
    alert: "LLMGatewayRateLimitCallsFailing",
    measure: ratio(`inference_model_request_error_total{error_class=~"failure_mode_allow|failure_mode_deny|limitador_unknown"}`, "inference_model_request_total", "model_name", "5m"),
    op: ">", threshold: 0.01, for: "5m", severity: "critical",
    summary: "The gateway's calls to Limitador or Authorino fail for {{ $value | humanizePercentage }} of {{ $labels.model_name }}'s requests",
    description: "Calls that failed (unreachable, timed out, unreadable, UNKNOWN) were answered by the service's failureMode: deny → 500s, allow → requests that were not counted or limited.",
  },
  {
    alert: "LLMGatewayTokenReportsFailing",
    measure: `sum by (model_name) (rate(inference_model_request_error_total{error_class="report"}[5m])) or vector(0)`,
    op: ">", threshold: 0, for: "5m", severity: "warning",
    summary: "The gateway's token Reports to Limitador fail for {{ $labels.model_name }}",
    description: "Reports (the tokens each answer used, sent as the response ends) failed for 5 minutes: Limitador is unreachable or slower than the report service's timeout. Those tokens are missing from Limitador's counters and authorized_hits, so token limits and usage figures undercount until it recovers.",
  },
  {
    alert: "LLMGatewayUnauthenticatedRatioHigh",
    measure: ratio(`inference_model_request_total{response_code="401"}`, "inference_model_request_total", "model_name", "10m"),
    op: ">", threshold: 0.2, for: "10m", severity: "warning",
    summary: "{{ $value | humanizePercentage }} of requests for {{ $labels.model_name }} are refused as unauthenticated",
    description: "More than 20% 401s over 10 minutes: revoked or mistyped API keys at scale, or a client misconfigured.",
  },
  {
    alert: "LLMGatewayMetricLabelSetsExhausted",
    measure: `sum(rate(inference_model_request_total{model_name="other",tier="other"}[10m])) or vector(0)`,
    op: ">", threshold: 0, for: "15m", severity: "warning",
    summary: "The filter counts requests under model_name=\"other\": its label-set cap is reached",
    description: "Each gateway keeps at most metricsMaxLabelSets distinct label sets (vm_config); the rest are counted as \"other\". Raise the cap, or turn metricsUserLabel off.",
  },
  {
    alert: "LLMGatewayLimitadorMetricCardinalityHigh",
    measure: `count({__name__=~"authorized_hits|authorized_calls|limited_calls"})`,
    op: ">", threshold: 100000, for: "10m", severity: "warning",
    summary: "Limitador exports {{ $value | humanize }} series",
    description: "Per-user labels multiply series (user × tier × model × namespace). Drop labels in the TelemetryPolicy, or aggregate with recording rules.",
  },
];

export function prometheusRule(): PrometheusRule {
  const rule = new PrometheusRule({
    metadata: { name: "llm-gateway", namespace: "openshift-ingress", labels: { "app.kubernetes.io/part-of": "llm-gateway", role: "alert-rules" } },
    spec: {
      groups: [{
        name: "llm-gateway",
        rules: ALERTS.map((a) => ({
          alert: a.alert,
          expr: `${a.measure} ${a.op} ${a.threshold}`,
          for: a.for,
          labels: { severity: a.severity },
          annotations: { summary: a.summary, description: a.description },
        })),
      }],
    },
  });
  rule.validate();
  return rule;
}
