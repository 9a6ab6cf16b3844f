// Limitador's core: the limits of a namespace that apply to a request (all conditions true, all
// variables resolved), their counters, and check / update / check-and-update with the
// X-RateLimit headers (research/limitador.md §1–§2).
import { resolveVariable, testCondition, type EvalContext } from "./cel.js";
import type { Limit } from "./limits.js";
import type { CounterSpec, CounterState, CounterStorage } from "./storage/types.js";

export interface AppliedCounter { limit: Limit; values: string[]; spec: CounterSpec }

export interface Decision {
  limited: boolean;
  /** Name of the (first) limit found over, for limit_name. */
  limitName: string | null;
  counters: AppliedCounter[];
  states: CounterState[];
  delta: number;
}

/** A request that breaks the limits' CEL (e.g. a variable that yields a map): Limitador answers UNAVAILABLE. */
export class EvaluationError extends Error {}

export function counterPrefix(namespace: string): string {
  return `limitador:{${namespace}}:`;
}

export class RateLimiter {
  private byNamespace = new Map<string, Limit[]>();
  limits: Limit[] = [];

  constructor(readonly storage: CounterStorage) {}

  /** Installs new limits; counters of limits whose identity survives are kept (only max_value/name changed). */
  async setLimits(limits: Limit[]): Promise<void> {
    const kept = new Set(limits.map((l) => l.identity));
    const removed = this.limits.filter((l) => !kept.has(l.identity));
    this.limits = limits;
    this.byNamespace = new Map();
    for (const l of limits) {
      if (!this.byNamespace.has(l.namespace)) this.byNamespace.set(l.namespace, []);
      this.byNamespace.get(l.namespace)!.push(l);
    }
    for (const l of removed) await this.storage.deletePrefix(counterPrefix(l.namespace) + l.identity + "\u0000");
  }

  limitsOf(namespace: string): Limit[] { return this.byNamespace.get(namespace) ?? []; }

  countersFor(namespace: string, ctx: EvalContext): AppliedCounter[] {
    const out: AppliedCounter[] = [];
    for (const limit of this.limitsOf(namespace)) {
      const limitCtx = { ...ctx, limit: { name: limit.name, id: limit.id } };
      let applies = true;
      for (const c of limit.conditions) {
        const t = testCondition(c, limitCtx);
        if (t instanceof Error) throw new EvaluationError(t.message);
        if (!t) { applies = false; break; }
      }
      if (!applies) continue;
      const values: string[] = [];
      for (const v of limit.variables) {
        const r = resolveVariable(v, limitCtx);
        if (r instanceof Error) throw new EvaluationError(r.message);
        if (r === null) { applies = false; break; }
        values.push(r);
      }
      if (!applies) continue;
      const key = counterPrefix(namespace) + limit.identity + "\u0000" + JSON.stringify(values);
      out.push({ limit, values, spec: { key, max: limit.maxValue, seconds: limit.seconds } });
    }
    return out;
  }

  /** Read-only (CheckRateLimit, HTTP /check). */
  async check(namespace: string, ctx: EvalContext, delta: number): Promise<Decision> {
    return this.decide(namespace, ctx, delta, false);
  }

  /** All-or-nothing check and increment (ShouldRateLimit, /check_and_report). */
  async checkAndUpdate(namespace: string, ctx: EvalContext, delta: number): Promise<Decision> {
    return this.decide(namespace, ctx, delta, true);
  }

  /** Increment without a limit check (Report, /report). */
  async update(namespace: string, ctx: EvalContext, delta: number): Promise<Decision> {
    const counters = this.countersFor(namespace, ctx);
    const states = await this.storage.update(counters.map((c) => c.spec), delta);
    return { limited: false, limitName: null, counters, states, delta };
  }

  private async decide(namespace: string, ctx: EvalContext, delta: number, update: boolean): Promise<Decision> {
    const counters = this.countersFor(namespace, ctx);
    const { limitedIndex, states } = await this.storage.checkAndUpdate(counters.map((c) => c.spec), delta, update);
    return {
      limited: limitedIndex >= 0,
      limitName: limitedIndex >= 0 ? counters[limitedIndex].limit.name : null,
      counters, states, delta,
    };
  }
}

/**
 * DRAFT_VERSION_03 headers, as Limitador renders them: counters sorted by remaining; Limit =
 * the most restrictive max then "max;w=seconds[;name=...]" per counter; Remaining floored at 0
 * (0 when limited); Reset = seconds left, read before the increment (so 0 on a window's first hit).
 */
export function rateLimitHeaders(d: Decision): Array<{ key: string; value: string }> {
  if (d.counters.length === 0) return [];
  const rows = d.counters.map((c, i) => ({
    max: c.limit.maxValue,
    seconds: c.limit.seconds,
    name: c.limit.name,
    remaining: Math.max(0, c.limit.maxValue - (d.states[i].before + d.delta)),
    resetSeconds: Math.floor(d.states[i].ttlMs / 1000),
  })).sort((a, b) => a.remaining - b.remaining);
  const top = rows[0];
  const policy = rows.map((r) => `${r.max};w=${r.seconds}${r.name !== null ? `;name="${r.name.replace(/"/g, "'")}"` : ""}`);
  return [
    { key: "X-RateLimit-Limit", value: [String(top.max), ...policy].join(", ") },
    { key: "X-RateLimit-Remaining", value: String(d.limited ? 0 : top.remaining) },
    { key: "X-RateLimit-Reset", value: String(top.resetSeconds) },
  ];
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
