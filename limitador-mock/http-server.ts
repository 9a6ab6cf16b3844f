// Limitador's HTTP API (research/limitador.md §4): /status, /metrics, /limits/{ns},
// /counters/{ns}, /check, /report, /check_and_report, with its JSON shapes.
import http from "node:http";
import { counterPrefix, rateLimitHeaders, type RateLimiter } from "./limiter.js";
import { labelsFromMap, type Compiled } from "./cel.js";
import type { LimitadorMetrics } from "./metrics.js";
import type { Limit } from "./limits.js";
import type { ReloadStatus } from "./reload.js";

export interface HttpOptions {
  limiter: RateLimiter;
  metrics: LimitadorMetrics;
  metricLabelsDefault: Compiled | null;
  status: ReloadStatus;
  log: (line: string) => void;
}

function limitJson(l: Limit) {
  return { id: l.id, namespace: l.namespace, max_value: l.maxValue, seconds: l.seconds, name: l.name, conditions: l.conditions.map((c) => c.source), variables: l.variables.map((c) => c.source) };
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, text = false): void {
  const payload = text ? String(body) : JSON.stringify(body);
  res.writeHead(status, { "content-type": text ? "text/plain; charset=utf-8" : "application/json", ...headers });
  res.end(payload);
}

async function readJson(req: http.IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

export function createHttpHandler(opts: HttpOptions) {
  const { limiter, metrics } = opts;
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://limitador");
    const path = url.pathname;
    try {
      if (req.method === "GET" && path === "/status") return send(res, 200, opts.status.json());
      if (req.method === "GET" && path === "/metrics") return send(res, 200, await metrics.render(), {}, true);
      const limitsMatch = /^\/limits\/(.+)$/.exec(path);
      if (req.method === "GET" && limitsMatch) return send(res, 200, limiter.limitsOf(decodeURIComponent(limitsMatch[1])).map(limitJson));
      const countersMatch = /^\/counters\/(.+)$/.exec(path);
      if (req.method === "GET" && countersMatch) {
        const ns = decodeURIComponent(countersMatch[1]);
        const live = await limiter.storage.list(counterPrefix(ns));
        const out = [];
        for (const c of live) {
          const rest = c.key.slice(counterPrefix(ns).length);
          const sep = rest.indexOf("\u0000");
          const limit = limiter.limitsOf(ns).find((l) => l.identity === rest.slice(0, sep));
          if (!limit) continue;
          const values: string[] = JSON.parse(rest.slice(sep + 1));
          out.push({
            limit: limitJson(limit),
            set_variables: Object.fromEntries(limit.variables.map((v, i) => [v.source, values[i]])),
            remaining: Math.max(0, limit.maxValue - c.value),
            expires_in_seconds: Math.ceil(c.ttlMs / 1000),
          });
        }
        return send(res, 200, out);
      }
      if (req.method === "POST" && (path === "/check" || path === "/report" || path === "/check_and_report")) {
        let body: any;
        try { body = await readJson(req); } catch { return send(res, 400, "Json deserialize error: invalid JSON", {}, true); }
        if (typeof body?.namespace !== "string" || typeof body?.values !== "object" || body.values === null || !Number.isSafeInteger(body?.delta) || body.delta < 0) {
          return send(res, 400, "Json deserialize error: expected {namespace: string, values: {string: string}, delta: u64}", {}, true);
        }
        const ctx = { descriptors: [new Map(Object.entries(body.values as Record<string, unknown>).map(([k, v]) => [k, String(v)]))] };
        if (path === "/check") {
          const d = await limiter.check(body.namespace, ctx, body.delta);
          return d.limited ? send(res, 429, "Too many requests", {}, true) : send(res, 200, null);
        }
        if (path === "/report") {
          await limiter.update(body.namespace, ctx, body.delta);
          return send(res, 200, null);
        }
        const d = await limiter.checkAndUpdate(body.namespace, ctx, body.delta); // delta 0 stays 0 here
        const labels = opts.metricLabelsDefault ? labelsFromMap(opts.metricLabelsDefault, ctx) : {};
        if (d.limited) metrics.limited(body.namespace, labels, d.limitName);
        else metrics.authorized(body.namespace, labels, body.delta);
        const headers: Record<string, string> = {};
        if (body.response_headers === "DraftVersion03") for (const h of rateLimitHeaders(d)) headers[h.key] = h.value;
        return send(res, d.limited ? 429 : 200, null, headers);
      }
      send(res, 404, "Not Found", {}, true);
    } catch (err) {
      opts.log(`HTTP ${req.method} ${path}: ${(err as Error).message}`);
      send(res, 500, "Internal server error", {}, true);
    }
  };
}

export function startHttpServer(host: string, port: number, opts: HttpOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(createHttpHandler(opts));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const bound = (server.address() as import("node:net").AddressInfo).port;
      resolve({ port: bound, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}
