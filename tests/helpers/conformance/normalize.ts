// Normalising what a Limitador answers so that two servers can be compared: only what varies
// between runs (clocks) or follows a Rust HashMap/HashSet's order is normalised, each in one place.

/** JSON with u64 integers kept exact (as strings "u64:N" when beyond 2^53). */
export function parseJsonExact(text: string): unknown {
  const marked = text.replace(/("(?:[^"\\]|\\.)*")|(-?\d{16,})/g, (m, str, num) => (str ? str : Number.isSafeInteger(Number(num)) ? num : `"u64:${num}"`));
  return JSON.parse(marked);
}

/** A time left, in whole seconds, as seen a moment after a window of `window` s started: 0, W, W−1, or the number. */
export function secondsLeft(value: number, window: number): string {
  if (value === 0) return "0";
  if (value === window) return "W";
  if (value >= window - 3 && value < window) return "W-1"; // rounded down, a second or two may pass on a busy machine
  return String(value);
}

/**
 * X-RateLimit-* headers. X-RateLimit-Limit lists counters sorted by remaining; ties follow a
 * HashSet's order in Limitador, so the items are compared as a set (the first value stays).
 */
export function rateLimitHeaders(headers: Array<{ key: string; value: string }>) {
  const byKey = Object.fromEntries(headers.map((h) => [h.key, h.value]));
  const limit = byKey["X-RateLimit-Limit"];
  if (limit === undefined) return { keys: headers.map((h) => h.key) };
  const [first, ...items] = limit.split(", ");
  const window = Number(/;w=(\d+)/.exec(items[0] ?? "")?.[1] ?? 0);
  return {
    keys: headers.map((h) => h.key),
    limit: { first, items: [...items].sort() },
    remaining: byKey["X-RateLimit-Remaining"],
    reset: byKey["X-RateLimit-Reset"] === undefined ? undefined : secondsLeft(Number(byKey["X-RateLimit-Reset"]), window),
  };
}

export interface MetricFamily { name: string; help: string | null; type: string | null; series: string[] }

/**
 * Prometheus text: families in any order (a HashMap in Limitador), series in any order, labels in
 * any order within a series (compared sorted). `blocks` checks the layout: one family per
 * blank-line-terminated block.
 */
export function parseMetrics(text: string): { endsWithBlankLine: boolean; blocks: number; families: MetricFamily[] } {
  const blocks = text.split("\n\n").filter((b) => b.trim() !== "");
  const families: MetricFamily[] = [];
  for (const block of blocks) {
    const f: MetricFamily = { name: "", help: null, type: null, series: [] };
    for (const line of block.split("\n")) {
      let m: RegExpExecArray | null;
      if ((m = /^# HELP (\S+) (.*)$/.exec(line))) { f.name = m[1]; f.help = m[2]; }
      else if ((m = /^# TYPE (\S+) (\S+)$/.exec(line))) { f.name = m[1]; f.type = m[2]; }
      else if (line) f.series.push(normalizeSeries(line));
    }
    f.series.sort();
    families.push(f);
  }
  families.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { endsWithBlankLine: text.endsWith("\n\n") || text === "", blocks: blocks.length, families };
}

function normalizeSeries(line: string): string {
  const m = /^([^{\s]+)(?:\{(.*)\})? (\S+)$/.exec(line);
  if (!m) return `unparsed: ${line}`;
  const labels: string[] = [];
  const re = /([^=,]+)="((?:[^"\\]|\\.)*)"/g;
  let l: RegExpExecArray | null;
  while ((l = re.exec(m[2] ?? ""))) labels.push(`${l[1]}="${l[2]}"`);
  return `${m[1]}{${labels.sort().join(",")}} ${m[3]}`;
}

interface LimitJson { id: unknown; namespace: string; max_value: unknown; seconds: number; name: unknown; conditions: string[]; variables: string[] }

/** A limit as /limits and /counters show it: conditions and variables come from a HashSet. */
export function limitJson(l: LimitJson) {
  return { ...l, conditions: [...l.conditions].sort(), variables: [...l.variables].sort() };
}

/** /limits/{ns} and /counters/{ns} lists come from HashSets: compared sorted. */
export function sortedList<T>(items: T[]): T[] {
  return items.map((x) => JSON.stringify(x)).sort().map((x) => JSON.parse(x));
}

export function counterJson(c: { limit: LimitJson; set_variables: Record<string, string>; remaining: unknown; expires_in_seconds: number | null }) {
  return {
    limit: limitJson(c.limit),
    set_variables: c.set_variables,
    set_variables_order: Object.keys(c.set_variables),
    remaining: c.remaining,
    expires_in_seconds: c.expires_in_seconds === null ? null : secondsLeft(c.expires_in_seconds, c.limit.seconds),
  };
}

/** Response headers: names as sent (case kept, sorted); hop-by-hop ones Node adds are left out. */
export function headerNames(raw: Array<[string, string]>): string[] {
  return raw.map(([k]) => k).filter((k) => !/^(connection|keep-alive)$/i.test(k)).sort();
}

export function header(raw: Array<[string, string]>, name: string): string | undefined {
  return raw.find(([k]) => k.toLowerCase() === name)?.[1];
}
