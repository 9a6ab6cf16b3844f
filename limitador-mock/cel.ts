// Limitador's CEL context (research/limitador.md §2): `descriptors` is a list of string maps and
// `limit` ({name, id}) is in scope. A missing key makes a condition false and a variable
// unresolved; any other evaluation error is an error.
import { celEnv, parse, plan, isCelError, isCelMap, isCelUint, type CelResult } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";

const env = celEnv({ funcs: strings });

export interface Compiled { source: string; run(ctx: EvalContext): CelResult }
export interface EvalContext { descriptors: Array<Map<string, string>>; limit?: { name: string | null; id: string | null } }

export function compile(source: string): Compiled {
  const program = plan(env, parse(source));
  return {
    source,
    run: (ctx) => program({
      descriptors: ctx.descriptors,
      limit: new Map<string, string | null>([["name", ctx.limit?.name ?? null], ["id", ctx.limit?.id ?? null]]),
    } as any),
  };
}

export function isMissingKey(result: CelResult): boolean {
  return isCelError(result) && /no such key|not found/i.test((result as Error).message);
}

/** Condition semantics: true/false; a missing key is false; anything else non-bool is an error. */
export function testCondition(c: Compiled, ctx: EvalContext): boolean | Error {
  const r = c.run(ctx);
  if (typeof r === "boolean") return r;
  if (isMissingKey(r)) return false;
  return new Error(`condition '${c.source}' ${isCelError(r) ? `failed: ${(r as Error).message}` : "is not a bool"}`);
}

/** Variable semantics: a scalar stringified; a missing key → null (limit does not apply). */
export function resolveVariable(c: Compiled, ctx: EvalContext): string | null | Error {
  const r = c.run(ctx);
  if (isMissingKey(r)) return null;
  if (isCelError(r)) return new Error(`variable '${c.source}' failed: ${(r as Error).message}`);
  return stringify(r, c.source);
}

export function stringify(v: unknown, source: string): string | Error {
  if (v === null) return "null";
  if (typeof v === "string") return v;
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "number") return String(v);
  if (isCelUint(v)) return String((v as any).value);
  return new Error(`'${source}' must produce a scalar, got ${isCelMap(v) ? "a map" : typeof v}`);
}

/** --metric-labels-default: a map expression; entries with string keys and values become labels. */
export function labelsFromMap(c: Compiled, ctx: EvalContext): Record<string, string> {
  const r = c.run(ctx);
  const out: Record<string, string> = {};
  if (!isCelMap(r)) return out;
  for (const [k, v] of (r as any).entries() as Iterable<[unknown, unknown]>) {
    if (typeof k === "string" && typeof v === "string") out[k] = v;
  }
  return out;
}
