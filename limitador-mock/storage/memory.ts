// Limitador's in-memory storage (limitador/src/storage/in_memory.rs), reproduced with its quirks:
// - a limit without variables gets its counter when the limit is added (value 0, window not started);
// - check_and_update visits limit-wide counters first, then qualified ones, each in the given order;
// - a qualified counter that does not exist is created (value 0, window running) as soon as a
//   check_and_update looks at it, even when the request is then rejected;
// - its TTL is read after that, so a new counter reports window − 1 s in X-RateLimit-Reset;
// - without load_counters the first counter over ends the visit (later ones are not created);
// - Report past max makes /counters' remaining wrap as u64.
// Node runs one callback at a time, so a check and its increments are all-or-nothing here too.
import type { Limit } from "../limits.js";
import { u64WrappingSub } from "../rust-format.js";
import { preciseNow, type CheckOutcome, type CounterRef, type CounterStorage, type LoadedCounter, type StoredCounter } from "./types.js";

/** AtomicExpiringValue: a value and the end of its window (ms, sub-ms precision). */
interface Cell { value: number; expiry: number; limit: Limit; values: string[] }

/** TTLs are read a moment after the visit's `now`, as Limitador reads SystemTime::now() again. */
const READ_LATER_MS = 0.001;

export class MemoryStorage implements CounterStorage {
  private readonly simple = new Map<string, Cell>();
  private readonly qualified = new Map<string, Cell>();

  /** `cacheSize` bounds the qualified counters (memory --cache N); the least recently used go first. */
  constructor(private readonly now: () => number = preciseNow, private readonly cacheSize: number | null = null) {}

  async addLimit(limit: Limit): Promise<void> {
    if (limit.variables.length === 0 && !this.simple.has(limit.key)) this.simple.set(limit.key, { value: 0, expiry: 0, limit, values: [] });
  }

  async removeLimit(limit: Limit): Promise<void> {
    this.simple.delete(limit.key);
    for (const [key, cell] of this.qualified) if (cell.limit.identity === limit.identity) this.qualified.delete(key);
  }

  private qualifiedCell(c: CounterRef, now: number): Cell {
    let cell = this.qualified.get(c.key);
    if (cell) {
      if (this.cacheSize !== null) { this.qualified.delete(c.key); this.qualified.set(c.key, cell); }
      return cell;
    }
    cell = { value: 0, expiry: now + c.limit.seconds * 1000, limit: c.limit, values: c.values };
    this.qualified.set(c.key, cell);
    if (this.cacheSize !== null && this.qualified.size > this.cacheSize) this.qualified.delete(this.qualified.keys().next().value!);
    return cell;
  }

  private simpleCell(c: CounterRef): Cell {
    let cell = this.simple.get(c.key);
    if (!cell) this.simple.set(c.key, (cell = { value: 0, expiry: 0, limit: c.limit, values: [] }));
    return cell;
  }

  async isWithinLimits(counters: CounterRef[], delta: number): Promise<number> {
    const now = this.now();
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i];
      const cell = c.qualified ? this.qualified.get(c.key) : this.simple.get(c.key);
      const value = cell && cell.expiry > now ? cell.value : 0;
      if (value + delta > c.limit.maxValue) return i;
    }
    return -1;
  }

  async checkAndUpdate(counters: CounterRef[], delta: number, loadCounters: boolean): Promise<CheckOutcome> {
    const now = this.now();
    const cells: Cell[] = new Array(counters.length);
    const loaded: LoadedCounter[] | undefined = loadCounters ? new Array(counters.length) : undefined;
    let firstLimited = -1;
    for (const qualifiedPass of [false, true]) {
      for (let i = 0; i < counters.length; i++) {
        const c = counters[i];
        if (c.qualified !== qualifiedPass) continue;
        const cell = c.qualified ? this.qualifiedCell(c, now) : this.simpleCell(c);
        const value = cell.expiry > now ? cell.value : 0;
        const over = value + delta > c.limit.maxValue;
        if (over && !loadCounters) return { limitedIndex: i };
        if (loaded) {
          loaded[i] = { remaining: over ? 0 : remaining(c.limit, value + delta), ttlMs: Math.max(0, cell.expiry - (now + READ_LATER_MS)) };
          if (over && firstLimited < 0) firstLimited = i;
        }
        cells[i] = cell;
      }
    }
    if (firstLimited >= 0) return { limitedIndex: firstLimited, loaded };
    for (let i = 0; i < cells.length; i++) bump(cells[i], delta, counters[i].limit.seconds, now);
    return { limitedIndex: -1, loaded };
  }

  async update(counters: CounterRef[], delta: number): Promise<void> {
    const now = this.now();
    for (const c of counters) {
      if (c.qualified) bump(this.qualifiedCell(c, now), delta, c.limit.seconds, now);
      else {
        const cell = this.simple.get(c.key);
        if (cell) bump(cell, delta, c.limit.seconds, now);
        else this.simple.set(c.key, { value: delta, expiry: now + c.limit.seconds * 1000, limit: c.limit, values: [] });
      }
    }
  }

  async list(limits: Limit[]): Promise<StoredCounter[]> {
    const now = this.now() + READ_LATER_MS;
    const wanted = new Set(limits.map((l) => l.identity));
    const out: StoredCounter[] = [];
    const add = (cell: Cell) => {
      if (!wanted.has(cell.limit.identity) || cell.expiry <= now) return;
      out.push({
        limit: cell.limit,
        variables: cell.limit.variables.map((v, i) => [v.source, cell.values[i]]),
        remaining: u64WrappingSub(cell.limit.maxExact, BigInt(cell.value)),
        ttlMs: cell.expiry - now,
      });
    };
    for (const cell of this.simple.values()) add(cell);
    for (const cell of this.qualified.values()) add(cell);
    return out;
  }

  async close(): Promise<void> {}
}

/** AtomicExpiringValue::update: an expired window restarts at `now` with the delta. */
function bump(cell: Cell, delta: number, seconds: number, now: number): void {
  if (cell.expiry <= now) { cell.expiry = now + seconds * 1000; cell.value = delta; }
  else cell.value += delta;
}

/** max − used, exact when max is beyond 2^53 (a u64 max_value). */
export function remaining(limit: Limit, used: number): number | bigint {
  return Number.isSafeInteger(limit.maxValue) ? limit.maxValue - used : limit.maxExact - BigInt(used);
}
