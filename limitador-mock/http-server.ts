// Limitador's HTTP API (research/limitador.md §4, limitador-server/src/http_api/server.rs) as
// actix-web serves it: routes match one path segment per parameter (an unencoded `/` in a namespace
// is a 404), a 404 (also for a known path with another method) has no body, every response carries content-length and lower-case
// header names, JSON bodies go through serde's rules (serde-json.ts), errors are plain text.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { LimitadorPanic, rateLimitHeaders, type RateLimiter } from "./limiter.js";
import type { LimitadorMetrics } from "./metrics.js";
import type { Limit } from "./limits.js";
import type { ReloadStatus } from "./reload.js";
import { parseCheckAndReportInfo, SerdeError, type CheckAndReportInfo } from "./serde-json.js";
import { swaggerSpec } from "./swagger.js";

export interface HttpOptions {
  limiter: RateLimiter;
  metrics: LimitadorMetrics;
  status: ReloadStatus;
  log: (line: string) => void;
}

/** actix-web's JsonConfig default payload limit. */
const JSON_LIMIT = 2_097_152;
const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";

export function limitJson(l: Limit) {
  return { id: l.id, namespace: l.namespace, max_value: l.maxExact, seconds: l.seconds, name: l.name, conditions: l.conditions.map((c) => c.source), variables: l.variables.map((c) => c.source) };
}

/** serde_json output: JSON.stringify, except that u64 values (bigint) print exactly. */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `\u0000u64:${v}\u0000` : v));
  return text.includes("\\u0000u64:") ? text.replace(/"\\u0000u64:(\d+)\\u0000"/g, "$1") : text;
}

type Headers = Array<[string, string]>;

function send(res: http.ServerResponse, status: number, body: string | null, contentType: string | null, extra: Headers = []): void {
  const payload = body === null ? "" : body;
  const headers: Headers = [["content-length", String(Buffer.byteLength(payload))]];
  if (contentType) headers.push(["content-type", contentType]);
  headers.push(...extra, ["date", new Date().toUTCString()]);
  res.sendDate = false;
  res.writeHead(status, headers.flat() as any);
  res.end(payload);
}

/** A path segment as actix extracts it: percent-decoded, invalid escapes kept as written. */
function decodeSegment(segment: string): string {
  try { return decodeURIComponent(segment); } catch { return segment.replace(/%[0-9a-fA-F]{2}/g, (m) => { try { return decodeURIComponent(m); } catch { return m; } }); }
}

/** actix's Json extractor: content type, size, then serde. A failure is the text body of a 400/413. */
async function readInfo(req: http.IncomingMessage): Promise<CheckAndReportInfo | { status: number; text: string }> {
  if (!isJsonContentType(req.headers["content-type"])) { req.resume(); return { status: 400, text: "Content type error" }; }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > JSON_LIMIT) { req.resume(); return { status: 413, text: `JSON payload (${declared} bytes) is larger than allowed (limit: ${JSON_LIMIT} bytes).` }; }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > JSON_LIMIT) return { status: 413, text: `JSON payload has exceeded limit (${JSON_LIMIT} bytes).` };
    chunks.push(c as Buffer);
  }
  try {
    return parseCheckAndReportInfo(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  } catch (err) {
    if (err instanceof SerdeError) return { status: 400, text: `Json deserialize error: ${err.toString()}` };
    throw err;
  }
}

