// The limits file as Limitador reads it (research/limitador.md §3): serde_yaml deserialising a
// `Vec<Limit>` of {namespace, max_value = 0, seconds, conditions, variables, name?, id?}, CEL
// parsed on load. Its rules are serde's: a plain scalar is a string wherever a string is wanted
// (`namespace: 5` is "5"), a blank value is an empty list, `~` is not; unknown keys are ignored;
// the first problem stops the load, reported with its path and position as serde_yaml words it
// (".[0].max_value: invalid type: integer `-1`, expected u64 at line 2 column 14"). Identity
// excludes max_value and name, so a reload that only changes those keeps the counters.
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node, type Scalar } from "yaml";
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
  /** A short stand-in for `identity` within this process (counter keys in memory). */
  key: string;
}

const keys = new Map<string, string>();

/** The same short key for the same identity, for as long as the process runs (reloads included). */
function keyFor(identity: string): string {
  let k = keys.get(identity);
  if (k === undefined) keys.set(identity, (k = `L${keys.size}`));
  return k;
}

/** `Invalid limit file: Couldn't parse: …`, as Limitador prints it. */
export class LimitsError extends Error {
  constructor(detail: string, kind: "parse" | "read" = "parse") { super(`Invalid limit file: ${kind === "parse" ? "Couldn't parse: " : ""}${detail}`); }
}

/** Reads and parses a limits file, with Limitador's messages for a file that cannot be read. */
export function readLimitsFile(path: string): Limit[] {
  let source: string;
  try { source = readFileSync(path, "utf8"); } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Limitador opens the file, then reads it: a directory opens fine and fails while parsing.
    if (e.code === "EISDIR") throw new LimitsError(rustIoError(e));
    throw new LimitsError(`Couldn't read file '${path}': ${rustIoError(e)}`, "read");
  }
  return parseLimits(source);
}

