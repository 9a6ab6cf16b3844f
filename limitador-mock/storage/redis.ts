// Counters in a real Redis, shared by every mock instance that points at it. One Lua script reads
// every counter, decides, and increments all of them or none, atomically on the Redis server; so
// instances cannot overshoot a limit between them (Limitador's MGET-then-pipeline can, for
// stacked limits). Windows are Redis key expiries set on the first hit.
import { Redis } from "ioredis";
import { StorageError, type CheckResult, type CounterSpec, type CounterState, type CounterStorage } from "./types.js";

// KEYS: counter keys. ARGV: delta, update(0/1), then max and window ms per key.
// Returns: limited index (0-based, -1 if none), then value-before and ttl-ms per key.
const CHECK_AND_UPDATE = `
local delta = tonumber(ARGV[1])
local update = ARGV[2] == "1"
local out = {-1}
local limited = -1
for i, key in ipairs(KEYS) do
  local value = tonumber(redis.call("GET", key) or "0")
  local ttl = redis.call("PTTL", key)
  if ttl < 0 then ttl = 0 end
  out[#out + 1] = value
  out[#out + 1] = ttl
  if limited < 0 and value + delta > tonumber(ARGV[1 + i * 2]) then limited = i - 1 end
end
out[1] = limited
if update and limited < 0 then
  for i, key in ipairs(KEYS) do
    local after = redis.call("INCRBY", key, delta)
    if after == delta or redis.call("PTTL", key) < 0 then
      redis.call("PEXPIRE", key, tonumber(ARGV[2 + i * 2]))
    end
  end
end
return out
`;

export class RedisStorage implements CounterStorage {
  private readonly client: Redis;

  constructor(url: string) {
    this.client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n) => Math.min(n * 200, 2000) });
    this.client.on("error", () => { /* reported per call as StorageError */ });
    this.client.defineCommand("limitadorCheck", { lua: CHECK_AND_UPDATE });
  }

  /** Resolves once connected (or rejects), so start-up can report a bad URL clearly. */
  async ready(timeoutMs = 3000): Promise<void> {
    if (this.client.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StorageError(`Redis not reachable within ${timeoutMs} ms`)), timeoutMs);
      this.client.once("ready", () => { clearTimeout(timer); resolve(); });
    });
  }

  private async run(counters: CounterSpec[], delta: number, update: boolean, force: boolean): Promise<CheckResult> {
    if (counters.length === 0) return { limitedIndex: -1, states: [] };
    const args: Array<string | number> = [delta, update ? 1 : 0];
    for (const c of counters) args.push(force ? Number.MAX_SAFE_INTEGER : c.max, c.seconds * 1000);
    let reply: number[];
    try {
      reply = await (this.client as any).limitadorCheck(counters.length, ...counters.map((c) => c.key), ...args);
    } catch (err) {
      throw new StorageError(`error while accessing the limits storage: ${(err as Error).message}`);
    }
    const states: CounterState[] = counters.map((_, i) => ({ before: Number(reply[1 + i * 2]), ttlMs: Number(reply[2 + i * 2]) }));
    return { limitedIndex: Number(reply[0]), states };
  }

  checkAndUpdate(counters: CounterSpec[], delta: number, update: boolean): Promise<CheckResult> {
    return this.run(counters, delta, update, false);
  }

  async update(counters: CounterSpec[], delta: number): Promise<CounterState[]> {
    return (await this.run(counters, delta, true, true)).states;
  }

  async list(prefix: string) {
    const out: Array<{ key: string; value: number; ttlMs: number }> = [];
    try {
      let cursor = "0";
      do {
        const [next, keys] = await this.client.scan(cursor, "MATCH", globEscape(prefix) + "*", "COUNT", 500);
        cursor = next;
        for (const key of keys) {
          const [value, ttl] = await Promise.all([this.client.get(key), this.client.pttl(key)]);
          if (value !== null && ttl > 0) out.push({ key, value: Number(value), ttlMs: ttl });
        }
      } while (cursor !== "0");
    } catch (err) {
      throw new StorageError(`error while accessing the limits storage: ${(err as Error).message}`);
    }
    return out;
  }

  async deletePrefix(prefix: string): Promise<void> {
    const keys = (await this.list(prefix)).map((c) => c.key);
    if (keys.length) await this.client.del(...keys);
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
