// The filter's own Envoy metrics (design §3.6), named after the gateway-api-inference-extension
// metrics, with labels encoded in the stat name the Istio way ("model_name=.=x;.;tier=.=y;.;name")
// so Envoy's stats_tags extract them. Label values come from the TelemetryPolicy expressions
// (requestData metrics.labels.model / tier / user); user only when enabled (cardinality), and at
// most `maxLabelSets` distinct sets, the rest counted under "other".
import { MetricType } from "../abi/enums";
import { defineMetric, incrementMetric, recordMetric, currentTimeNanoseconds } from "../abi/hostcalls";
import { Resolver, Kind } from "../cel";
import { RequestDatum } from "./config";
import { descriptorValue } from "./descriptors";
import { TokenUsage } from "./usage";

export class MetricsOptions {
  userLabel: bool = false;
  maxLabelSets: i32 = 200;
}

/** What one request did, collected as it runs and recorded once, in on_log. */
export class RequestStats {
  startNs: u64 = currentTimeNanoseconds();
  limited: bool = false;
  errors: Array<string> = [];
  limitadorLatencyNs: Array<u64> = [];
  responseBytes: u64 = 0;
}

export class FilterMetrics {
  private model: RequestDatum | null = null;
  private tier: RequestDatum | null = null;
  private user: RequestDatum | null = null;
  private prefixes: Map<string, string> = new Map();
  private ids: Map<string, u32> = new Map();

  constructor(requestData: Array<RequestDatum>, public readonly options: MetricsOptions) {
    for (let i = 0; i < requestData.length; i++) {
      const d = requestData[i];
      if (!d.isMetricLabel) continue;
      if (d.field == "model") this.model = d;
      else if (d.field == "tier") this.tier = d;
      else if (d.field == "user" && options.userLabel) this.user = d;
    }
  }

  record(stats: RequestStats, attrs: Resolver, status: u32, usage: TokenUsage | null): void {
    const prefix = this.prefixFor(this.value(this.model, attrs), this.value(this.tier, attrs), this.value(this.user, attrs));
    this.add(prefix + "inference_model_request_total", 1);
    this.observe(prefix + "inference_model_request_duration_ms", (currentTimeNanoseconds() - stats.startNs) / 1000000);
    if (stats.limited) this.add(prefix + "inference_model_rate_limited_total", 1);
    for (let i = 0; i < stats.errors.length; i++) this.add(prefix + "error_class=.=" + stats.errors[i] + ";.;inference_model_request_error_total", 1);
    if (status >= 500 && stats.errors.length == 0) this.add(prefix + "error_class=.=http_5xx;.;inference_model_request_error_total", 1);
    for (let i = 0; i < stats.limitadorLatencyNs.length; i++) this.observe(prefix + "kuadrant_limitador_call_duration_ms", stats.limitadorLatencyNs[i] / 1000000);
    if (stats.responseBytes > 0) this.observe(prefix + "inference_model_response_sizes", stats.responseBytes);
    if (usage !== null) {
      if (usage.input >= 0) this.observe(prefix + "inference_model_input_tokens", <u64>usage.input);
      if (usage.output >= 0) this.observe(prefix + "inference_model_output_tokens", <u64>usage.output);
    }
  }

  private value(datum: RequestDatum | null, attrs: Resolver): string {
    if (datum === null) return "";
    const v = datum.expression.eval(attrs);
    if (v.isError || v.kind == Kind.Null) return "";
    const s = descriptorValue(v);
    return s === null ? "" : s;
  }

  private prefixFor(model: string, tier: string, user: string): string {
    const key = model + "\0" + tier + "\0" + user;
    if (this.prefixes.has(key)) return this.prefixes.get(key);
    const overflow = this.prefixes.size >= this.options.maxLabelSets;
    const prefix = overflow
      ? encodeLabels("other", "other", this.user !== null ? "other" : "")
      : encodeLabels(model, tier, this.user !== null ? user : "");
    if (!overflow) this.prefixes.set(key, prefix);
    return prefix;
  }

  private id(name: string, type: u32): u32 {
    if (this.ids.has(name)) return this.ids.get(name);
    const id = defineMetric(type, name);
    this.ids.set(name, id);
    return id;
  }

  private add(name: string, delta: i64): void { incrementMetric(this.id(name, MetricType.Counter), delta); }
  private observe(name: string, value: u64): void { recordMetric(this.id(name, MetricType.Histogram), value); }
}

function encodeLabels(model: string, tier: string, user: string): string {
  let out = "model_name=.=" + clean(model) + ";.;tier=.=" + clean(tier) + ";.;";
  if (user.length > 0) out += "user=.=" + clean(user) + ";.;";
  return out;
}

/** Keeps the name parseable by the stats_tags regexes: no ';' or '=' inside values. */
function clean(value: string): string {
  if (value.length == 0) return "unknown";
  let out = "";
  for (let i = 0; i < value.length && i < 64; i++) {
    const c = value.charCodeAt(i);
    out += c == 59 || c == 61 || c < 32 ? "_" : String.fromCharCode(c);
  }
  return out;
}
