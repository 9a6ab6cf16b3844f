// Limitador's Prometheus metrics, names and labels exactly as it exports them
// (research/limitador.md §5): authorized_calls, authorized_hits, limited_calls (no _total),
// custom labels first (from --metric-labels-default, sorted), then limitador_namespace, then
// limit_name on limited_calls with -l; limitador_up and datastore_partitioned gauges.
import { Registry, Gauge } from "prom-client";

type Labels = Record<string, string>;

/** A counter whose label names vary per series (prom-client's Counter fixes them up front). */
class DynamicCounter {
  readonly type = "counter";
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels, by: number): void {
    const key = JSON.stringify(Object.entries(labels));
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels, value: by });
  }

  get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: "sum", values: [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value })) };
  }

  reset(): void { this.series.clear(); }
}

export class LimitadorMetrics {
  readonly registry = new Registry();
  private readonly authorizedCalls = new DynamicCounter("authorized_calls", "Authorized calls");
  private readonly authorizedHits = new DynamicCounter("authorized_hits", "Authorized hits");
  private readonly limitedCalls = new DynamicCounter("limited_calls", "Limited calls");

  constructor(private readonly limitNameInLabels: boolean) {
    for (const c of [this.authorizedCalls, this.authorizedHits, this.limitedCalls]) this.registry.registerMetric(c as any);
    new Gauge({ name: "limitador_up", help: "Limitador is running", registers: [this.registry] }).set(1);
    new Gauge({ name: "datastore_partitioned", help: "Limitador is partitioned from backing datastore", registers: [this.registry] }).set(0);
  }

  private labels(namespace: string, custom: Labels): Labels {
    const out: Labels = {};
    for (const k of Object.keys(custom).sort()) out[k.replace(/[^a-zA-Z0-9_]/g, "_")] = custom[k];
    out.limitador_namespace = namespace;
    return out;
  }

  authorized(namespace: string, custom: Labels, hits: number | null): void {
    const labels = this.labels(namespace, custom);
    this.authorizedCalls.inc(labels, 1);
    if (hits !== null) this.authorizedHits.inc(labels, hits);
  }

  hits(namespace: string, custom: Labels, hits: number): void {
    this.authorizedHits.inc(this.labels(namespace, custom), hits);
  }

  limited(namespace: string, custom: Labels, limitName: string | null): void {
    const labels = this.labels(namespace, custom);
    if (this.limitNameInLabels) labels.limit_name = limitName ?? "";
    this.limitedCalls.inc(labels, 1);
  }

  render(): Promise<string> { return this.registry.metrics(); }
}
