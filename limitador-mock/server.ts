// Starts a Limitador-compatible server: limits from a file (hot reloaded), storage, gRPC and HTTP.
import { readFileSync } from "node:fs";
import { parseLimits } from "./limits.js";
import { RateLimiter } from "./limiter.js";
import { LimitadorMetrics } from "./metrics.js";
import { startGrpcServer } from "./grpc-server.js";
import { startHttpServer } from "./http-server.js";
import { ReloadStatus, watchLimitsFile } from "./reload.js";
import { compile } from "./cel.js";
import { MemoryStorage } from "./storage/memory.js";
import { RedisStorage } from "./storage/redis.js";
import type { CounterStorage } from "./storage/types.js";

export interface MockOptions {
  limitsFile: string;
  storage?: { kind: "memory" } | { kind: "redis"; url: string };
  rlsIp?: string;
  rlsPort?: number;
  httpIp?: string;
  httpPort?: number;
  metricLabelsDefault?: string | null;
  limitNameInLabels?: boolean;
  rateLimitHeaders?: "NONE" | "DRAFT_VERSION_03";
  log?: (line: string) => void;
}

export interface RunningMock {
  grpcPort: number;
  httpPort: number;
  limiter: RateLimiter;
  close(): Promise<void>;
}

export async function startLimitadorMock(opts: MockOptions): Promise<RunningMock> {
  const log = opts.log ?? ((line: string) => console.error(`[limitador-mock] ${line}`));
  let text: string;
  try { text = readFileSync(opts.limitsFile, "utf8"); } catch (err) { throw new Error(`Couldn't read file '${opts.limitsFile}': ${(err as Error).message}`); }
  const limits = parseLimits(text);
  let storage: CounterStorage;
  if (opts.storage?.kind === "redis") {
    const redis = new RedisStorage(opts.storage.url);
    await redis.ready().catch(async (err) => { await redis.close(); throw err; });
    storage = redis;
  } else {
    storage = new MemoryStorage();
  }
  const limiter = new RateLimiter(storage);
  await limiter.setLimits(limits);
  const metrics = new LimitadorMetrics(opts.limitNameInLabels ?? false);
  const metricLabelsDefault = opts.metricLabelsDefault ? compile(opts.metricLabelsDefault) : null;
  const status = new ReloadStatus();
  const grpc = await startGrpcServer(opts.rlsIp ?? "0.0.0.0", opts.rlsPort ?? 8081, { limiter, metrics, metricLabelsDefault, rateLimitHeaders: opts.rateLimitHeaders === "DRAFT_VERSION_03", log });
  let http;
  try {
    http = await startHttpServer(opts.httpIp ?? "0.0.0.0", opts.httpPort ?? 8080, { limiter, metrics, metricLabelsDefault, status, log });
  } catch (err) {
    await grpc.close();
    throw err;
  }
  const watcher = watchLimitsFile(opts.limitsFile, limiter, status, log);
  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    limiter,
    close: async () => {
      watcher.close();
      await Promise.all([grpc.close(), http.close()]);
      await storage.close();
    },
  };
}
