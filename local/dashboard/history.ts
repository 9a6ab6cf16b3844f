// The charts' time series: each scrape is reduced to gateway-wide counters and summed buckets,
// and each point is computed over a trailing window as rate() and histogram_quantile(increase())
// would (without Prometheus's extrapolation to the window's edges).
import type { Exposition } from "./exposition.js";
import { bucketIncrease, histogramQuantile, type Buckets } from "./quantile.js";
import { LATENCIES, sumBuckets, type LatencyKind } from "./view.js";

const CLASSES = ["ok", "unauthorized", "limited", "serverErrors"] as const;
type ResponseClass = typeof CLASSES[number];

interface Point {
  t: number;
  responses: Record<ResponseClass, number>;
  tokensIn: number;
  tokensOut: number;
  buckets: Record<LatencyKind, Buckets>;
}

export interface Series {
  /** Seconds since the epoch (uPlot's x axis). */
  t: number[];
  /** Per second over the window. */
  responses: Record<ResponseClass, Array<number | null>>;
  tokensIn: Array<number | null>;
  tokensOut: Array<number | null>;
  /** Milliseconds, p50 and p99 over the window; null when nothing was observed. */
  p50: Record<LatencyKind, Array<number | null>>;
  p99: Record<LatencyKind, Array<number | null>>;
}

export class History {
  private readonly points: Point[] = [];

  constructor(private readonly windowMs = 30_000, private readonly keepMs = 15 * 60_000) {}

  add(t: number, gateway: Exposition): void {
    const responses = { ok: 0, unauthorized: 0, limited: 0, serverErrors: 0 };
    for (const s of gateway.samples.get("inference_model_request_total") ?? []) {
      const code = Number(s.labels.response_code);
      if (code >= 200 && code < 300) responses.ok += s.value;
      else if (code === 401) responses.unauthorized += s.value;
      else if (code === 429) responses.limited += s.value;
      else if (code >= 500) responses.serverErrors += s.value;
    }
    const sum = (name: string) => (gateway.histograms.get(name) ?? []).reduce((n, h) => n + h.sum, 0);
    const buckets = {} as Record<LatencyKind, Buckets>;
    for (const kind of Object.keys(LATENCIES) as LatencyKind[]) buckets[kind] = sumBuckets(gateway.histograms.get(LATENCIES[kind]) ?? []);
    this.points.push({ t, responses, tokensIn: sum("inference_model_input_tokens"), tokensOut: sum("inference_model_output_tokens"), buckets });
    while (this.points.length > 1 && t - this.points[0].t > this.keepMs) this.points.shift();
  }

  series(): Series {
    const kinds = Object.keys(LATENCIES) as LatencyKind[];
    const out: Series = {
      t: [], tokensIn: [], tokensOut: [],
      responses: Object.fromEntries(CLASSES.map((c) => [c, []])) as unknown as Series["responses"],
      p50: Object.fromEntries(kinds.map((k) => [k, []])) as unknown as Series["p50"],
      p99: Object.fromEntries(kinds.map((k) => [k, []])) as unknown as Series["p99"],
    };
    let from = 0;
    for (let i = 1; i < this.points.length; i++) {
      const now = this.points[i];
      while (now.t - this.points[from].t > this.windowMs) from++;
      const then = this.points[Math.min(from, i - 1)];
      const seconds = (now.t - then.t) / 1000;
      out.t.push(now.t / 1000);
      const rate = (a: number, b: number) => (a >= b ? a - b : a) / seconds; // a fall is a restart
      for (const c of CLASSES) out.responses[c].push(rate(now.responses[c], then.responses[c]));
      out.tokensIn.push(rate(now.tokensIn, then.tokensIn));
      out.tokensOut.push(rate(now.tokensOut, then.tokensOut));
      for (const k of kinds) {
        const window = bucketIncrease(now.buckets[k], then.buckets[k]);
        out.p50[k].push(finite(histogramQuantile(0.5, window)));
        out.p99[k].push(finite(histogramQuantile(0.99, window)));
      }
    }
    return out;
  }
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
