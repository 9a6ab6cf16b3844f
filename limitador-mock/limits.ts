// The limits file exactly as Limitador reads it (research/limitador.md §3): a YAML list of
// {namespace, max_value, seconds, conditions, variables, name?, id?}; conditions and variables
// are CEL. Validation names the item and field; identity excludes max_value and name, so a reload
// that only changes those keeps the counters.
import { parseDocument } from "yaml";
import { compile, type Compiled } from "./cel.js";

export interface Limit {
  namespace: string;
  maxValue: number;
  seconds: number;
  conditions: Compiled[];
  variables: Compiled[];
  name: string | null;
  id: string | null;
  /** namespace + seconds + sorted conditions + sorted variables. */
  identity: string;
}

export class LimitsError extends Error {}

export function limitIdentity(namespace: string, seconds: number, conditions: string[], variables: string[]): string {
  return JSON.stringify([namespace, seconds, [...conditions].sort(), [...variables].sort()]);
}

/** Parses and validates; throws LimitsError naming every problem (item index, field, line). */
export function parseLimits(text: string): Limit[] {
  const doc = parseDocument(text, { uniqueKeys: false });
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
    if (!Number.isSafeInteger(o.seconds) || (o.seconds as number) < 0) problems.push(`${where("seconds")}: ${o.seconds === undefined ? "missing field `seconds`" : "must be a non-negative integer"}`);
    if (o.max_value !== undefined && (!Number.isSafeInteger(o.max_value) || (o.max_value as number) < 0)) problems.push(`${where("max_value")}: must be a non-negative integer`);
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
    const conditions = exprs("conditions");
    const variables = exprs("variables");
    if (o.name !== undefined && o.name !== null && typeof o.name !== "string") problems.push(`${where("name")}: must be a string`);
    if (o.id !== undefined && o.id !== null && typeof o.id !== "string") problems.push(`${where("id")}: must be a string`);
    if (problems.length > before) return;
    const identity = limitIdentity(o.namespace as string, o.seconds as number, conditions.map((c) => c.source), variables.map((c) => c.source));
    if (seen.has(identity)) return; // duplicates collapse; the first wins
    seen.add(identity);
    limits.push({
      namespace: o.namespace as string, maxValue: (o.max_value as number | undefined) ?? 0, seconds: o.seconds as number,
      conditions, variables, name: (o.name as string | undefined) ?? null, id: (o.id as string | undefined) ?? null, identity,
    });
  });
  if (problems.length) throw new LimitsError(`Invalid limit file:\n  ${problems.join("\n  ")}`);
  return limits;
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
    id: l.id, namespace: l.namespace, max_value: l.maxValue, seconds: l.seconds, name: l.name,
    conditions: l.conditions.map((c) => c.source), variables: l.variables.map((c) => c.source),
  }));
}
