// Limitador's command line (limitador-server/src/main.rs create_config, a clap builder), parsed the
// way clap parses it: options before the storage subcommand, each subcommand with its own options,
// `--x=v`, `--x v`, `-xv` and bundled short flags, values checked against their type or their
// possible values (case-sensitive), environment fallbacks as defaults. A usage error is reported
// as clap reports it and exits 2.

export class UsageError extends Error {
  constructor(message: string, readonly usage = true) { super(message); }
}

type Kind = "flag" | "count" | "value";
interface Spec {
  id: string;
  short?: string;
  long?: string;
  kind: Kind;
  /** Shown in messages as `--long <valueName>`, as clap does with the argument id. */
  valueName?: string;
  possible?: string[];
  parse?: (v: string) => unknown;
}

const u = (bits: 16 | 64, signed = false) => (v: string): number => {
  if (!/^[+-]?\d+$/.test(v)) throw new Error(v === "" ? "cannot parse integer from empty string" : "invalid digit found in string");
  const n = BigInt(v);
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (bits === 16 && (n < min || n > max)) throw new Error(`${v} is not in ${min}..=${max}`);
  if (n < min) throw new Error(signed ? "number too small to fit in target type" : "invalid digit found in string");
  if (n > max) throw new Error("number too large to fit in target type");
  return Number(n);
};

export const GLOBAL: Spec[] = [
  { id: "ip", short: "b", long: "rls-ip", kind: "value" },
  { id: "port", short: "p", long: "rls-port", kind: "value", parse: u(16) },
  { id: "http_ip", short: "B", long: "http-ip", kind: "value" },
  { id: "http_port", short: "P", long: "http-port", kind: "value", parse: u(16) },
  { id: "limit_name_in_labels", short: "l", long: "limit-name-in-labels", kind: "flag" },
  { id: "custom_metric_labels", short: "L", long: "custom-metric-labels", kind: "value" },
  { id: "metric_labels_default", long: "metric-labels-default", kind: "value" },
  { id: "tracing_endpoint", long: "tracing-endpoint", kind: "value" },
  { id: "v", short: "v", kind: "count" },
  { id: "S", long: "structured-logs", kind: "flag" },
  { id: "validate", long: "validate", kind: "flag" },
  { id: "rate_limit_headers", short: "H", long: "rate-limit-headers", kind: "value", possible: ["NONE", "DRAFT_VERSION_03"] },
  { id: "grpc_reflection_service", long: "grpc-reflection-service", kind: "flag" },
  { id: "help", short: "h", long: "help", kind: "flag" },
  { id: "version", short: "V", long: "version", kind: "flag" },
];

export const SUBCOMMANDS: Record<string, { positional?: string; options: Spec[] }> = {
  memory: { options: [{ id: "CACHE_SIZE", short: "c", long: "cache", kind: "value", parse: u(64) }] },
  disk: { positional: "PATH", options: [{ id: "OPTIMIZE", long: "optimize", kind: "value", possible: ["throughput", "disk"] }] },
  redis: { positional: "URL", options: [] },
  redis_cached: {
    positional: "URL",
    options: [
      { id: "batch", long: "batch-size", kind: "value", parse: u(64) },
      { id: "flush", long: "flush-period", kind: "value", parse: u(64, true) },
      { id: "max", long: "max-cached", kind: "value", parse: u(64) },
      { id: "timeout", long: "response-timeout", kind: "value", parse: u(64) },
    ],
  },
};
for (const sub of Object.values(SUBCOMMANDS)) sub.options.push({ id: "help", short: "h", long: "help", kind: "flag" });

export interface Parsed {
  values: Record<string, unknown>;
  positionals: string[];
  subcommand: { name: string; values: Record<string, unknown>; positional: string | null } | null;
}

function display(spec: Spec): string {
  if (spec.kind !== "value") return spec.long ? `--${spec.long}` : `-${spec.short}`;
  return spec.long ? `--${spec.long} <${spec.valueName ?? spec.id}>` : `-${spec.short} <${spec.valueName ?? spec.id}>`;
}

