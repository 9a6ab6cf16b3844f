// The Prometheus text format (0.0.4) as Prometheus reads it: counters and gauges as labelled
// samples, histograms as cumulative buckets per label set. The dashboard scrapes the gateway's
// /stats/prometheus and Limitador's /metrics into this, so it shows what Prometheus would store.
// Our own parser: the npm one (parse-prometheus-text-format 1.1.1) merges every series of a
// labelled histogram into one and drops their labels, sums and counts.

export type Labels = Record<string, string>;
export interface Sample { labels: Labels; value: number }
/** Cumulative buckets sorted by upper bound, +Inf last (Prometheus's `le`). */
export interface Histogram { labels: Labels; buckets: Array<[number, number]>; sum: number; count: number }

export interface Exposition {
  /** Counters, gauges and untyped families, by metric name. */
  samples: Map<string, Sample[]>;
  histograms: Map<string, Histogram[]>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, Sample[]>();
  const histograms = new Map<string, Map<string, Histogram>>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      const type = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (type) types.set(type[1], type[2]);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line.slice(0, 120)}`);
    const [, name, labelText, valueText] = m;
    const labels = parseLabels(labelText ?? "", i + 1);
    const value = parseValue(valueText, i + 1);
    const histogram = histogramPart(name, types);
    if (histogram) {
      const { family, part } = histogram;
      const le = labels.le;
      delete labels.le;
      const key = JSON.stringify(labels);
      let series = histograms.get(family);
      if (!series) histograms.set(family, (series = new Map()));
      let h = series.get(key);
      if (!h) series.set(key, (h = { labels, buckets: [], sum: 0, count: 0 }));
      if (part === "bucket") {
        if (le === undefined) throw new Error(`line ${i + 1}: a bucket without le`);
        h.buckets.push([parseValue(le, i + 1), value]);
      } else h[part] = value;
      continue;
    }
    if (types.get(name) === "summary") continue;
    let list = samples.get(name);
    if (!list) samples.set(name, (list = []));
    list.push({ labels, value });
  }
  const out = new Map<string, Histogram[]>();
  for (const [family, series] of histograms) {
    for (const h of series.values()) h.buckets.sort((a, b) => a[0] - b[0]);
    out.set(family, [...series.values()]);
  }
  return { samples, histograms: out };
}

function histogramPart(name: string, types: Map<string, string>): { family: string; part: "bucket" | "sum" | "count" } | null {
  for (const part of ["bucket", "sum", "count"] as const) {
    const suffix = `_${part}`;
    if (name.endsWith(suffix) && types.get(name.slice(0, -suffix.length)) === "histogram") return { family: name.slice(0, -suffix.length), part };
  }
  return null;
}

function parseLabels(text: string, line: number): Labels {
  const labels: Labels = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m) {
      if (text.slice(start).trim() === "") break;
      throw new Error(`line ${line}: bad labels at: ${text.slice(start, start + 60)}`);
    }
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return labels;
}

function parseValue(text: string, line: number): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  if (Number.isNaN(n)) throw new Error(`line ${line}: not a number: ${text}`);
  return n;
}

/** Fetches and parses one scrape target; a clear error when it is down or not Prometheus text. */
export async function scrape(url: string, timeoutMs = 2000): Promise<Exposition> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const text = await res.text();
  try {
    return parseExposition(text);
  } catch (err) {
    throw new Error(`${url} is not Prometheus text: ${(err as Error).message}`);
  }
}
