// `disk PATH`: counters that survive a restart, kept in PATH/counters.jsonl (an append-only journal,
// compacted when opened) where Limitador keeps a RocksDB. It follows Limitador's disk storage
// (limitador/src/storage/disk/rocksdb_storage.rs), which behaves unlike the memory one:
// - window ends are stored in whole seconds, so a window is up to a second shorter than `seconds`;
// - a counter not on disk yet reports its whole window as TTL (X-RateLimit-Reset = seconds);
// - check_and_update stops at the first counter over, even when loading counters for headers;
// - an increment is only written when it keeps the counter within max, Report included, so a
//   Report never takes a counter past max;
// - CheckRateLimit (is_within_limits) writes a 0 increment, which starts a window;
// - /counters answers against the current limits, and a stored counter whose limit is gone (left
//   from an earlier limits file) makes it panic.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Limit } from "../limits.js";
import { LimitadorPanic } from "../limiter.js";
import { u64WrappingSub } from "../rust-format.js";
import { remaining } from "./memory.js";
import { preciseNow, type CheckOutcome, type CounterRef, type CounterStorage, type StoredCounter } from "./types.js";

/** ExpiringValue: the value and its window end in whole seconds since the epoch. */
interface Entry { namespace: string; identity: string; values: string[]; value: number; expirySecs: number }

export class DiskStorage implements CounterStorage {
  private readonly entries = new Map<string, Entry>();
  private fd: number;

  private constructor(private readonly file: string, private readonly now: () => number) {
    this.fd = -1;
  }

  static async open(dir: string, now: () => number = preciseNow): Promise<DiskStorage> {
    mkdirSync(dir, { recursive: true });
    const s = new DiskStorage(join(dir, "counters.jsonl"), now);
    s.load();
    return s;
  }

  /** Replays the journal, then rewrites it with the live entries only. */
  private load(): void {
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, "utf8").split("\n")) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as Entry;
          this.entries.set(entryKey(e.identity, e.values), e);
        } catch { /* a torn last line after a crash */ }
      }
    }
    const nowSecs = this.now() / 1000;
    for (const [key, e] of this.entries) if (e.expirySecs <= nowSecs) this.entries.delete(key); // expired and removed ones
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, [...this.entries.values()].map((e) => JSON.stringify(e) + "\n").join(""));
    renameSync(tmp, this.file);
    this.fd = openSync(this.file, "a");
  }

  private write(e: Entry): void {
    this.entries.set(entryKey(e.identity, e.values), e);
    writeSync(this.fd, JSON.stringify(e) + "\n");
  }

  private read(c: CounterRef): Entry | undefined {
    return this.entries.get(entryKey(c.limit.identity, c.values));
  }

  /** insert_or_update: the increment is stored only if it keeps the counter within max. */
  private insertOrUpdate(c: CounterRef, delta: number, nowMs: number): number {
    const e = this.read(c);
    const live = e && e.expirySecs * 1000 > nowMs ? e : null;
    const value = live ? live.value : 0;
    if (value + delta > c.limit.maxValue) return value;
    const expirySecs = live ? live.expirySecs : Math.floor((nowMs + c.limit.seconds * 1000) / 1000);
    this.write({ namespace: c.limit.namespace, identity: c.limit.identity, values: c.values, value: value + delta, expirySecs });
    return value + delta;
  }

  async addLimit(): Promise<void> {}

  async removeLimit(limit: Limit): Promise<void> {
    for (const [key, e] of this.entries) {
      if (e.identity !== limit.identity) continue;
      this.entries.delete(key);
      writeSync(this.fd, JSON.stringify({ ...e, value: 0, expirySecs: 0 }) + "\n");
    }
  }

  async isWithinLimits(counters: CounterRef[], delta: number): Promise<number> {
    const now = this.now();
    for (let i = 0; i < counters.length; i++) if (this.insertOrUpdate(counters[i], 0, now) + delta > counters[i].limit.maxValue) return i;
    return -1;
  }

  async checkAndUpdate(counters: CounterRef[], delta: number, loadCounters: boolean): Promise<CheckOutcome> {
    const now = this.now();
    const loaded = loadCounters ? new Array(counters.length) : undefined;
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i];
      const e = this.read(c);
      const live = e && e.expirySecs * 1000 > now ? e : null;
      const value = live ? live.value : 0;
      const over = value + delta > c.limit.maxValue;
      if (loaded) loaded[i] = { remaining: over ? 0 : remaining(c.limit, value + delta), ttlMs: e ? Math.max(0, e.expirySecs * 1000 - now) : c.limit.seconds * 1000 };
      if (over) return { limitedIndex: i, loaded };
    }
    for (const c of counters) this.insertOrUpdate(c, delta, now);
    return { limitedIndex: -1, loaded };
  }

  async update(counters: CounterRef[], delta: number): Promise<void> {
    const now = this.now();
    for (const c of counters) this.insertOrUpdate(c, delta, now);
  }

  async list(limits: Limit[]): Promise<StoredCounter[]> {
    if (limits.length === 0) return [];
    const now = this.now();
    const out: StoredCounter[] = [];
    for (const e of this.entries.values()) {
      if (e.namespace !== limits[0].namespace) continue;
      const limit = limits.find((l) => l.identity === e.identity);
      if (!limit) throw new LimitadorPanic(`a stored counter (${e.identity}) belongs to no current limit`);
      const ttlMs = e.expirySecs * 1000 - now;
      if (ttlMs <= 0) continue;
      out.push({ limit, variables: limit.variables.map((v, i) => [v.source, e.values[i]]), remaining: u64WrappingSub(limit.maxExact, BigInt(e.value)), ttlMs });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function entryKey(identity: string, values: string[]): string {
  return identity + "\u0000" + JSON.stringify(values);
}
