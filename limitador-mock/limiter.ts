// Limitador's library (limitador/src/lib.rs, limit.rs): which limits of a namespace apply to a
// request, their counters, and is_rate_limited / check_rate_limited_and_update / update_counters
// with the X-RateLimit headers of CheckResult::response_header. The wire (codes, metrics) is in
// grpc-server.ts and http-server.ts.
import { resolveVariable, testCondition, EvalError, type EvalContext } from "./cel.js";
import type { Limit } from "./limits.js";
import type { CounterRef, CounterStorage, LoadedCounter, StoredCounter } from "./storage/types.js";

/** A variable that fails to evaluate: Limitador answers UNAVAILABLE ("Service unavailable"). */
export class EvaluationError extends Error {}
/**
 * A condition that fails other than by a missing key (an index past the descriptors, a non-bool):
 * Limitador unwraps it in `Limit::applies`, so its handler panics and the call is reset (gRPC
 * CANCELLED, HTTP connection dropped) while the server keeps serving.
 */
export class LimitadorPanic extends Error {}

export interface CheckResult {
  limited: boolean;
  /** Name of the limit found over (null when unnamed or not limited), for limit_name. */
  limitName: string | null;
  /** Counters with what was read (only when asked to load them, as Limitador's load_counters). */
  counters: Array<{ ref: CounterRef; loaded: LoadedCounter }>;
}

/** The roots Limitador binds for a request: only `descriptors` (the `limit` scope is separate). */
const BOUND = new Set(["descriptors"]);

export class RateLimiter {
  private byNamespace = new Map<string, Limit[]>();
  limits: Limit[] = [];

  /**
   * `random` decides the order limits are visited in: Limitador collects a namespace's limits into
   * a fresh HashSet per request, so the order changes from call to call. It shows in X-RateLimit-Limit
   * ties, in which name `limited_calls` gets when several limits are over, and in which error wins.
   */
  constructor(readonly storage: CounterStorage, private readonly random: () => number = Math.random) {}

  /** configure_with: counters of limits whose identity survives are kept (only max_value/name changed). */
  async setLimits(limits: Limit[]): Promise<void> {
    const kept = new Set(limits.map((l) => l.identity));
    const before = new Set(this.limits.map((l) => l.identity));
    const removed = this.limits.filter((l) => !kept.has(l.identity));
    this.limits = limits;
    this.byNamespace = new Map();
    for (const l of limits) {
      let list = this.byNamespace.get(l.namespace);
      if (!list) this.byNamespace.set(l.namespace, (list = []));
      list.push(l);
    }
    for (const l of removed) await this.storage.removeLimit(l);
    for (const l of limits) if (!before.has(l.identity)) await this.storage.addLimit(l);
  }

  limitsOf(namespace: string): Limit[] { return this.byNamespace.get(namespace) ?? []; }

  /** counters_that_apply, visiting the namespace's limits in a per-call random order. */
  countersFor(namespace: string, ctx: EvalContext): CounterRef[] {
    const limits = this.limitsOf(namespace);
    const order = limits.length > 1 ? this.shuffled(limits) : limits;
    const out: CounterRef[] = [];
    for (const limit of order) {
      const limitCtx: EvalContext = { descriptors: ctx.descriptors, limit: { name: limit.name, id: limit.id } };
      if (!this.applies(limit, limitCtx)) continue;
      const values: string[] = [];
      let resolved = true;
      for (const v of limit.variables) {
        const r = resolveVariable(v, limitCtx);
        if (r instanceof EvalError) throw new EvaluationError(`${v.source}: ${r.message}`);
        if (r === null) { resolved = false; break; }
        values.push(r);
      }
      if (!resolved) continue;
      out.push({ limit, values, key: values.length ? counterKey(limit, values) : limit.key, qualified: values.length > 0 });
    }
    return out;
  }