/** mime's view of Content-Type: `*\/json` or a `+json` suffix; a missing or unparsable one fails. */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\/([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(;.*)?$/.exec(header);
  if (!m) return false;
  const subtype = m[2].toLowerCase();
  return subtype === "json" || subtype.endsWith("+json");
}

type Route = { method: string; pattern: RegExp; handle: (req: http.IncomingMessage, res: http.ServerResponse, param: string) => Promise<void> | void };

export function createHttpHandler(opts: HttpOptions) {
  const { limiter, metrics } = opts;

  const check = async (req: http.IncomingMessage, res: http.ServerResponse, which: "/check" | "/report" | "/check_and_report") => {
    const info = await readInfo(req);
    if ("status" in info) return send(res, info.status, info.text, TEXT);
    const ctx = { descriptors: [info.values] };
    try {
      if (which === "/check") {
        const result = await limiter.check(info.namespace, ctx, info.delta);
        return result.limited ? send(res, 429, "Too many requests", TEXT) : send(res, 200, "null", JSON_TYPE);
      }
      if (which === "/report") {
        await limiter.update(info.namespace, ctx, info.delta);
        return send(res, 200, "null", JSON_TYPE);
      }
      // delta 0 stays 0 here, unlike gRPC's hits_addend
      const result = await limiter.checkAndUpdate(info.namespace, ctx, info.delta, info.responseHeaders !== null);
      const labels = metrics.labels(info.namespace, ctx);
      if (result.limited) metrics.limited(labels, result.limitName);
      else { metrics.authorized(labels); metrics.hits(labels, info.delta); }
      const headers: Headers = info.responseHeaders === "DraftVersion03" ? rateLimitHeaders(result).map((h) => [h.key.toLowerCase(), h.value]) : [];
      return send(res, result.limited ? 429 : 200, "null", JSON_TYPE, headers);
    } catch (err) {
      if (err instanceof LimitadorPanic) throw err;
      opts.log(`HTTP ${which}: ${(err as Error).message}`);
      return which === "/check_and_report" ? send(res, 500, "null", JSON_TYPE) : send(res, 500, "Internal server error", TEXT);
    }
  };

  const routes: Route[] = [
    { method: "GET", pattern: /^\/status$/, handle: (_q, res) => send(res, 200, toJson(opts.status.json()), JSON_TYPE) },
    { method: "GET", pattern: /^\/metrics$/, handle: (_q, res) => send(res, 200, metrics.render(), TEXT) },
    { method: "GET", pattern: /^\/limits\/([^/]+)$/, handle: (_q, res, ns) => send(res, 200, toJson(limiter.limitsOf(ns).map(limitJson)), JSON_TYPE) },
    {
      method: "GET", pattern: /^\/counters\/([^/]+)$/, handle: async (_q, res, ns) => {
        let counters;
        try { counters = await limiter.counters(ns); } catch (err) {
          if (err instanceof LimitadorPanic) throw err;
          opts.log(`HTTP /counters: ${(err as Error).message}`);
          return send(res, 500, "Internal server error", TEXT);
        }
        send(res, 200, toJson(counters.map((c) => ({
          limit: limitJson(c.limit),
          set_variables: Object.fromEntries([...c.variables].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])))),
          remaining: c.remaining,
          expires_in_seconds: Math.floor(c.ttlMs / 1000),
        }))), JSON_TYPE);
      },
    },
    { method: "POST", pattern: /^\/check_and_report$/, handle: (req, res) => check(req, res, "/check_and_report") },
    { method: "POST", pattern: /^\/check$/, handle: (req, res) => check(req, res, "/check") },
    { method: "POST", pattern: /^\/report$/, handle: (req, res) => check(req, res, "/report") },
    { method: "GET", pattern: /^\/api\/spec$/, handle: (_q, res) => send(res, 200, toJson(swaggerSpec()), JSON_TYPE) },
  ];

  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    try {
      for (const r of routes) {
        if (r.method !== req.method) continue;
        const m = r.pattern.exec(path);
        if (m) return await r.handle(req, res, m[1] === undefined ? "" : decodeSegment(m[1]));
      }
      req.resume();
      send(res, 404, null, null); // any other method or path: 404 with an empty body
    } catch (err) {
      if (err instanceof LimitadorPanic) {
        // Limitador's handler panics; actix drops the connection without an answer.
        opts.log(`HTTP ${path} panicked: ${err.message}`);
        req.socket.destroy();
        return;
      }
      opts.log(`HTTP ${req.method} ${path}: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, "Internal server error", TEXT);
    }
  };
}

export function startHttpServer(host: string, port: number, opts: HttpOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(createHttpHandler(opts));
  server.keepAliveTimeout = 0; // no Keep-Alive header (actix sends none)
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const bound = (server.address() as AddressInfo).port;
      resolve({ port: bound, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}
