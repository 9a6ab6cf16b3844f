// Limitador's Prometheus metrics (research/limitador.md §5, limitador-server/src/prometheus_metrics.rs):
// authorized_calls, authorized_hits, limited_calls (no _total), labels from --metric-labels-default
// (a map expression) then from the -L file, then limitador_namespace, then limit_name on
// limited_calls with -l. Families and series appear on their first increment; only the described
// families have HELP (authorized_hits has none); a blank line ends each family.
// Limitador's family, series and default-label order follows Rust HashMaps (arbitrary); here
// families and series keep their first-seen order and label names are sorted.
import { labelsFromMap, resolveVariable, type Compiled, type EvalContext } from "./cel.js";
import { exporterEscape, renderLabels } from "./exposition.js";
import { rustFloat } from "./rust-format.js";

type Label = [string, string];
interface Series { labels: Label[]; value: number }

class CounterFamily {
  readonly series = new Map<string, Series>();
  constructor(readonly name: string, readonly help: string | null) {}

  inc(labels: Label[], by: number): void {
    let key = "";
    for (const [k, v] of labels) key += k + "\u0001" + v + "\u0002";
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels, value: by });
  }
}

export class LimitadorMetrics {
  private readonly authorizedCalls = new CounterFamily("authorized_calls", "Authorized calls");
  private readonly authorizedHits = new CounterFamily("authorized_hits", null);
  private readonly limitedCalls = new CounterFamily("limited_calls", "Limited calls");
  /** Counter families in the order they were first incremented. */
  private readonly families: CounterFamily[] = [];
  private custom: Array<[string, Compiled]> = [];
  datastorePartitioned = 0;

  constructor(private readonly limitNameInLabels = false, private readonly defaultLabels: Compiled | null = null) {}

  /** The -L file's labels (label → CEL expression), replaced on reload. */
  setCustomLabels(labels: Array<[string, Compiled]>): void {
    this.custom = [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** The labels of a request: default-map entries, custom labels that resolve, then the namespace. */
  labels(namespace: string, ctx: EvalContext): Label[] {
    const out: Label[] = [];
    if (this.defaultLabels) {
      const entries = labelsFromMap(this.defaultLabels, ctx);
      if (entries) out.push(...entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    }
    for (const [label, expr] of this.custom) {
      const v = resolveVariable(expr, ctx); // a missing key or an error leaves the label out
      if (typeof v === "string") out.push([label, v]);
    }
    out.push(["limitador_namespace", namespace]);
    return out;
  }

  private bump(family: CounterFamily, labels: Label[], by: number): void {
    if (family.series.size === 0 && !this.families.includes(family)) this.families.push(family);
    family.inc(labels, by);
  }

  authorized(labels: Label[]): void { this.bump(this.authorizedCalls, labels, 1); }
  hits(labels: Label[], hits: number): void { this.bump(this.authorizedHits, labels, hits); }

  limited(labels: Label[], limitName: string | null): void {
    this.bump(this.limitedCalls, this.limitNameInLabels ? [...labels, ["limit_name", limitName ?? ""]] : labels, 1);
  }

  render(): string {
    let out = "";
    for (const f of this.families) {
      if (f.help !== null) out += `# HELP ${f.name} ${exporterEscape(f.help, true)}\n`;
      out += `# TYPE ${f.name} counter\n`;
      // Series whose labels print the same (e.g. `a.b` and `a_b`) collapse; the exporter keeps one value.
      const lines = new Map<string, number>();
      for (const s of f.series.values()) lines.set(renderLabels(s.labels), s.value);
      for (const [labels, value] of lines) out += `${f.name}${labels} ${value}\n`;
      out += "\n";
    }
    out += `# HELP limitador_up Limitador is running\n# TYPE limitador_up gauge\nlimitador_up ${rustFloat(1)}\n\n`;
    out += `# HELP datastore_partitioned Limitador is partitioned from backing datastore\n# TYPE datastore_partitioned gauge\ndatastore_partitioned ${rustFloat(this.datastorePartitioned)}\n\n`;
    return out;
  }
}
