// The limits file exactly as Limitador reads it (research/limitador.md §3): a YAML list of
// {namespace, max_value, seconds, conditions, variables, name?, id?}; conditions and variables
// are CEL. Validation names the item and field; identity excludes max_value and name, so a reload
// that only changes those keeps the counters.
import { parseDocument } from "yaml";
import { compile, type Compiled } from "./cel.js";
import { U64_MAX } from "./rust-format.js";

export interface Limit {
  namespace: string;
  /** max_value for arithmetic (exact up to 2^53) and exactly as written, for output (u64). */
  maxValue: number;
  maxExact: bigint;
  seconds: number;
  /** Deduplicated and in byte order of their source, as Limitador's BTreeSet keeps them. */
  conditions: Compiled[];
  variables: Compiled[];
  name: string | null;
  id: string | null;
  /** namespace + seconds + sorted conditions + sorted variables. */
  identity: string;
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A BTreeSet<Expression>: sorted by source bytes, duplicates dropped. */
function sortedUnique(exprs: Compiled[]): Compiled[] {
  const out: Compiled[] = [];
  for (const e of [...exprs].sort((a, b) => utf8Order(a.source, b.source))) if (out[out.length - 1]?.source !== e.source) out.push(e);
  return out;
}

export class LimitsError extends Error {}

export function limitIdentity(namespace: string, seconds: number, conditions: string[], variables: string[]): string {
  return JSON.stringify([namespace, seconds, [...conditions].sort(), [...variables].sort()]);
}

/** Parses and validates; throws LimitsError naming every problem (item index, field, line). */
export function parseLimits(text: string): Limit[] {
  const doc = parseDocument(text, { uniqueKeys: false, intAsBigInt: true });
  if (doc.errors.length) throw new LimitsError(`Couldn't parse: ${doc.errors.map((e) => e.message.split("\n")[0]).join("; ")}`);
  const data = doc.toJS();
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) throw new LimitsError("Couldn't parse: the file must be a YAML sequence of limits");
  const problems: string[] = [];
  const limits: Limit[] = [];
  const seen = new Set<string>();
  data.forEach((item: unknown, index: number) => {
    const at = `[${index}]`;
    const line = lineOf(text, doc, index);
    const where = (field?: string) => `${at}${field ? `.${field}` : ""}${line ? ` (line ${line})` : ""}`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) { problems.push(`${where()}: a limit must be a mapping`); return; }
    const o = item as Record<string, unknown>;
    const before = problems.length;
    if (typeof o.namespace !== "string") problems.push(`${where("namespace")}: missing field \`namespace\`${o.namespace === undefined ? "" : " (must be a string)"}`);
    if (!isU64(o.seconds) || o.seconds > BigInt(Number.MAX_SAFE_INTEGER)) problems.push(`${where("seconds")}: ${o.seconds === undefined ? "missing field `seconds`" : "must be a non-negative integer"}`);
    if (o.max_value !== undefined && !isU64(o.max_value)) problems.push(`${where("max_value")}: must be an integer from 0 to ${U64_MAX}`);
    const exprs = (field: "conditions" | "variables"): Compiled[] => {
      if (!(field in o)) { problems.push(`${where(field)}: missing field \`${field}\``); return []; }
      const v = o[field];
      if (v === null) return []; // `conditions:` left blank parses as empty
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) { problems.push(`${where(field)}: must be a list of CEL expressions (strings)`); return []; }
      const out: Compiled[] = [];
      for (const [i, source] of (v as string[]).entries()) {
        try { out.push(compile(source)); } catch (err) { problems.push(`${where(`${field}[${i}]`)}: couldn't parse ${JSON.stringify(source)}: ${(err as Error).message.split("\n")[0]}`); }
      }
      return out;
    };
    const conditions = sortedUnique(exprs("conditions"));
    const variables = sortedUnique(exprs("variables"));
    if (o.name !== undefined && o.name !== null && typeof o.name !== "string") problems.push(`${where("name")}: must be a string`);
    if (o.id !== undefined && o.id !== null && typeof o.id !== "string") problems.push(`${where("id")}: must be a string`);
    if (problems.length > before) return;
    const seconds = Number(o.seconds);
    const identity = limitIdentity(o.namespace as string, seconds, conditions.map((c) => c.source), variables.map((c) => c.source));
    if (seen.has(identity)) return; // duplicates collapse; the first wins
    seen.add(identity);
    const maxExact = (o.max_value as bigint | undefined) ?? 0n;
    limits.push({
      namespace: o.namespace as string, maxValue: Number(maxExact), maxExact, seconds,
      conditions, variables, name: (o.name as string | undefined) ?? null, id: (o.id as string | undefined) ?? null, identity,
    });
  });
  if (problems.length) throw new LimitsError(`Invalid limit file:\n  ${problems.join("\n  ")}`);
  return limits;
}

function isU64(v: unknown): v is bigint {
  return typeof v === "bigint" && v >= 0n && v <= U64_MAX;
}

function lineOf(text: string, doc: ReturnType<typeof parseDocument>, index: number): number | null {
  const seq = doc.contents as any;
  const node = seq?.items?.[index];
  const offset = node?.range?.[0];
  if (typeof offset !== "number") return null;
  return text.slice(0, offset).split("\n").length;
}

/** The normalized YAML that `--validate` prints (fields as Limitador prints them). */
export function describeLimits(limits: Limit[]): object[] {
  return limits.map((l) => ({
    id: l.id, namespace: l.namespace, max_value: l.maxExact, seconds: l.seconds, name: l.name,
    conditions: l.conditions.map((c) => c.source), variables: l.variables.map((c) => c.source),
  }));
}
