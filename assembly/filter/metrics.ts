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

const NO_ERRORS = new Array<string>(0);
const NO_LATENCIES = new Array<u64>(0);

/** What one request did, collected as it runs and recorded once, in on_log. */
export class RequestStats {
  startNs: u64 = currentTimeNanoseconds();
  limited: bool = false;
  /** Error classes, in order (the shared empty list until the first one: most requests have none). */
  errors: Array<string> = NO_ERRORS;
  limitadorLatencyNs: Array<u64> = NO_LATENCIES;
  responseBytes: u64 = 0;
  /** Request body bytes the filter saw (Envoy's request.size when there is no Content-Length). */
  requestBytes: u64 = 0;
  /** When the last request-phase call (auth, rate limit) ended: the request went upstream then. */
  private lastCallEndNs: u64 = 0;
  /** Upstream time to first byte: from letting the request go to the response headers (0: none). */
  upstreamFirstByteNs: u64 = 0;

  /** Counts an error of this class (inference_model_request_error_total). */
  error(kind: string): void {
    if (this.errors === NO_ERRORS) this.errors = new Array<string>();
    this.errors.push(kind);
  }

  /** A gRPC call ended (reply or failure); Limitador calls are timed. */
  callEnded(startedNs: u64, limitador: bool): void {
    const now = currentTimeNanoseconds();
    if (limitador) {
      if (this.limitadorLatencyNs === NO_LATENCIES) this.limitadorLatencyNs = new Array<u64>();
      this.limitadorLatencyNs.push(now - startedNs);
    }
    if (this.upstreamFirstByteNs == 0) this.lastCallEndNs = now;
  }

  /** The upstream's response headers arrived (not called for the filter's own replies). */
  responseStarted(): void {
    const released = this.lastCallEndNs > this.startNs ? this.lastCallEndNs : this.startNs;
    const now = currentTimeNanoseconds();
    this.upstreamFirstByteNs = now > released ? now - released : 1;
  }
}

// The metrics every label set has, by slot (their names, and whether each is a counter).
const DURATION = 0, TTFB = 1, RATE_LIMITED = 2, LIMITADOR = 3, REQUEST_SIZES = 4, RESPONSE_SIZES = 5, INPUT_TOKENS = 6, OUTPUT_TOKENS = 7;
const FIXED_NAMES: Array<string> = [
  "inference_model_request_duration_ms", "inference_model_upstream_ttfb_ms", "inference_model_rate_limited_total",
  "kuadrant_limitador_call_duration_ms", "inference_model_request_sizes", "inference_model_response_sizes",
  "inference_model_input_tokens", "inference_model_output_tokens",
];

/**
 * The metric ids of one label set, defined on first use: names are built once, and a request
 * finds its ids by slot, status code or error class without building a name.
 */
export class LabelSet {
  private fixed: StaticArray<u32> = new StaticArray<u32>(8);
  private fixedDefined: u32 = 0;
  private codes: Array<u32> = [];
  private codeIds: Array<u32> = [];
  private errorClasses: Array<string> = [];
  private errorIds: Array<u32> = [];
  /** The next set whose labels hash alike (FilterMetrics' buckets). */
  next: LabelSet | null = null;

  constructor(public readonly prefix: string, readonly model: string, readonly tier: string, readonly user: string, readonly target: string) {}

  /** Same labels: compared as the NUL-joined key "model\0tier\0user\0target" they stand for. */
  is(model: string, tier: string, user: string, target: string): bool {
    if (this.model == model && this.tier == tier && this.user == user && this.target == target) return true;
    if (this.model.length + this.tier.length + this.user.length + this.target.length != model.length + tier.length + user.length + target.length) return false;
    return joined(this.model, this.tier, this.user, this.target) == joined(model, tier, user, target); // rare: a label holds a NUL
  }

  private fixedId(slot: i32, counter: bool): u32 {
    if ((this.fixedDefined & (1 << slot)) == 0) {
      this.fixed[slot] = defineMetric(counter ? MetricType.Counter : MetricType.Histogram, this.prefix + FIXED_NAMES[slot]);
      this.fixedDefined |= 1 << slot;
    }
    return this.fixed[slot];
  }

  add(slot: i32, delta: i64): void { incrementMetric(this.fixedId(slot, true), delta); }
  /** A Limitador call that took `ns` (kuadrant_limitador_call_duration_ms). */
  limitadorCall(ns: u64): void { this.observe(LIMITADOR, ns / 1000000); }
  observe(slot: i32, value: u64): void { recordMetric(this.fixedId(slot, false), value); }

