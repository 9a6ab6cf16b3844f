// The dashboard `npm start` serves: scrapes the gateway's /stats/prometheus and Limitador's
// /metrics, /limits and /counters while a browser watches (Server-Sent Events, one scrape per
// interval), and serves the page with uPlot from node_modules (no CDN).
import http from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { scrape, type Exposition } from "./exposition.js";
import { History } from "./history.js";
import { limitadorRows, limitRows, totals, trafficRows, type LimitadorCounter } from "./view.js";

export interface DashboardOptions {
  port: number;
  host?: string;
  /** The gateway admin's Prometheus endpoint, e.g. http://127.0.0.1:9901/stats/prometheus. */
  gatewayMetricsUrl: string;
  /** Limitador's HTTP API base, e.g. http://127.0.0.1:8080; null when it has none we can reach. */
  limitadorUrl: string | null;
  /** Limitador namespaces known beforehand (from the limits file); seen ones are added. */
  namespaces?: () => string[];
  intervalMs?: number;
}

const PUBLIC = fileURLToPath(new URL("./public/", import.meta.url));
const require = createRequire(import.meta.url);
const UPLOT = require.resolve("uplot/dist/uPlot.iife.min.js");
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: `${PUBLIC}index.html`, type: "text/html; charset=utf-8" },
  "/app.js": { file: `${PUBLIC}app.js`, type: "text/javascript; charset=utf-8" },
  "/style.css": { file: `${PUBLIC}style.css`, type: "text/css; charset=utf-8" },
  "/vendor/uPlot.iife.min.js": { file: UPLOT, type: "text/javascript; charset=utf-8" },
  "/vendor/uPlot.min.css": { file: UPLOT.replace(/uPlot\.iife\.min\.js$/, "uPlot.min.css"), type: "text/css; charset=utf-8" },
};

export async function startDashboard(opts: DashboardOptions) {
  const intervalMs = opts.intervalMs ?? 2000;
  const history = new History();
  const clients = new Set<http.ServerResponse>();
  let state: unknown = null;
  let scraping: Promise<unknown> | null = null;

  async function refresh(): Promise<unknown> {
    const at = Date.now();
    // An external Limitador (npm start --limitador) gives us its gRPC address only: no metrics then.
    const [gateway, limitador] = await Promise.allSettled([scrape(opts.gatewayMetricsUrl), opts.limitadorUrl ? scrape(`${opts.limitadorUrl}/metrics`) : Promise.resolve(null)]);
    const gw: Exposition | null = gateway.status === "fulfilled" ? gateway.value : null;
    const lim: Exposition | null = limitador.status === "fulfilled" ? limitador.value : null;
    if (gw) history.add(at, gw);
    const traffic = gw ? trafficRows(gw) : [];
    const limits = lim && opts.limitadorUrl ? await readLimits(opts.limitadorUrl, lim, opts.namespaces?.() ?? []).catch((err: Error) => ({ error: err.message, rows: [] })) : { rows: [] };
    state = {
      at,
      intervalMs,
      sources: {
        gateway: { url: opts.gatewayMetricsUrl, error: gateway.status === "rejected" ? String(gateway.reason?.message ?? gateway.reason) : null },
        limitador: { url: opts.limitadorUrl ? `${opts.limitadorUrl}/metrics` : null, error: limitador.status === "rejected" ? String(limitador.reason?.message ?? limitador.reason) : ("error" in limits ? limits.error : null) },
      },
      totals: gw ? totals(traffic, gw) : null,
      traffic,
      limitador: lim ? limitadorRows(lim) : [],
      limits: limits.rows,
      series: history.series(),
    };
    const event = `data: ${JSON.stringify(state)}\n\n`;
    for (const c of clients) c.write(event);
    return state;
  }

  /** One scrape at a time; callers during a scrape share its result. */
  const refreshOnce = () => (scraping ??= refresh().finally(() => { scraping = null; }));

  let timer: NodeJS.Timeout | null = null;
  const watch = () => { timer ??= setInterval(() => { refreshOnce().catch(() => {}); }, intervalMs); };
  const unwatch = () => { if (clients.size === 0 && timer) { clearInterval(timer); timer = null; } };

  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://dashboard").pathname;
    try {
      if (req.method !== "GET") { res.writeHead(405); return res.end(); }
      const file = FILES[path];
      if (file) {
        res.writeHead(200, { "content-type": file.type, "cache-control": "no-cache" });
        return res.end(readFileSync(file.file));
      }
      if (path === "/api/state") {
        const s = await refreshOnce();
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        return res.end(JSON.stringify(s));
      }
      if (path === "/api/events") {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
        res.write(`retry: ${intervalMs}\n\n`);
        clients.add(res);
        req.on("close", () => { clients.delete(res); unwatch(); });
        watch();
        if (state) res.write(`data: ${JSON.stringify(state)}\n\n`);
        refreshOnce().catch(() => {});
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`${(err as Error).message}\n`);
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => resolve((server.address() as import("node:net").AddressInfo).port));
  });
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      if (timer) clearInterval(timer);
      for (const c of clients) c.end();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Limitador's configured limits and live counters, for every namespace known or seen in its metrics. */
async function readLimits(base: string, metrics: Exposition, known: string[]) {
  const seen = new Set(known);
  for (const samples of metrics.samples.values()) for (const s of samples) if (s.labels.limitador_namespace) seen.add(s.labels.limitador_namespace);
  const limits: Array<{ namespace: string; name: string | null; max_value: number; seconds: number }> = [];
  const counters: LimitadorCounter[] = [];
  await Promise.all([...seen].map(async (ns) => {
    const get = async (what: string) => {
      const res = await fetch(`${base}/${what}/${encodeURIComponent(ns)}`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`${base}/${what}/${ns} answered ${res.status}`);
      return res.json();
    };
    const [l, c] = await Promise.all([get("limits"), get("counters")]);
    limits.push(...l);
    counters.push(...c);
  }));
  return { rows: limitRows(limits, counters) };
}
