// Counters in a real Redis, shared by every mock instance that points at it. One Lua script reads
// every counter, decides, and increments all of them or none, atomically on the Redis server; so
// instances cannot overshoot a limit between them (Limitador's MGET-then-pipeline can, for
// stacked limits). Windows are Redis key expiries set on the first hit. As Limitador's Redis
// storage: a counter not yet in Redis reports its whole window as TTL, nothing is created by a
// rejected request, and /counters reads TTL in seconds (Redis rounds them) against the current limit.
import { createRequire } from "node:module";
import type { Redis } from "ioredis";
import type { Limit } from "../limits.js";
import { u64WrappingSub } from "../rust-format.js";
import { remaining } from "./memory.js";
import { StorageError, type CheckOutcome, type CounterRef, type CounterStorage, type StoredCounter } from "./types.js";

interface Reply { limitedIndex: number; states: Array<{ before: number; pttl: number }> }

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
    // Loaded here, not at start-up: a mock on memory storage never pays for ioredis.
    const { Redis } = createRequire(import.meta.url)("ioredis") as typeof import("ioredis");
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

  private async run(counters: CounterRef[], delta: number, update: boolean, force: boolean): Promise<Reply> {
    const keys = counters.map((c) => redisKey(c));
    const args: Array<string | number> = [delta, update ? 1 : 0];
    for (const c of counters) args.push(force ? Number.MAX_SAFE_INTEGER : c.limit.maxValue, c.limit.seconds * 1000);
    let reply: number[];
    try {
      reply = await (this.client as any).limitadorCheck(counters.length, ...keys, ...args);
    } catch (err) {
      throw new StorageError(`error while accessing the limits storage: ${(err as Error).message}`);
    }
    return { limitedIndex: Number(reply[0]), states: counters.map((_, i) => ({ before: Number(reply[1 + i * 2]), pttl: Number(reply[2 + i * 2]) })) };
  }

  async addLimit(): Promise<void> {}

  async removeLimit(limit: Limit): Promise<void> {
    const keys = (await this.scan(limit.namespace)).filter((k) => belongsTo(k, limit));
    if (keys.length) await this.client.del(...keys);
  }

  async isWithinLimits(counters: CounterRef[], delta: number): Promise<number> {
    return (await this.run(counters, delta, false, false)).limitedIndex;
  }

  async checkAndUpdate(counters: CounterRef[], delta: number, loadCounters: boolean): Promise<CheckOutcome> {
    const { limitedIndex, states } = await this.run(counters, delta, true, false);
    if (!loadCounters) return { limitedIndex };
    const loaded = counters.map((c, i) => {
      const used = states[i].before + delta;
      return { remaining: used > c.limit.maxValue ? 0 : remaining(c.limit, used), ttlMs: states[i].pttl >= 0 ? states[i].pttl : c.limit.seconds * 1000 };
    });
    return { limitedIndex, loaded };
  }

  async update(counters: CounterRef[], delta: number): Promise<void> {
    await this.run(counters, delta, true, true);
  }

  private async scan(namespace: string): Promise<string[]> {
    const out: string[] = [];
    try {
      let cursor = "0";
      do {
        const [next, keys] = await this.client.scan(cursor, "MATCH", globEscape(counterPrefix(namespace)) + "*", "COUNT", 500);
        cursor = next;
        out.push(...keys);
      } while (cursor !== "0");
    } catch (err) {
      throw new StorageError(`error while accessing the limits storage: ${(err as Error).message}`);
    }
    return out;
  }

  async list(limits: Limit[]): Promise<StoredCounter[]> {
    if (limits.length === 0) return [];
    const out: StoredCounter[] = [];
    for (const key of await this.scan(limits[0].namespace)) {
      const limit = limits.find((l) => belongsTo(key, l));
      if (!limit) continue;
      const [value, ttl] = await Promise.all([this.client.get(key), this.client.ttl(key)]);
      if (value === null) continue;
      const rest = key.slice(counterPrefix(limit.namespace).length + limit.identity.length);
      const values: string[] = rest ? JSON.parse(rest.slice(1)) : [];
      out.push({ limit, variables: limit.variables.map((v, i) => [v.source, values[i]]), remaining: u64WrappingSub(limit.maxExact, BigInt(value)), ttlMs: Math.max(0, ttl) * 1000 });
    }
    return out;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/** Keys carry the namespace as a hash tag, as Limitador's, so a Redis Cluster shards by namespace. */
function counterPrefix(namespace: string): string {
  return `limitador:{${namespace}}:`;
}

/** Stable across processes (instances share them): the limit's identity, then the values as JSON. */
function redisKey(c: CounterRef): string {
  return counterPrefix(c.limit.namespace) + c.limit.identity + (c.qualified ? "\u0000" + JSON.stringify(c.values) : "");
}

function belongsTo(key: string, limit: Limit): boolean {
  const rest = key.slice(counterPrefix(limit.namespace).length);
  return rest === limit.identity || rest.startsWith(limit.identity + "\u0000");
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
