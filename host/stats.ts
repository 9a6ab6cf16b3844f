// Envoy's stats store as a wasm filter sees it: `wasmcustom.` names, metric ids that encode the
// type, Envoy's counter/gauge/histogram rules, and /stats/prometheus rendering with stats_tags
// tag extraction (research/proxy-wasm-abi.md §4).
import { DEFAULT_HISTOGRAM_BUCKETS, MetricType, WasmResult } from "./envoy-abi.js";

export interface StatsTag { tagName: string; regex: string }

type Kind = "counter" | "gauge" | "histogram";
interface Stat { name: string; kind: Kind; value: bigint; histogram: Histogram | null }

/** Keeps this many of a histogram's latest samples for tests and the admin listing. */
const RECENT_SAMPLES = 1024;

/**
 * A histogram as Envoy exports it: cumulative counts per bucket, sum and count. Samples are not
 * kept (a long-running gateway would grow by every request), only the latest few.
 */
class Histogram {
  readonly bucketCounts = new Array<number>(DEFAULT_HISTOGRAM_BUCKETS.length).fill(0);
  count = 0;
  sum = 0;
  readonly recent: number[] = [];

  record(value: number): void {
    this.count++;
    this.sum += value;
    for (let i = 0; i < DEFAULT_HISTOGRAM_BUCKETS.length; i++) if (value <= DEFAULT_HISTOGRAM_BUCKETS[i]) this.bucketCounts[i]++;
    if (this.recent.length === RECENT_SAMPLES) this.recent.shift();
    this.recent.push(value);
  }
}

export class StatsStore {
  private readonly stats = new Map<string, Stat>();

  get(name: string): Stat | undefined { return this.stats.get(name); }

  /** Creates the stat on first use (Envoy never deletes stats). */
  ensure(name: string, kind: Kind): Stat {
    let stat = this.stats.get(name);
    if (!stat) { stat = { name, kind, value: 0n, histogram: kind === "histogram" ? new Histogram() : null }; this.stats.set(name, stat); }
    return stat;
  }

  counter(name: string): number { return Number(this.stats.get(name)?.value ?? 0n); }
  gauge(name: string): number { return Number(this.stats.get(name)?.value ?? 0n); }
  /** The latest samples (up to 1024), oldest first. */
  histogram(name: string): number[] { return [...(this.stats.get(name)?.histogram?.recent ?? [])]; }
  /** How many samples a histogram has recorded in all. */
  histogramCount(name: string): number { return this.stats.get(name)?.histogram?.count ?? 0; }
  names(): string[] { return [...this.stats.keys()].sort(); }

  /** Text in the shape of Envoy's /stats/prometheus for the stats defined by wasm filters. */
  prometheus(statsTags: StatsTag[] = []): string {
    const families = new Map<string, { kind: Kind; series: Array<{ labels: Array<[string, string]>; stat: Stat }> }>();
    for (const stat of [...this.stats.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const { name, labels } = extractTags(stat.name, statsTags);
      const promName = sanitizeName(name.replace(/^wasmcustom\./, ""));
      let family = families.get(promName);
      if (!family) { family = { kind: stat.kind, series: [] }; families.set(promName, family); }
      family.series.push({ labels, stat });
    }
    const lines: string[] = [];
    for (const [name, family] of families) {
      lines.push(`# TYPE ${name} ${family.kind}`);
      for (const { labels, stat } of family.series) {
        if (family.kind !== "histogram") {
          lines.push(`${name}${renderLabels(labels)} ${stat.value.toString()}`);
          continue;
        }
        const h = stat.histogram!;
        DEFAULT_HISTOGRAM_BUCKETS.forEach((le, i) => lines.push(`${name}_bucket${renderLabels([...labels, ["le", String(le)]])} ${h.bucketCounts[i]}`));
        lines.push(`${name}_bucket${renderLabels([...labels, ["le", "+Inf"]])} ${h.count}`);
        lines.push(`${name}_sum${renderLabels(labels)} ${h.sum}`);
        lines.push(`${name}_count${renderLabels(labels)} ${h.count}`);
      }
    }
    return lines.length ? lines.join("\n") + "\n" : "";
  }
}

/**
 * Envoy TagSpecifier semantics: the regex must match; capture group 1 is removed from the name;
 * the tag value is group 2 when present, else group 1. Later specifiers see the shortened name.
 */
export function extractTags(fullName: string, statsTags: StatsTag[]): { name: string; labels: Array<[string, string]> } {
  let name = fullName;
  const labels: Array<[string, string]> = [];
  for (const tag of statsTags) {
    const re = new RegExp(tag.regex, "d");
    const m = re.exec(name);
    if (!m || m[1] === undefined || !m.indices?.[1]) continue;
    const [start, end] = m.indices[1];
    labels.push([tag.tagName, m[2] !== undefined ? m[2] : m[1]]);
    name = name.slice(0, start) + name.slice(end);
  }
  return { name, labels };
}

function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, "_");
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function renderLabels(labels: Array<[string, string]>): string {
  if (!labels.length) return "";
  return `{${labels.map(([k, v]) => `${sanitizeName(k)}="${escapeLabel(v)}"`).join(",")}}`;
}

/** One VM's view of the store: ids per VM, stats shared (type + 4k id scheme of cpp-host). */
export class MetricRegistry {
  private readonly byId = new Map<number, { name: string; type: number }>();
  private readonly nextId = [4, 5, 6];

  constructor(private readonly store: StatsStore) {}

  define(type: number, name: string): { status: number; id?: number } {
    if (type > MetricType.Histogram || type < 0) return { status: WasmResult.BadArgument };
    const id = this.nextId[type];
    this.nextId[type] += 4;
    const fullName = `wasmcustom.${name}`;
    this.byId.set(id, { name: fullName, type });
    this.store.ensure(fullName, (["counter", "gauge", "histogram"] as const)[type]);
    return { status: WasmResult.Ok, id };
  }

  increment(id: number, delta: bigint): number {
    const m = this.byId.get(id);
    if (!m) return WasmResult.NotFound;
    const stat = this.store.get(m.name)!;
    if (m.type === MetricType.Counter) {
      if (delta <= 0n) return WasmResult.BadArgument;
      stat.value += delta;
      return WasmResult.Ok;
    }
    if (m.type === MetricType.Gauge) { stat.value += delta; return WasmResult.Ok; }
    return WasmResult.BadArgument;
  }

  record(id: number, value: bigint): number {
    const m = this.byId.get(id);
    if (!m) return WasmResult.NotFound;
    const stat = this.store.get(m.name)!;
    if (m.type === MetricType.Counter) stat.value += value;
    else if (m.type === MetricType.Gauge) stat.value = value;
    else stat.histogram!.record(Number(value));
    return WasmResult.Ok;
  }

  get(id: number): { status: number; value?: bigint } {
    const m = this.byId.get(id);
    if (!m) return { status: WasmResult.NotFound };
    if (m.type === MetricType.Histogram) return { status: WasmResult.BadArgument };
    return { status: WasmResult.Ok, value: this.store.get(m.name)!.value };
  }
}
