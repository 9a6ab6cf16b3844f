// Counter storage: fixed windows that start at the first hit (research/limitador.md §2). Each
// backend states its own contract, since Limitador's backends differ in more than speed:
//   memory (storage/memory.ts): Limitador's in-memory storage, quirks included; one process.
//   disk   (storage/disk.ts):   Limitador's disk storage semantics, kept in a file; one process.
//   redis  (storage/redis.ts):  shared by every instance; one Lua script decides and increments,
//                               so it is stricter (atomic across instances) than Limitador's Redis.
import type { Limit } from "../limits.js";

export interface CounterRef {
  limit: Limit;
  /** Resolved variable values, in the limit's (sorted) variable order. */
  values: string[];
  /** Storage key: the limit's identity, plus the values for a qualified counter. */
  key: string;
  /** Has variables: Limitador keeps these apart from the limit-wide ("simple") counters. */
  qualified: boolean;
}

/** What check_and_update loads into a counter when asked to (the X-RateLimit headers use it). */
export interface LoadedCounter {
  /** max − (value + delta), floored at 0. */
  remaining: number | bigint;
  /** Time left in the window, as read after the counter was found or created. */
  ttlMs: number;
}

export interface CheckOutcome {
  /** Index (into the given counters) of the counter Limitador reports as over, or -1. */
  limitedIndex: number;
  /** Per counter, when loadCounters was set. */
  loaded?: LoadedCounter[];
}

/** A live counter as /counters shows it. */
export interface StoredCounter {
  /** The limit as the counter holds it: Limitador keeps the one the counter was created with. */
  limit: Limit;
  variables: Array<[string, string]>;
  /** max − value, wrapping as u64 when a Report took the value past max. */
  remaining: bigint;
  ttlMs: number;
}

export class StorageError extends Error {}

export interface CounterStorage {
  /** A limit was added (Limitador creates its limit-wide counter up front) or removed (its counters go). */
  addLimit(limit: Limit): Promise<void>;
  removeLimit(limit: Limit): Promise<void>;
  /** is_within_limits per counter, in order: the index of the first over (value + delta > max), or -1. */
  isWithinLimits(counters: CounterRef[], delta: number): Promise<number>;
  /** check_and_update: if none is over, every counter is incremented by delta; otherwise none is. */
  checkAndUpdate(counters: CounterRef[], delta: number, loadCounters: boolean): Promise<CheckOutcome>;
  /** update_counter for each: incremented by delta, no limit check (Report). */
  update(counters: CounterRef[], delta: number): Promise<void>;
  /** get_counters: live counters of these limits (all of one namespace). */
  list(limits: Limit[]): Promise<StoredCounter[]>;
  close(): Promise<void>;
}

/** A clock in milliseconds with sub-millisecond precision (Limitador keeps expiries in µs). */
export const preciseNow = (): number => performance.timeOrigin + performance.now();