function convert(spec: Spec, raw: string): unknown {
  if (spec.possible && !spec.possible.includes(raw)) {
    const similar = spec.possible.find((p) => p.toLowerCase() === raw.toLowerCase());
    throw new UsageError(`invalid value '${raw}' for '${display(spec)}'\n  [possible values: ${spec.possible.join(", ")}]${similar ? `\n\n  tip: a similar value exists: '${similar}'` : ""}`, false);
  }
  if (!spec.parse) return raw;
  try { return spec.parse(raw); } catch (err) { throw new UsageError(`invalid value '${raw}' for '${display(spec)}': ${(err as Error).message}`, false); }
}

/** Parses one level (the top command or a subcommand) from `args[start..]`. */
function parseLevel(args: string[], start: number, specs: Spec[], isTop: boolean, values: Record<string, unknown>, positionals: string[]): number {
  const byLong = new Map(specs.filter((s) => s.long).map((s) => [s.long!, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const seen = new Set<string>();
  const set = (spec: Spec, v: unknown) => {
    if (spec.kind === "count") { values[spec.id] = ((values[spec.id] as number) ?? 0) + 1; return; }
    if (seen.has(spec.id) && spec.kind === "value") throw new UsageError(`the argument '${display(spec)}' cannot be used multiple times`);
    seen.add(spec.id);
    values[spec.id] = v;
  };
  let i = start;
  let onlyPositionals = false;
  while (i < args.length) {
    const a = args[i];
    if (!onlyPositionals && a === "--") { onlyPositionals = true; i++; continue; }
    if (!onlyPositionals && a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unexpected argument '${eq < 0 ? a : a.slice(0, eq)}' found`);
      if (spec.kind !== "value") {
        if (eq >= 0) throw new UsageError(`unexpected value '${a.slice(eq + 1)}' for '${display(spec)}' found; no more were expected`);
        set(spec, true);
        i++;
        continue;
      }
      let raw: string | undefined = eq >= 0 ? a.slice(eq + 1) : args[i + 1];
      if (raw === undefined || (eq < 0 && raw.startsWith("-") && raw.length > 1)) throw new UsageError(`a value is required for '${display(spec)}' but none was supplied`);
      set(spec, convert(spec, raw));
      i += eq >= 0 ? 1 : 2;
      continue;
    }
    if (!onlyPositionals && a.startsWith("-") && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const spec = byShort.get(a[k]);
        if (!spec) throw new UsageError(`unexpected argument '-${a[k]}' found`);
        if (spec.kind !== "value") { set(spec, true); continue; }
        let raw = a.slice(k + 1);
        if (raw.startsWith("=")) raw = raw.slice(1);
        if (raw === "") {
          raw = args[i + 1];
          if (raw === undefined) throw new UsageError(`a value is required for '${display(spec)}' but none was supplied`);
          i++;
        }
        set(spec, convert(spec, raw));
        break;
      }
      i++;
      continue;
    }
    if (isTop && positionals.length >= 1 && a in SUBCOMMANDS) return i;
    positionals.push(a);
    i++;
  }
  return i;
}

export function parseCommandLine(args: string[]): Parsed {
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const next = parseLevel(args, 0, GLOBAL, true, values, positionals);
  let subcommand: Parsed["subcommand"] = null;
  if (next < args.length) {
    const name = args[next];
    const sub = SUBCOMMANDS[name];
    const subValues: Record<string, unknown> = {};
    const subPositionals: string[] = [];
    parseLevel(args, next + 1, sub.options, false, subValues, subPositionals);
    const expected = sub.positional ? 1 : 0;
    if (subPositionals.length > expected) throw new UsageError(`unexpected argument '${subPositionals[expected]}' found`);
    subcommand = { name, values: subValues, positional: subPositionals[0] ?? null };
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' found`);
  return { values, positionals, subcommand };
}
