// Limitador's CEL (research/limitador.md §2, limitador/src/limit/cel.rs): `descriptors` is a list
// of string maps, `limit` ({name, id}) is in an inner scope. Expressions are compiled once; the
// shapes limits use in practice (`descriptors[i].k == 'v'`, `descriptors[i]['k']`, `descriptors[i]`)
// run as plain closures, everything else through @bufbuild/cel. Both report a missing map key as
// NO_SUCH_KEY and other failures as EvalError, which is what Limitador's semantics hinge on.
import { celEnv, parse, plan, isCelError, isCelMap, isCelUint } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { rustFloat } from "./rust-format.js";

const env = celEnv({ funcs: strings });

export type Descriptor = Map<string, string>;
export interface EvalContext { descriptors: Descriptor[]; limit?: { name: string | null; id: string | null } }

/** cel-rust's ExecutionError::NoSuchKey: a condition reads false, a variable leaves the limit unapplied. */
export const NO_SUCH_KEY: unique symbol = Symbol("NoSuchKey");
export class EvalError extends Error {}
export type EvalResult = unknown | typeof NO_SUCH_KEY | EvalError;

export interface Compiled {
  source: string;
  /** Root identifiers the expression references (cel-rust `references().variables()`, `@` names excluded). */
  roots: Set<string>;
  run(ctx: EvalContext): EvalResult;
}

export function compile(source: string): Compiled {
  const parsed = parse(source) as any;
  const roots = new Set<string>();
  collectIdents(parsed.expr, roots);
  return { source, roots, run: fastPath(parsed.expr) ?? general(parsed) };
}

function general(parsed: unknown): (ctx: EvalContext) => EvalResult {
  const program = plan(env, parsed as any);
  return (ctx) => {
    // `limit` is bound only where Limitador binds it: evaluating a limit, not metric labels.
    const r = program((ctx.limit
      ? { descriptors: ctx.descriptors, limit: new Map<string, string | null>([["name", ctx.limit.name], ["id", ctx.limit.id]]) }
      : { descriptors: ctx.descriptors }) as any);
    if (!isCelError(r)) return r;
    const message = (r as Error).message;
    return /^(field not found|no such key)/i.test(message) ? NO_SUCH_KEY : new EvalError(message);
  };
}

function collectIdents(e: any, out: Set<string>): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case "identExpr": if (!k.value.name.startsWith("@")) out.add(k.value.name); return;
    case "selectExpr": collectIdents(k.value.operand, out); return;
    case "callExpr": collectIdents(k.value.target, out); for (const a of k.value.args) collectIdents(a, out); return;
    case "listExpr": for (const a of k.value.elements) collectIdents(a, out); return;
    case "structExpr": for (const en of k.value.entries) { collectIdents(en.keyKind?.value, out); collectIdents(en.value, out); } return;
    case "comprehensionExpr": for (const f of ["iterRange", "accuInit", "loopCondition", "loopStep", "result"]) collectIdents(k.value[f], out); return;
  }
}

// ---- fast paths: the same results as the general evaluator, without building a CEL activation ----

type Access = (ctx: EvalContext) => string | Descriptor | typeof NO_SUCH_KEY | EvalError;

const outOfBounds = (i: number, n: number) => new EvalError(`index ${i} out of bounds [0, ${n - 1})`);

/** `descriptors[i]` */
function descriptorAt(e: any): number | null {
  const k = e?.exprKind;
  if (k?.case !== "callExpr" || k.value.function !== "_[_]" || k.value.args.length !== 2 || k.value.target) return null;
  const [target, index] = k.value.args;
  if (target.exprKind.case !== "identExpr" || target.exprKind.value.name !== "descriptors") return null;
  const c = index.exprKind.case === "constExpr" ? index.exprKind.value.constantKind : null;
  if (c?.case !== "int64Value" || c.value < 0n || c.value > 1000n) return null;
  return Number(c.value);
}

function stringConst(e: any): string | null {
  const c = e?.exprKind.case === "constExpr" ? e.exprKind.value.constantKind : null;
  return c?.case === "stringValue" ? c.value : null;
}

