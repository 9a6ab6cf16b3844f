// Counter storage: fixed windows that start at the first hit (research/limitador.md §2), with an
// all-or-nothing check-and-increment across every counter a request touches.

export interface CounterSpec {
  /** Storage key (namespace hash tag + limit identity + variable values). */
  key: string;
  max: number;
  seconds: number;
}

export interface CounterState {
  /** Value before this call's increment (0 for a new or expired window). */
  before: number;
  /** Milliseconds left in the window before this call (0 when the window is new). */
  ttlMs: number;
}

export interface CheckResult {
  /** Index of the first counter that would go over, or -1. */
  limitedIndex: number;
  states: CounterState[];
}

export class StorageError extends Error {}

export interface CounterStorage {
  /**
   * For each counter: over limit when before + delta > max. If none is over and `update`, every
   * counter is incremented by delta; otherwise none is.
   */
  checkAndUpdate(counters: CounterSpec[], delta: number, update: boolean): Promise<CheckResult>;
  /** Increments every counter by delta, no limit check (Report). */
  update(counters: CounterSpec[], delta: number): Promise<CounterState[]>;
  /** Live counters whose key starts with `prefix`: value and ms left. */
  list(prefix: string): Promise<Array<{ key: string; value: number; ttlMs: number }>>;
  /** Drops counters whose key starts with `prefix` (a limit removed by a reload). */
  deletePrefix(prefix: string): Promise<void>;
  close(): Promise<void>;
}
