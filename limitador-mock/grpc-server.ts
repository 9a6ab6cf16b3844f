// Limitador's gRPC surface on one port: envoy.service.ratelimit.v3 ShouldRateLimit and
// kuadrant.service.ratelimit.v1 CheckRateLimit / Report, with its semantics and metrics.
import * as grpc from "@grpc/grpc-js";
import { envoyRateLimitService, kuadrantRateLimitService } from "../proto/index.js";
import { descriptorsContext, rateLimitHeaders, type RateLimiter } from "./limiter.js";
import { labelsFromMap, type Compiled } from "./cel.js";
import type { LimitadorMetrics } from "./metrics.js";

export interface GrpcOptions {
  limiter: RateLimiter;
  metrics: LimitadorMetrics;
  metricLabelsDefault: Compiled | null;
  rateLimitHeaders: boolean;
  log: (line: string) => void;
}

type Callback = grpc.sendUnaryData<any>;

export function rateLimitServices(opts: GrpcOptions) {
  const { limiter, metrics } = opts;
  const labelsOf = (ctx: ReturnType<typeof descriptorsContext>) => (opts.metricLabelsDefault ? labelsFromMap(opts.metricLabelsDefault, ctx) : {});

  /** Shared request handling: empty domain → UNKNOWN; storage or CEL trouble → UNAVAILABLE. */
  const handle = (name: string, body: (req: any, ctx: ReturnType<typeof descriptorsContext>) => Promise<any>) =>
    async (call: grpc.ServerUnaryCall<any, any>, callback: Callback) => {
      const req = call.request;
      if (!req.domain) return callback(null, { overall_code: "UNKNOWN", response_headers_to_add: [] });
      try {
        callback(null, await body(req, descriptorsContext(req.descriptors ?? [])));
      } catch (err) {
        opts.log(`${name} ${req.domain}: ${(err as Error).message}`);
        callback({ code: grpc.status.UNAVAILABLE, details: "Service unavailable" } as grpc.ServiceError);
      }
    };

  const hitsOf = (req: any) => (req.hits_addend ? Number(req.hits_addend) : 1); // 0 is the proto default: counted as 1

  const shouldRateLimit = handle("ShouldRateLimit", async (req, ctx) => {
    const hits = hitsOf(req);
    const d = await limiter.checkAndUpdate(req.domain, ctx, hits);
    const labels = labelsOf(ctx);
    if (d.limited) metrics.limited(req.domain, labels, d.limitName);
    else metrics.authorized(req.domain, labels, hits);
    return { overall_code: d.limited ? "OVER_LIMIT" : "OK", response_headers_to_add: opts.rateLimitHeaders ? rateLimitHeaders(d) : [] };
  });

  const checkRateLimit = handle("CheckRateLimit", async (req, ctx) => {
    const d = await limiter.check(req.domain, ctx, 1); // read-only, always delta 1
    const labels = labelsOf(ctx);
    if (d.limited) metrics.limited(req.domain, labels, d.limitName);
    else metrics.authorized(req.domain, labels, null);
    return { overall_code: d.limited ? "OVER_LIMIT" : "OK", response_headers_to_add: [] };
  });

  const report = handle("Report", async (req, ctx) => {
    const hits = hitsOf(req);
    await limiter.update(req.domain, ctx, hits);
    metrics.hits(req.domain, labelsOf(ctx), hits);
    return { overall_code: "OK", response_headers_to_add: [] };
  });

  return { shouldRateLimit, checkRateLimit, report };
}

export async function startGrpcServer(host: string, port: number, opts: GrpcOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  const s = rateLimitServices(opts);
  server.addService(envoyRateLimitService().service, { ShouldRateLimit: s.shouldRateLimit });
  server.addService(kuadrantRateLimitService().service, { CheckRateLimit: s.checkRateLimit, Report: s.report });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port: bound, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}
