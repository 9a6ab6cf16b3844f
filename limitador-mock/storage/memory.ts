// In-memory counters: the default storage. Node runs one callback at a time, so a check and its
// increments happen with nothing in between: all-or-nothing by construction.
import type { CheckResult, CounterSpec, CounterState, CounterStorage } from "./types.js";

interface Cell { value: number; expiresAt: number }

export class MemoryStorage implements CounterStorage {
  private readonly cells = new Map<string, Cell>();
  constructor(private readonly now: () => number = Date.now) {}

  private live(key: string, now: number): Cell | null {
    const cell = this.cells.get(key);
    if (!cell) return null;
    if (cell.expiresAt <= now) { this.cells.delete(key); return null; }
    return cell;
  }

  private states(counters: CounterSpec[], now: number): CounterState[] {
    return counters.map((c) => {
      const cell = this.live(c.key, now);
      return { before: cell?.value ?? 0, ttlMs: cell ? cell.expiresAt - now : 0 };
    });
  }

  private increment(counters: CounterSpec[], delta: number, now: number): void {
    for (const c of counters) {
      const cell = this.live(c.key, now);
      if (cell) cell.value += delta;
      else this.cells.set(c.key, { value: delta, expiresAt: now + c.seconds * 1000 });
    }
  }

  async checkAndUpdate(counters: CounterSpec[], delta: number, update: boolean): Promise<CheckResult> {
    const now = this.now();
    const states = this.states(counters, now);
    const limitedIndex = counters.findIndex((c, i) => states[i].before + delta > c.max);
    if (limitedIndex < 0 && update) this.increment(counters, delta, now);
    return { limitedIndex, states };
  }

  async update(counters: CounterSpec[], delta: number): Promise<CounterState[]> {
    const now = this.now();
    const states = this.states(counters, now);
    this.increment(counters, delta, now);
    return states;
  }

  async list(prefix: string) {
    const now = this.now();
    const out: Array<{ key: string; value: number; ttlMs: number }> = [];
    for (const key of [...this.cells.keys()]) {
      if (!key.startsWith(prefix)) continue;
      const cell = this.live(key, now);
      if (cell) out.push({ key, value: cell.value, ttlMs: cell.expiresAt - now });
    }
    return out;
  }

  async deletePrefix(prefix: string): Promise<void> {
    for (const key of [...this.cells.keys()]) if (key.startsWith(prefix)) this.cells.delete(key);
  }

  async close(): Promise<void> {}
}