  /** Limit::applies: every condition true (in source order, stopping at the first false), every variable's roots bound. */
  private applies(limit: Limit, ctx: EvalContext): boolean {
    for (const c of limit.conditions) {
      const t = testCondition(c, ctx, BOUND);
      if (t instanceof EvalError) throw new LimitadorPanic(`condition ${c.source}: ${t.message}`);
      if (!t) return false;
    }
    for (const v of limit.variables) for (const root of v.roots) if (!BOUND.has(root)) return false;
    return true;
  }

  private shuffled<T>(items: T[]): T[] {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
    return a;
  }

  /** is_rate_limited (CheckRateLimit, HTTP /check): read-only, the first counter over decides. */
  async check(namespace: string, ctx: EvalContext, delta: number): Promise<CheckResult> {
    const counters = this.countersFor(namespace, ctx);
    const over = counters.length ? await this.storage.isWithinLimits(counters, delta) : -1;
    return { limited: over >= 0, limitName: over >= 0 ? counters[over].limit.name : null, counters: [] };
  }

  /** check_rate_limited_and_update (ShouldRateLimit, /check_and_report): all counters incremented or none. */
  async checkAndUpdate(namespace: string, ctx: EvalContext, delta: number, loadCounters: boolean): Promise<CheckResult> {
    const counters = this.countersFor(namespace, ctx);
    if (counters.length === 0) return { limited: false, limitName: null, counters: [] };
    const { limitedIndex, loaded } = await this.storage.checkAndUpdate(counters, delta, loadCounters);
    return {
      limited: limitedIndex >= 0,
      limitName: limitedIndex >= 0 ? counters[limitedIndex].limit.name : null,
      counters: loadCounters && loaded ? counters.map((ref, i) => ({ ref, loaded: loaded[i] })) : [],
    };
  }

  /** update_counters (Report, /report): every applicable counter incremented, no limit check. */
  async update(namespace: string, ctx: EvalContext, delta: number): Promise<void> {
    const counters = this.countersFor(namespace, ctx);
    if (counters.length) await this.storage.update(counters, delta);
  }

  /** get_counters (/counters/{ns}): live counters of the namespace's limits. */
  counters(namespace: string): Promise<StoredCounter[]> {
    return this.storage.list(this.limitsOf(namespace));
  }
}

/** A qualified counter's key in memory: the limit's short key and the values, unambiguously. */
export function counterKey(limit: Limit, values: string[]): string {
  if (values.length === 1) return `${limit.key}\u0000${values[0]}`;
  for (const v of values) if (v.includes("\u0001")) return `${limit.key}\u0002${JSON.stringify(values)}`;
  return `${limit.key}\u0000${values.join("\u0001")}`;
}

/**
 * CheckResult::response_header (DRAFT_VERSION_03): counters sorted by remaining (a stable sort, so
 * ties keep the visiting order); Limit = the first one's max then "max;w=seconds[;name=...]" for
 * each; Remaining and Reset (whole seconds left, rounded down) of the first.
 */
export function rateLimitHeaders(result: CheckResult): Array<{ key: string; value: string }> {
  if (result.counters.length === 0) return [];
  const rows = result.counters.slice().sort((a, b) => compareRemaining(a.loaded.remaining, b.loaded.remaining));
  let limit = rows[0].ref.limit.maxExact.toString();
  for (const { ref } of rows) {
    limit += `, ${ref.limit.maxExact};w=${ref.limit.seconds}`;
    if (ref.limit.name !== null) limit += `;name="${ref.limit.name.replace(/"/g, "'")}"`;
  }
  const top = rows[0].loaded;
  return [
    { key: "X-RateLimit-Limit", value: limit },
    { key: "X-RateLimit-Remaining", value: String(top.remaining) },
    { key: "X-RateLimit-Reset", value: String(Math.floor(top.ttlMs / 1000)) },
  ];
}

function compareRemaining(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** gRPC descriptors → the CEL `descriptors` list (a duplicate key keeps the last value). */
export function descriptorsContext(descriptors: Array<{ entries?: Array<{ key?: string; value?: string }> }>): EvalContext {
  return {
    descriptors: descriptors.map((d) => {
      const m = new Map<string, string>();
      for (const e of d.entries ?? []) m.set(e.key ?? "", e.value ?? "");
      return m;
    }),
  };
}
