// The PromQL behind the cluster dashboard, one place for the Grafana panels and their tests:
// the same numbers as the local dashboard (local/dashboard/), over what Prometheus scrapes from the
// gateway (the filter's Envoy stats) and Limitador. Grafana variables: $model and $tier (regexes,
// "All" = .*), $__range (the dashboard's time range), $__rate_interval.

const sel = (extra = "") => `model_name=~"$model",tier=~"$tier"${extra ? `,${extra}` : ""}`;
const lsel = (extra = "") => `model=~"$model",tier=~"$tier"${extra ? `,${extra}` : ""}`;

/** 0 rather than "No data" for a code that has not happened (yet). */
const orZero = (q: string) => `(${q}) or vector(0)`;

export const LATENCY_METRICS = {
  gateway: "inference_model_request_duration_ms",
  "model TTFB": "inference_model_upstream_ttfb_ms",
  Limitador: "kuadrant_limitador_call_duration_ms",
} as const;

export const totals = {
  requests: `sum(increase(inference_model_request_total{${sel()}}[$__range]))`,
  "2xx": orZero(`sum(increase(inference_model_request_total{${sel('response_code=~"2.."')}}[$__range]))`),
  "401": orZero(`sum(increase(inference_model_request_total{${sel('response_code="401"')}}[$__range]))`),
  "429": orZero(`sum(increase(inference_model_request_total{${sel('response_code="429"')}}[$__range]))`),
  "5xx": orZero(`sum(increase(inference_model_request_total{${sel('response_code=~"5.."')}}[$__range]))`),
  "tokens in": `sum(increase(inference_model_input_tokens_sum{${sel()}}[$__range]))`,
  "tokens out": `sum(increase(inference_model_output_tokens_sum{${sel()}}[$__range]))`,
  "p99 in the gateway": `histogram_quantile(0.99, sum by (le) (rate(inference_model_request_duration_ms_bucket{${sel()}}[$__range])))`,
};

export const overTime = {
  responses: `sum by (response_code) (rate(inference_model_request_total{${sel()}}[$__rate_interval]))`,
  tokensIn: `sum(rate(inference_model_input_tokens_sum{${sel()}}[$__rate_interval]))`,
  tokensOut: `sum(rate(inference_model_output_tokens_sum{${sel()}}[$__rate_interval]))`,
  latency: (q: number, metric: string) => `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket{${sel()}}[$__rate_interval])))`,
  tokensByUser: `topk(10, sum by (user) (rate(authorized_hits{${lsel()}}[$__rate_interval])))`,
  limitedByTier: `sum by (tier) (rate(limited_calls{${lsel()}}[$__rate_interval]))`,
};

/** Per user, tier and model (the filter's `user` label when enabled; Limitador always has it). */
const byRow = "user, tier, model_name";
export const table = {
  requests: `sum by (${byRow}) (increase(inference_model_request_total{${sel()}}[$__range]))`,
  "401": `sum by (${byRow}) (increase(inference_model_request_total{${sel('response_code="401"')}}[$__range]))`,
  "429": `sum by (${byRow}) (increase(inference_model_request_total{${sel('response_code="429"')}}[$__range]))`,
  "tokens in": `sum by (${byRow}) (increase(inference_model_input_tokens_sum{${sel()}}[$__range]))`,
  "tokens out": `sum by (${byRow}) (increase(inference_model_output_tokens_sum{${sel()}}[$__range]))`,
};
export const tableLatency = (q: number, metric: string) => `histogram_quantile(${q}, sum by (le, ${byRow}) (rate(${metric}_bucket{${sel()}}[$__range])))`;

export const limitador = {
  authorized_calls: `sum by (user, tier, model) (increase(authorized_calls{${lsel()}}[$__range]))`,
  authorized_hits: `sum by (user, tier, model) (increase(authorized_hits{${lsel()}}[$__range]))`,
  limited_calls: `sum by (user, tier, model) (increase(limited_calls{${lsel()}}[$__range]))`,
};

export const health = {
  limitadorUp: `max by (job, instance) (up{job=~".*limitador.*"})`,
  failureModeErrors: orZero(`sum by (error_class) (rate(inference_model_request_error_total{${sel('error_class=~"failure_mode_.*|limitador_unknown"')}}[$__rate_interval]))`),
};
