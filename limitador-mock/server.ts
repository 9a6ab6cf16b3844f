// Starts a Limitador-compatible server: limits from a file (hot reloaded), storage, gRPC and HTTP.
import type { FSWatcher } from "node:fs";
import { readLimitsFile } from "./limits.js";
import { RateLimiter } from "./limiter.js";
import { LimitadorMetrics } from "./metrics.js";
import { startGrpcServer } from "./grpc-server.js";
import { startHttpServer } from "./http-server.js";
import { ReloadStatus, watchLimitsFile } from "./reload.js";
import { compile } from "./cel.js";
import { loadCustomLabels, watchCustomLabels } from "./custom-labels.js";
import { MemoryStorage } from "./storage/memory.js";
import type { CounterStorage } from "./storage/types.js";

export type StorageOptions =
  | { kind: "memory"; cacheSize?: number | null }
  | { kind: "disk"; path: string; optimize?: "throughput" | "disk" }
  | { kind: "redis"; url: string }
  /** Accepted with Limitador's flags; counters go to Redis on every call (no local cache, no batching). */
  | { kind: "redis_cached"; url: string; batchSize?: number; flushPeriodMs?: number; maxCached?: number; responseTimeoutMs?: number };

export interface MockOptions {
  limitsFile: string;
  storage?: StorageOptions;
  rlsIp?: string;
  rlsPort?: number;
  httpIp?: string;
  httpPort?: number;
  metricLabelsDefault?: string | null;
  /** -L: a YAML map of label → CEL expression, hot reloaded. */
  customMetricLabels?: string | null;
  limitNameInLabels?: boolean;
  rateLimitHeaders?: "NONE" | "DRAFT_VERSION_03";
  grpcReflectionService?: boolean;
  log?: (line: string) => void;
  /** The order limits are visited in is random per call, as in Limitador; tests may fix it. */
  random?: () => number;
  /** Memory storage clock (ms, sub-ms precision), for tests. */
  now?: () => number;
}

export interface RunningMock {
  grpcPort: number;
  httpPort: number;
  limiter: RateLimiter;
  metrics: LimitadorMetrics;
  close(): Promise<void>;
}

async function openStorage(opts: StorageOptions, now?: () => number): Promise<CounterStorage> {
  switch (opts.kind) {
    case "memory": return new MemoryStorage(now, opts.cacheSize ?? null);
    case "disk": {
      const { DiskStorage } = await import("./storage/disk.js");
      return DiskStorage.open(opts.path, now);
    }
    case "redis":
    case "redis_cached": {
      const { RedisStorage } = await import("./storage/redis.js");
      const redis = new RedisStorage(opts.url);
      await redis.ready().catch(async (err) => { await redis.close(); throw err; });
      return redis;
    }
  }
}

export async function startLimitadorMock(opts: MockOptions): Promise<RunningMock> {
  const log = opts.log ?? ((line: string) => console.error(`[limitador-mock] ${line}`));
  const limits = readLimitsFile(opts.limitsFile);
  const storage = await openStorage(opts.storage ?? { kind: "memory" }, opts.now);
  const closers: Array<() => unknown> = [() => storage.close()];
  const watchers: FSWatcher[] = [];
  try {
    const limiter = new RateLimiter(storage, opts.random);
    await limiter.setLimits(limits);
    const metrics = new LimitadorMetrics(opts.limitNameInLabels ?? false, opts.metricLabelsDefault ? compile(opts.metricLabelsDefault) : null);
    if (opts.customMetricLabels) {
      metrics.setCustomLabels(loadCustomLabels(opts.customMetricLabels, log));
      watchers.push(watchCustomLabels(opts.customMetricLabels, metrics, log));
    }
    const status = new ReloadStatus();
    const grpc = await startGrpcServer(opts.rlsIp ?? "0.0.0.0", opts.rlsPort ?? 8081, {
      limiter, metrics, rateLimitHeaders: opts.rateLimitHeaders === "DRAFT_VERSION_03", reflection: opts.grpcReflectionService ?? false, log,
    });
    closers.unshift(() => grpc.close());
    const http = await startHttpServer(opts.httpIp ?? "0.0.0.0", opts.httpPort ?? 8080, { limiter, metrics, status, log });
    closers.unshift(() => http.close());
    watchers.push(watchLimitsFile(opts.limitsFile, limiter, status, log));
    return {
      grpcPort: grpc.port,
      httpPort: http.port,
      limiter,
      metrics,
      close: async () => {
        for (const w of watchers) w.close();
        for (const c of closers) await c();
      },
    };
  } catch (err) {
    for (const w of watchers) w.close();
    for (const c of closers) await c();
    throw err;
  }
}