/** `descriptors[i]`, `descriptors[i].key`, `descriptors[i]['key']` */
function access(e: any): Access | null {
  const whole = descriptorAt(e);
  if (whole !== null) return (ctx) => (whole < ctx.descriptors.length ? ctx.descriptors[whole] : outOfBounds(whole, ctx.descriptors.length));
  const k = e?.exprKind;
  let index: number | null = null;
  let key: string | null = null;
  if (k?.case === "selectExpr" && !k.value.testOnly) { index = descriptorAt(k.value.operand); key = k.value.field; }
  else if (k?.case === "callExpr" && k.value.function === "_[_]" && k.value.args.length === 2 && !k.value.target) { index = descriptorAt(k.value.args[0]); key = stringConst(k.value.args[1]); }
  if (index === null || key === null) return null;
  const i = index, name = key;
  return (ctx) => {
    if (i >= ctx.descriptors.length) return outOfBounds(i, ctx.descriptors.length);
    const v = ctx.descriptors[i].get(name);
    return v === undefined ? NO_SUCH_KEY : v;
  };
}

function fastPath(e: any): ((ctx: EvalContext) => EvalResult) | null {
  const direct = access(e);
  if (direct) return direct;
  const k = e?.exprKind;
  if (k?.case !== "callExpr" || (k.value.function !== "_==_" && k.value.function !== "_!=_") || k.value.args.length !== 2) return null;
  const [a, b] = k.value.args;
  let read = access(a);
  let literal = stringConst(b);
  if (!read || literal === null) { read = access(b); literal = stringConst(a); }
  if (!read || literal === null) return null;
  const equal = k.value.function === "_==_";
  const get = read, lit = literal;
  return (ctx) => {
    const v = get(ctx);
    if (typeof v === "string") return (v === lit) === equal;
    if (v === NO_SUCH_KEY || v instanceof EvalError) return v;
    return !equal; // a map compared with a string: different types, never equal
  };
}

// ---- Limitador's uses of an expression ----

/** Predicate::test: unbound roots (other than `limit`) → false; NoSuchKey → false; non-bool → error. */
export function testCondition(c: Compiled, ctx: EvalContext, bound: ReadonlySet<string>): boolean | EvalError {
  for (const root of c.roots) if (root !== "limit" && !bound.has(root)) return false;
  const r = c.run(ctx);
  if (typeof r === "boolean") return r;
  if (r === NO_SUCH_KEY) return false;
  if (r instanceof EvalError) return r;
  return new EvalError(`unexpected value of type ${describe(r)}`);
}

/** Expression::eval: a scalar stringified as Rust prints it; NoSuchKey → null (not applied). */
export function resolveVariable(c: Compiled, ctx: EvalContext): string | null | EvalError {
  const r = c.run(ctx);
  if (r === NO_SUCH_KEY) return null;
  if (r instanceof EvalError) return r;
  return stringify(r);
}

export function stringify(v: unknown): string | EvalError {
  if (v === null) return "null";
  if (typeof v === "string") return v;
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "number") return rustFloat(v);
  if (isCelUint(v)) return String((v as any).value);
  return new EvalError(`unexpected value of type ${describe(v)}`);
}

function describe(v: unknown): string {
  if (isCelMap(v) || v instanceof Map) return "map";
  if (Array.isArray(v)) return "list";
  return typeof v;
}

/** Expression::eval_map (--metric-labels-default): entries whose key and value are strings; anything else → {}. */
export function labelsFromMap(c: Compiled, ctx: EvalContext): Array<[string, string]> | null {
  const r = c.run(ctx);
  if (r === NO_SUCH_KEY || r instanceof EvalError) return null; // an error: Limitador skips the default labels
  const out: Array<[string, string]> = [];
  const entries = r instanceof Map ? r.entries() : isCelMap(r) ? (r as any).entries() : null;
  if (!entries) return out;
  for (const [k, v] of entries as Iterable<[unknown, unknown]>) if (typeof k === "string" && typeof v === "string") out.push([k, v]);
  return out;
}
