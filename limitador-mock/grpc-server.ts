// Limitador's gRPC surface on one port, served straight on node:http2 (the hot path of the mock):
// envoy.service.ratelimit.v3 ShouldRateLimit and kuadrant.service.ratelimit.v1 CheckRateLimit /
// Report, as limitador-server/src/envoy_rls/{server,kuadrant_service}.rs answer them, plus
// grpc.reflection.v1 with --grpc-reflection-service.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { decodeRateLimitRequest, encodeRateLimitResponseFrame, percentEncode, DecodeError, type OverallCode, type RlsRequest } from "./grpc-wire.js";
import { LimitadorPanic, rateLimitHeaders, type RateLimiter } from "./limiter.js";
import type { EvalContext } from "./cel.js";
import type { LimitadorMetrics } from "./metrics.js";
import { reflectionHandler, type StreamingHandler } from "./grpc-reflection.js";

export interface GrpcOptions {
  limiter: RateLimiter;
  metrics: LimitadorMetrics;
  rateLimitHeaders: boolean;
  reflection?: boolean;
  log: (line: string) => void;
}

type Reply = { code: OverallCode; headers: Array<{ key: string; value: string }> };

const UNKNOWN: Reply = { code: 0, headers: [] };
const NO_HEADERS: never[] = [];
const UNAVAILABLE = 14, INTERNAL = 13, UNIMPLEMENTED = 12;

/** A gRPC error carried to the wire as a trailers-only response. */
class GrpcError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

/** The three RPCs' semantics; each names the Limitador function it mirrors. */
export function rateLimitHandlers(opts: GrpcOptions) {
  const { limiter, metrics } = opts;
  const context = (req: RlsRequest): EvalContext => ({ descriptors: req.descriptors });
  // "hits_addend" is optional; the proto default 0 counts as 1.
  const hitsOf = (req: RlsRequest) => req.hitsAddend || 1;

  /** ShouldRateLimit ↔ check_rate_limited_and_update, then the server's header sort and metrics. */
  async function shouldRateLimit(req: RlsRequest): Promise<Reply> {
    if (!req.domain) return UNKNOWN;
    const ctx = context(req);
    const hits = hitsOf(req);
    const result = await limiter.checkAndUpdate(req.domain, ctx, hits, opts.rateLimitHeaders);
    const labels = metrics.labels(req.domain, ctx);
    if (result.limited) metrics.limited(labels, result.limitName);
    else { metrics.authorized(labels); metrics.hits(labels, hits); }
    return { code: result.limited ? 2 : 1, headers: opts.rateLimitHeaders ? rateLimitHeaders(result) : NO_HEADERS };
  }

  /** CheckRateLimit ↔ is_rate_limited with delta 1; no headers; calls counted, not hits. */
  async function checkRateLimit(req: RlsRequest): Promise<Reply> {
    if (!req.domain) return UNKNOWN;
    const ctx = context(req);
    const result = await limiter.check(req.domain, ctx, 1);
    const labels = metrics.labels(req.domain, ctx);
    if (result.limited) metrics.limited(labels, result.limitName);
    else metrics.authorized(labels);
    return { code: result.limited ? 2 : 1, headers: NO_HEADERS };
  }

  /** Report ↔ update_counters: never limited, always OK; hits counted. */
  async function report(req: RlsRequest): Promise<Reply> {
    if (!req.domain) return UNKNOWN;
    const ctx = context(req);
    const hits = hitsOf(req);
    await limiter.update(req.domain, ctx, hits);
    metrics.hits(metrics.labels(req.domain, ctx), hits);
    return { code: 1, headers: NO_HEADERS };
  }

  return { shouldRateLimit, checkRateLimit, report };
}

export async function startGrpcServer(host: string, port: number, opts: GrpcOptions): Promise<{ port: number; close(): Promise<void> }> {
  const h = rateLimitHandlers(opts);
  const unary: Record<string, (req: RlsRequest) => Promise<Reply>> = {
    "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit": h.shouldRateLimit,
    "/kuadrant.service.ratelimit.v1.RateLimitService/CheckRateLimit": h.checkRateLimit,
    "/kuadrant.service.ratelimit.v1.RateLimitService/Report": h.report,
  };
  const streaming: Record<string, StreamingHandler> = opts.reflection ? reflectionHandler() : {};

  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    const path = headers[":path"] as string;
    const handler = unary[path];
    if (handler) return serveUnary(stream, handler, opts.log);
    const stream_ = streaming[path];
    if (stream_) return stream_(stream);
    stream.on("error", () => {});
    stream.resume();
    sendStatus(stream, UNIMPLEMENTED, "");
  });
  server.on("sessionError", () => {});
  const bound = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => { server.off("error", reject); resolve((server.address() as AddressInfo).port); });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => { sessions.add(s); s.once("close", () => sessions.delete(s)); });
  return {
    port: bound,
    close: () => new Promise((resolve) => {
      for (const s of sessions) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function serveUnary(stream: http2.ServerHttp2Stream, handler: (req: RlsRequest) => Promise<Reply>, log: (line: string) => void): void {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("error", () => {});
  stream.on("end", () => {
    let req: RlsRequest;
    try {
      req = decodeRateLimitRequest(unframe(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    } catch (err) {
      return sendStatus(stream, err instanceof GrpcError ? err.code : INTERNAL, err instanceof GrpcError ? err.message : `failed to decode Protobuf message: ${(err as Error).message}`);
    }
    handler(req).then(
      (reply) => sendReply(stream, reply),
      (err: Error) => {
        if (err instanceof LimitadorPanic) {
          // Limitador's handler panics here; tonic drops the stream, so the client sees CANCELLED.
          log(`panicked: ${err.message}`);
          if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        // Storage or CEL trouble: UNAVAILABLE rather than UNKNOWN, so Envoy's failure_mode_deny applies.
        log(`Error: ${err.message}`);
        sendStatus(stream, UNAVAILABLE, "Service unavailable");
      },
    );
  });
}

/** The one message of a unary request, from its gRPC frame. */
function unframe(body: Buffer): Buffer {
  if (body.length < 5) throw new GrpcError(INTERNAL, body.length === 0 ? "Missing request message." : "Unexpected EOF decoding stream.");
  if (body[0] !== 0) throw new GrpcError(UNIMPLEMENTED, "Message compressed, compression support not enabled.");
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) throw new GrpcError(INTERNAL, "Unexpected EOF decoding stream.");
  return body.subarray(5, 5 + len);
}

const OK_HEADERS = { ":status": 200, "content-type": "application/grpc" };

function sendReply(stream: http2.ServerHttp2Stream, reply: Reply): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond(OK_HEADERS, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(encodeRateLimitResponseFrame(reply.code, reply.headers));
}

export function sendStatus(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  const headers: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": "application/grpc", "grpc-status": String(code) };
  if (message) headers["grpc-message"] = percentEncode(message);
  stream.respond(headers, { endStream: true });
}