/** std::io::Error's Display for the usual codes. */
export function rustIoError(e: NodeJS.ErrnoException): string {
  const known: Record<string, [string, number]> = { ENOENT: ["No such file or directory", 2], EACCES: ["Permission denied", 13], EISDIR: ["Is a directory", 21], ENOTDIR: ["Not a directory", 20] };
  const k = e.code ? known[e.code] : undefined;
  return k ? `${k[0]} (os error ${k[1]})` : e.message;
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A BTreeSet<Expression>: sorted by source bytes, duplicates dropped. */
function sortedUnique(exprs: Compiled[]): Compiled[] {
  const out: Compiled[] = [];
  for (const e of [...exprs].sort((a, b) => utf8Order(a.source, b.source))) if (out[out.length - 1]?.source !== e.source) out.push(e);
  return out;
}

export function limitIdentity(namespace: string, seconds: number, conditions: string[], variables: string[]): string {
  return JSON.stringify([namespace, seconds, [...conditions].sort(), [...variables].sort()]);
}

/** A deserialisation problem at a node: serde_yaml's message without the path. */
class Problem extends Error {
  constructor(message: string, readonly node: Node | null) { super(message); }
}

/** serde's name for what was found, as in "invalid type: <it>, expected u64". */
function unexpected(node: Node | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return "unit value";
  if (isMap(node)) return "map";
  if (isSeq(node)) return "sequence";
  const s = node as Scalar;
  if (s.type !== "PLAIN") return `string ${JSON.stringify(String(s.value))}`;
  if (typeof s.value === "boolean") return `boolean \`${s.value}\``;
  if (typeof s.value === "bigint" || (typeof s.value === "number" && Number.isInteger(s.value) && /^[-+]?\d+$/.test(s.source ?? ""))) return `integer \`${s.value}\``;
  if (typeof s.value === "number") return `floating point \`${s.value}\``;
  return `string ${JSON.stringify(String(s.value))}`;
}

/** A string field: any scalar, a plain one as written. */
function text(node: Node | null): string {
  if (node && isScalar(node) && node.value !== null) return node.type === "PLAIN" ? String(node.source ?? node.value) : String(node.value);
  throw new Problem(`invalid type: ${unexpected(node)}, expected a string`, node);
}

function u64(node: Node | null): bigint {
  if (node && isScalar(node) && node.type === "PLAIN" && typeof node.value === "bigint") {
    if (node.value < 0n) throw new Problem(`invalid type: integer \`${node.value}\`, expected u64`, node);
    if (node.value > U64_MAX) throw new Problem(`invalid type: integer \`${node.value}\` as u128, expected u64`, node);
    return node.value;
  }
  throw new Problem(`invalid type: ${unexpected(node)}, expected u64`, node);
}

function optionalText(node: Node | null): string | null {
  if (node === null || (isScalar(node) && node.value === null)) return null;
  return text(node);
}

/** conditions / variables: a sequence of CEL strings; a blank value is an empty one. */
function expressions(node: Node | null): Compiled[] {
  if (node && isScalar(node) && node.value === null && node.source === "") return [];
  if (!node || !isSeq(node)) throw new Problem(`invalid type: ${unexpected(node)}, expected a sequence`, node);
  return node.items.map((item) => {
    const source = text(item as Node);
    try { return compile(source); } catch (err) { throw new Problem(`couldn't parse ${source}: ${(err as Error).message}`, node); }
  });
}

const FIELDS = ["id", "namespace", "max_value", "seconds", "name", "conditions", "variables"] as const;

export function parseLimits(source: string): Limit[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { uniqueKeys: false, intAsBigInt: true, lineCounter });
  if (doc.errors.length) throw new LimitsError(doc.errors[0].message.split("\n")[0]);
  const at = (node: Node | null) => {
    if (!node?.range) return "";
    const { line, col } = lineCounter.linePos(node.range[0]);
    return ` at line ${line} column ${col}`;
  };
  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && root.value === null)) return [];
  if (!isSeq(root)) throw new LimitsError(`invalid type: ${unexpected(root)}, expected a sequence`);

  const limits: Limit[] = [];
  const seen = new Set<string>();
  root.items.forEach((item, index) => {
    const node = item as Node;
    let path = `.[${index}]`;
    try {
      if (!isMap(node)) throw new Problem(`invalid type: ${unexpected(node)}, expected struct Limit`, node);
      const fields = new Map<string, Node | null>();
      const read: Partial<Record<(typeof FIELDS)[number], unknown>> = {};
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : "";
        if (!(FIELDS as readonly string[]).includes(key)) continue; // unknown keys are ignored
        if (fields.has(key)) throw new Problem(`duplicate field \`${key}\``, node);
        const value = (pair.value ?? null) as Node | null;
        fields.set(key, value);
        path = `.[${index}].${key}`;
        if (key === "namespace") read.namespace = text(value);
        else if (key === "max_value" || key === "seconds") read[key] = u64(value);
        else if (key === "id" || key === "name") read[key] = optionalText(value);
        else read[key as "conditions" | "variables"] = expressions(value);
        path = `.[${index}]`;
      }
      for (const required of ["namespace", "seconds", "conditions", "variables"] as const) {
        if (!fields.has(required)) throw new Problem(`missing field \`${required}\``, node);
      }
      if ((read.seconds as bigint) > BigInt(Number.MAX_SAFE_INTEGER)) throw new Problem("seconds beyond 2^53 are not supported by the mock", fields.get("seconds")!);
      const conditions = sortedUnique(read.conditions as Compiled[]);
      const variables = sortedUnique(read.variables as Compiled[]);
      const seconds = Number(read.seconds);
      const identity = limitIdentity(read.namespace as string, seconds, conditions.map((c) => c.source), variables.map((c) => c.source));
      if (seen.has(identity)) return; // duplicates collapse; the first wins
      seen.add(identity);
      const maxExact = (read.max_value as bigint | undefined) ?? 0n;
      limits.push({
        namespace: read.namespace as string, maxValue: Number(maxExact), maxExact, seconds, conditions, variables,
        name: (read.name as string | null | undefined) ?? null, id: (read.id as string | null | undefined) ?? null, identity, key: keyFor(identity),
      });
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      throw new LimitsError(`${path}: ${err.message}${at(err.node)}`);
    }
  });
  return limits;
}

/** The normalized YAML that `--validate` prints (fields as Limitador prints them). */
export function describeLimits(limits: Limit[]): object[] {
  return limits.map((l) => ({
    id: l.id, namespace: l.namespace, max_value: l.maxExact, seconds: l.seconds, name: l.name,
    conditions: l.conditions.map((c) => c.source), variables: l.variables.map((c) => c.source),
  }));
}
