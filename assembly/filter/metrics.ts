// The filter's own Envoy metrics (design §3.6), named after the gateway-api-inference-extension
// metrics, with labels encoded in the stat name the Istio way ("model_name=.=x;.;tier=.=y;.;name")
// so Envoy's stats_tags extract them. Label values come from the TelemetryPolicy expressions
// (requestData metrics.labels.model / tier / user); user only when enabled (cardinality), and at
// most `maxLabelSets` distinct sets, the rest counted under "other". target_model_name is the
// model the response body names (GIE: the model that answered), absent when none did.
// Envoy histograms take integers: durations are in milliseconds where GIE uses seconds.
import { MetricType } from "../abi/enums";
import { defineMetric, incrementMetric, recordMetric, currentTimeNanoseconds } from "../abi/hostcalls";
import { Resolver, Kind, attrPath } from "../cel";
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
  /** Request body bytes the filter saw (Envoy's request.size when there is no Content-Length). */
  requestBytes: u64 = 0;
  /** When the last request-phase call (auth, rate limit) ended: the request went upstream then. */
  private lastCallEndNs: u64 = 0;
  /** Upstream time to first byte: from letting the request go to the response headers (0: none). */
  upstreamFirstByteNs: u64 = 0;

  /** A gRPC call ended (reply or failure); Limitador calls are timed. */
  callEnded(startedNs: u64, limitador: bool): void {
    const now = currentTimeNanoseconds();
    if (limitador) this.limitadorLatencyNs.push(now - startedNs);
    if (this.upstreamFirstByteNs == 0) this.lastCallEndNs = now;
  }

  /** The upstream's response headers arrived (not called for the filter's own replies). */
  responseStarted(): void {
    const released = this.lastCallEndNs > this.startNs ? this.lastCallEndNs : this.startNs;
    const now = currentTimeNanoseconds();
    this.upstreamFirstByteNs = now > released ? now - released : 1;
  }
}

/** The metric ids of one label set, defined on first use (names are built once, not per request). */
class LabelSet {
  private ids: Map<string, u32> = new Map();
  constructor(public readonly prefix: string) {}

  id(name: string, type: u32): u32 {
    if (this.ids.has(name)) return this.ids.get(name);
    const id = defineMetric(type, this.prefix + name);
    this.ids.set(name, id);
    return id;
  }

  add(name: string, delta: i64): void { incrementMetric(this.id(name, MetricType.Counter), delta); }
  observe(name: string, value: u64): void { recordMetric(this.id(name, MetricType.Histogram), value); }
}

export class FilterMetrics {
  private model: RequestDatum | null = null;
  private tier: RequestDatum | null = null;
  private user: RequestDatum | null = null;
  private sets: Map<string, LabelSet> = new Map();
  private overflow: LabelSet | null = null;

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
    const target = usage !== null ? usage.model : "";
    const set = this.labelSet(this.value(this.model, attrs), this.value(this.tier, attrs), this.value(this.user, attrs), target);
    set.add("response_code=.=" + status.toString() + ";.;inference_model_request_total", 1);
    set.observe("inference_model_request_duration_ms", (currentTimeNanoseconds() - stats.startNs) / 1000000);
    if (stats.upstreamFirstByteNs > 0) set.observe("inference_model_upstream_ttfb_ms", stats.upstreamFirstByteNs / 1000000);
    if (stats.limited) set.add("inference_model_rate_limited_total", 1);
    for (let i = 0; i < stats.errors.length; i++) set.add("error_class=.=" + stats.errors[i] + ";.;inference_model_request_error_total", 1);
    if (status >= 500 && stats.errors.length == 0) set.add("error_class=.=http_5xx;.;inference_model_request_error_total", 1);
    for (let i = 0; i < stats.limitadorLatencyNs.length; i++) set.observe("kuadrant_limitador_call_duration_ms", stats.limitadorLatencyNs[i] / 1000000);
    const requestBytes = requestSize(attrs, stats);
    if (requestBytes > 0) set.observe("inference_model_request_sizes", <u64>requestBytes);
    if (stats.responseBytes > 0) set.observe("inference_model_response_sizes", stats.responseBytes);
    if (usage !== null) {
      if (usage.input >= 0) set.observe("inference_model_input_tokens", <u64>usage.input);
      if (usage.output >= 0) set.observe("inference_model_output_tokens", <u64>usage.output);
    }
  }

  private value(datum: RequestDatum | null, attrs: Resolver): string {
    if (datum === null) return "";
    const v = datum.expression.eval(attrs);
    if (v.isError || v.kind == Kind.Null) return "";
    const s = descriptorValue(v);
    return s === null ? "" : s;
  }

  private labelSet(model: string, tier: string, user: string, target: string): LabelSet {
    const key = model + "\0" + tier + "\0" + user + "\0" + target;
    if (this.sets.has(key)) return this.sets.get(key);
    if (this.sets.size >= this.options.maxLabelSets) {
      let other = this.overflow;
      if (other === null) {
        other = new LabelSet(encodeLabels("other", "", "other", this.user !== null ? "other" : ""));
        this.overflow = other;
      }
      return other;
    }
    const set = new LabelSet(encodeLabels(model, target, tier, this.user !== null ? user : ""));
    this.sets.set(key, set);
    return set;
  }
}

/** model_name comes first: the target_model_name regex must not be the first to match its tail. */
function encodeLabels(model: string, target: string, tier: string, user: string): string {
  let out = "model_name=.=" + clean(model) + ";.;";
  if (target.length > 0) out += "target_model_name=.=" + clean(target) + ";.;";
  out += "tier=.=" + clean(tier) + ";.;";
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

const CONTENT_LENGTH = attrPath(["request", "headers", "content-length"]);

/**
 * The request body's size in bytes, as Envoy's request.size: Content-Length when sent (read from the
 * captured headers, no host call), else the body bytes received (chunked uploads).
 */
function requestSize(attrs: Resolver, stats: RequestStats): i64 {
  const length = attrs.resolve(CONTENT_LENGTH);
  if (length !== null && length.kind == Kind.String) {
    const n = I64.parseInt(length.s);
    if (n >= 0) return n;
  }
  return <i64>stats.requestBytes; // counted as the body passed, no host call
}
