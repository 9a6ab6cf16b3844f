// What the dashboard shows, computed from one scrape of the gateway and of Limitador the way the
// PromQL in envoy/observability/ computes it: sums over the labels a row does not show, and
// histogram_quantile over the summed buckets. Totals are since the components started, as the
// counters in /metrics are.
import type { Exposition, Histogram, Labels } from "./exposition.js";
import { addBuckets, histogramQuantile, type Buckets } from "./quantile.js";

export const LATENCIES = {
  total: "inference_model_request_duration_ms",
  ttfb: "inference_model_upstream_ttfb_ms",
  limitador: "kuadrant_limitador_call_duration_ms",
} as const;
export type LatencyKind = keyof typeof LATENCIES;
export interface Percentiles { p50: number | null; p95: number | null; p99: number | null; count: number }

export interface TrafficRow {
  user: string; tier: string; model: string;
  /** The models that answered (target_model_name), when the responses named one. */
  servedBy: string[];
  requests: number; ok: number; unauthorized: number; limited: number; serverErrors: number;
  tokensIn: number; tokensOut: number;
  latency: Record<LatencyKind, Percentiles>;
}
export interface LimitadorRow { user: string; tier: string; model: string; namespace: string; authorizedCalls: number; authorizedHits: number; limitedCalls: number }
export interface LimitRow { namespace: string; limit: string; max: number; seconds: number; who: string; used: number; remaining: number; resetsInSeconds: number | null }
/** One entry of Limitador's GET /counters/{namespace}. */
export interface LimitadorCounter {
  limit: { namespace: string; name: string | null; max_value: number; seconds: number };
  set_variables: Record<string, string>;
  remaining: number | null;
  expires_in_seconds: number | null;
}
export interface Totals { requests: number; ok: number; unauthorized: number; limited: number; serverErrors: number; tokensIn: number; tokensOut: number; p99Ms: number | null }

export function trafficRows(gateway: Exposition): TrafficRow[] {
  const rows = new Map<string, TrafficRow>();
  const hist = new Map<string, Record<LatencyKind, Buckets>>();
  const row = (l: Labels): TrafficRow => {
    const user = l.user ?? "", tier = l.tier ?? "", model = l.model_name ?? "";
    const key = JSON.stringify([user, tier, model]);
    let r = rows.get(key);
    if (!r) {
      r = { user, tier, model, servedBy: [], requests: 0, ok: 0, unauthorized: 0, limited: 0, serverErrors: 0, tokensIn: 0, tokensOut: 0, latency: {} as TrafficRow["latency"] };
      rows.set(key, r);
      hist.set(key, { total: [], ttfb: [], limitador: [] });
    }
    if (l.target_model_name && !r.servedBy.includes(l.target_model_name)) r.servedBy.push(l.target_model_name);
    return r;
  };
  for (const s of gateway.samples.get("inference_model_request_total") ?? []) {
    const r = row(s.labels);
    const code = Number(s.labels.response_code);
    r.requests += s.value;
    if (code >= 200 && code < 300) r.ok += s.value;
    else if (code === 401) r.unauthorized += s.value;
    else if (code === 429) r.limited += s.value;
    else if (code >= 500) r.serverErrors += s.value;
  }
  for (const h of gateway.histograms.get("inference_model_input_tokens") ?? []) row(h.labels).tokensIn += h.sum;
  for (const h of gateway.histograms.get("inference_model_output_tokens") ?? []) row(h.labels).tokensOut += h.sum;
  for (const kind of Object.keys(LATENCIES) as LatencyKind[]) {
    for (const h of gateway.histograms.get(LATENCIES[kind]) ?? []) {
      const r = row(h.labels);
      const key = JSON.stringify([r.user, r.tier, r.model]);
      const acc = hist.get(key)!;
      acc[kind] = addBuckets(acc[kind], h.buckets);
    }
  }
  for (const [key, r] of rows) {
    const acc = hist.get(key)!;
    for (const kind of Object.keys(LATENCIES) as LatencyKind[]) r.latency[kind] = percentiles(acc[kind]);
    r.servedBy.sort();
  }
  return [...rows.values()].sort(byLabels);
}

export function percentiles(buckets: Buckets): Percentiles {
  const count = buckets.length ? buckets[buckets.length - 1][1] : 0;
  const q = (x: number) => { const v = histogramQuantile(x, buckets); return Number.isFinite(v) ? v : null; };
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), count };
}

export function limitadorRows(limitador: Exposition): LimitadorRow[] {
  const rows = new Map<string, LimitadorRow>();
  const add = (name: string, field: "authorizedCalls" | "authorizedHits" | "limitedCalls") => {
    for (const s of limitador.samples.get(name) ?? []) {
      const l = s.labels;
      const r = { user: l.user ?? "", tier: l.tier ?? "", model: l.model ?? "", namespace: l.limitador_namespace ?? "" };
      const key = JSON.stringify(r);
      const row = rows.get(key) ?? { ...r, authorizedCalls: 0, authorizedHits: 0, limitedCalls: 0 };
      row[field] += s.value; // limited_calls is also split by limit_name
      rows.set(key, row);
    }
  };
  add("authorized_calls", "authorizedCalls");
  add("authorized_hits", "authorizedHits");
  add("limited_calls", "limitedCalls");
  return [...rows.values()].sort(byLabels);
}

/** Live counters per user, and every limit without one (nothing used in its window). */
export function limitRows(limits: Array<{ namespace: string; name: string | null; max_value: number; seconds: number }>, counters: LimitadorCounter[]): LimitRow[] {
  const rows: LimitRow[] = counters.map((c) => ({
    namespace: c.limit.namespace, limit: c.limit.name ?? "", max: c.limit.max_value, seconds: c.limit.seconds,
    who: Object.values(c.set_variables).join(", "),
    used: c.remaining === null ? 0 : c.limit.max_value - c.remaining,
    remaining: c.remaining ?? c.limit.max_value,
    resetsInSeconds: c.expires_in_seconds,
  }));
  for (const l of limits) {
    if (rows.some((r) => r.namespace === l.namespace && r.limit === (l.name ?? ""))) continue;
    rows.push({ namespace: l.namespace, limit: l.name ?? "", max: l.max_value, seconds: l.seconds, who: "", used: 0, remaining: l.max_value, resetsInSeconds: null });
  }
  return rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.limit.localeCompare(b.limit) || a.who.localeCompare(b.who));
}

export function totals(rows: TrafficRow[], gateway: Exposition): Totals {
  const t: Totals = { requests: 0, ok: 0, unauthorized: 0, limited: 0, serverErrors: 0, tokensIn: 0, tokensOut: 0, p99Ms: null };
  for (const r of rows) {
    t.requests += r.requests; t.ok += r.ok; t.unauthorized += r.unauthorized; t.limited += r.limited;
    t.serverErrors += r.serverErrors; t.tokensIn += r.tokensIn; t.tokensOut += r.tokensOut;
  }
  t.p99Ms = percentiles(sumBuckets(gateway.histograms.get(LATENCIES.total) ?? [])).p99;
  return t;
}

export function sumBuckets(series: Histogram[]): Buckets {
  return series.reduce<Buckets>((acc, h) => addBuckets(acc, h.buckets), []);
}

function byLabels(a: { user: string; tier: string; model: string }, b: { user: string; tier: string; model: string }): number {
  return a.user.localeCompare(b.user) || a.tier.localeCompare(b.tier) || a.model.localeCompare(b.model);
}