  requestTotal(status: u32): void {
    let i = this.codes.indexOf(status);
    if (i < 0) {
      this.codes.push(status);
      this.codeIds.push(defineMetric(MetricType.Counter, this.prefix + "response_code=.=" + status.toString() + ";.;inference_model_request_total"));
      i = this.codes.length - 1;
    }
    incrementMetric(this.codeIds[i], 1);
  }

  error(errorClass: string): void {
    let i = this.errorClasses.indexOf(errorClass);
    if (i < 0) {
      this.errorClasses.push(errorClass);
      this.errorIds.push(defineMetric(MetricType.Counter, this.prefix + "error_class=.=" + errorClass + ";.;inference_model_request_error_total"));
      i = this.errorClasses.length - 1;
    }
    incrementMetric(this.errorIds[i], 1);
  }
}

export class FilterMetrics {
  private model: RequestDatum | null = null;
  private tier: RequestDatum | null = null;
  private user: RequestDatum | null = null;
  /** Label sets by the hash of their labels, chained through LabelSet.next. */
  private sets: Map<u32, LabelSet> = new Map();
  private setCount: i32 = 0;
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

  /** Records a finished request; returns its label set (calls that outlive the stream count there too). */
  record(stats: RequestStats, attrs: Resolver, status: u32, usage: TokenUsage | null): LabelSet {
    const target = usage !== null ? usage.model : "";
    const set = this.labelSet(this.value(this.model, attrs), this.value(this.tier, attrs), this.value(this.user, attrs), target);
    set.requestTotal(status);
    set.observe(DURATION, (currentTimeNanoseconds() - stats.startNs) / 1000000);
    if (stats.upstreamFirstByteNs > 0) set.observe(TTFB, stats.upstreamFirstByteNs / 1000000);
    if (stats.limited) set.add(RATE_LIMITED, 1);
    for (let i = 0; i < stats.errors.length; i++) set.error(stats.errors[i]);
    if (status >= 500 && stats.errors.length == 0) set.error("http_5xx");
    for (let i = 0; i < stats.limitadorLatencyNs.length; i++) set.limitadorCall(stats.limitadorLatencyNs[i]);
    const requestBytes = requestSize(attrs, stats);
    if (requestBytes > 0) set.observe(REQUEST_SIZES, <u64>requestBytes);
    if (stats.responseBytes > 0) set.observe(RESPONSE_SIZES, stats.responseBytes);
    if (usage !== null) {
      if (usage.input >= 0) set.observe(INPUT_TOKENS, <u64>usage.input);
      if (usage.output >= 0) set.observe(OUTPUT_TOKENS, <u64>usage.output);
    }
    return set;
  }

  private value(datum: RequestDatum | null, attrs: Resolver): string {
    if (datum === null) return "";
    const v = datum.expression.eval(attrs);
    if (v.isError || v.kind == Kind.Null) return "";
    const s = descriptorValue(v);
    return s === null ? "" : s;
  }

  private labelSet(model: string, tier: string, user: string, target: string): LabelSet {
    const hash = hashLabels(model, tier, user, target);
    const first = this.sets.has(hash) ? this.sets.get(hash) : null;
    let candidate = first;
    while (candidate !== null) {
      const set = <LabelSet>candidate;
      if (set.is(model, tier, user, target)) return set;
      candidate = set.next;
    }
    if (this.setCount >= this.options.maxLabelSets) {
      let other = this.overflow;
      if (other === null) {
        other = new LabelSet(encodeLabels("other", "", "other", this.user !== null ? "other" : ""), "", "", "", "");
        this.overflow = other;
      }
      return other;
    }
    const set = new LabelSet(encodeLabels(model, target, tier, this.user !== null ? user : ""), model, tier, user, target);
    set.next = first;
    this.sets.set(hash, set);
    this.setCount++;
    return set;
  }
}

function joined(a: string, b: string, c: string, d: string): string { return a + "\0" + b + "\0" + c + "\0" + d; }

/** FNV-1a over the UTF-16 units of the NUL-joined labels (equal keys, equal hashes). */
function hashLabels(a: string, b: string, c: string, d: string): u32 {
  let h: u32 = 2166136261;
  h = hashString(h, a) * 16777619;
  h = hashString(h, b) * 16777619;
  h = hashString(h, c) * 16777619;
  return hashString(h, d);
}

function hashString(h: u32, s: string): u32 {
  const p = changetype<usize>(s);
  for (let i = 0, n = s.length; i < n; i++) h = (h ^ <u32>load<u16>(p + (<usize>i << 1))) * 16777619;
  return h;
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
