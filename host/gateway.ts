// The host as a local gateway (design §4): an HTTP listener with the filter chain
// ext_authz → our wasm filter → router, and an admin listener with /stats/prometheus and /ready.
// A stand-in for Envoy where Envoy is not installed, not a product of its own.
import http from "node:http";
import * as grpc from "@grpc/grpc-js";
import { EnvoyHost, type HostOptions } from "./envoy-host.js";
import { FILTER_STATS_TAGS } from "./stats-tags.js";
import { authorizationService } from "../proto/index.js";
import type { HeaderList } from "./pairs.js";

export interface GatewayOptions extends HostOptions {
  wasm: Uint8Array;
  port: number;
  adminPort: number;
  host?: string;
  /** Where the router sends requests (the "model" cluster), e.g. http://127.0.0.1:8000. */
  upstreamUrl: string;
  /** Envoy's ext_authz filter in front of the wasm filter: the gRPC address of the auth server. */
  extAuthz?: string | null;
  /** The ext_authz call's timeout (Envoy's default is 200 ms; ours is generous: a local stack shares its machine). */
  extAuthzTimeoutMs?: number;
  accessLog?: (line: string) => void;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host"]);

export async function startGateway(opts: GatewayOptions) {
  const host = await EnvoyHost.start(opts.wasm, { statsTags: FILTER_STATS_TAGS, ...opts });
  if (!host.configured) {
    const reasons = host.logs.filter((l) => l.level >= 4).map((l) => `  ${l.message}`).join("\n");
    host.close();
    throw new Error(`the plugin configuration was refused:\n${reasons}`);
  }
  // Connections to Limitador and Authorino are up before the first request (Envoy initialises its
  // clusters before it serves); an address where nothing listens yet is not an error here.
  await host.warmClusters(5000);
  const authz = opts.extAuthz ? new (authorizationService())(opts.extAuthz, grpc.credentials.createInsecure()) : null;

  const server = http.createServer(async (req, res) => {
    const started = Date.now();
    const headers: HeaderList = [
      [":method", req.method ?? "GET"], [":path", req.url ?? "/"], [":authority", req.headers.host ?? ""], [":scheme", "http"],
    ];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (!HOP_BY_HOP.has(name)) headers.push([name, req.rawHeaders[i + 1]]);
    }
    let dynamicMetadata: Record<string, unknown> = {};
    if (authz) {
      const verdict = await extAuthzCheck(authz, headers, req, opts.extAuthzTimeoutMs ?? 5000);
      if (verdict.denied) {
        res.writeHead(verdict.denied.status, verdict.denied.headers);
        res.end(verdict.denied.body);
        opts.accessLog?.(`${req.method} ${req.url} ${verdict.denied.status} ext_authz_denied ${Date.now() - started}ms`);
        return;
      }
      dynamicMetadata = { "envoy.filters.http.ext_authz": verdict.metadata };
      for (const [k, v] of verdict.headers) {
        const i = headers.findIndex(([name]) => name === k);
        if (i >= 0) headers[i] = [k, v]; else headers.push([k, v]);
      }
    }
    const stream = await host.newStream({
      source: { address: req.socket.remoteAddress ?? "127.0.0.1", port: req.socket.remotePort ?? 0 },
      destination: { address: req.socket.localAddress ?? "127.0.0.1", port: req.socket.localPort ?? opts.port },
      dynamicMetadata,
      upstream: (forwarded) => route(opts.upstreamUrl, forwarded.headers, forwarded.body),
      onDownstreamHeaders: (h) => {
        const status = Number(h.find(([k]) => k === ":status")?.[1] ?? 502);
        const out: Record<string, string[]> = {};
        for (const [k, v] of h) if (!k.startsWith(":") && !HOP_BY_HOP.has(k) && k !== "content-length") (out[k] ??= []).push(v);
        res.writeHead(status, out);
      },
      onDownstreamData: (chunk) => { res.write(chunk); },
    });
    res.on("close", () => { if (!res.writableFinished) stream.reset(); });
    const bodyless = (req.method === "GET" || req.method === "HEAD") && !req.headers["content-length"] && !req.headers["transfer-encoding"];
    stream.sendRequestHeaders(headers, bodyless);
    if (!bodyless) {
      req.on("data", (chunk: Buffer) => stream.sendRequestBody(chunk, false));
      req.on("end", () => stream.sendRequestBody(Buffer.alloc(0), true));
    }
    const result = await stream.completion;
    if (result.reset) res.destroy();
    else {
      if (!res.headersSent) res.writeHead(result.status || 502);
      res.end();
    }
    opts.accessLog?.(`${req.method} ${req.url} ${result.status}${stream.localReply ? ` ${stream.localReply.details}` : ""} ${Date.now() - started}ms`);
  });

  const admin = http.createServer((req, res) => {
    if (req.url === "/stats/prometheus") { res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }); return res.end(host.prometheus()); }
    if (req.url === "/memory" || req.url === "/memory?gc=1") {
      // Envoy's admin /memory reports the allocator; ours adds what a soak watches for leaks
      // (?gc=1 collects first when node runs with --expose-gc, so heap figures compare).
      if (req.url.endsWith("gc=1")) (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ rss: m.rss, heap_used: m.heapUsed, wasm_linear_memory: host.vm.memory.buffer.byteLength, active_streams: host.activeStreams, grpc_calls_in_flight: host.grpcCallsInFlight }) + "\n");
    }
    if (req.url === "/ready") { res.writeHead(host.vm.failed ? 503 : 200); return res.end(host.vm.failed ? "DEAD\n" : "LIVE\n"); }
    if (req.url === "/stats") {
      res.writeHead(200, { "content-type": "text/plain" });
      return res.end(host.stats.names().map((n) => `${n}: ${host.stats.get(n)!.kind === "histogram" ? `P(count=${host.stats.histogramCount(n)})` : host.stats.counter(n)}`).join("\n") + "\n");
    }
    res.writeHead(404); res.end("not found\n");
  });

  const listen = (s: http.Server, port: number) => new Promise<number>((resolve, reject) => {
    s.once("error", reject);
    s.listen(port, opts.host ?? "127.0.0.1", () => resolve((s.address() as import("node:net").AddressInfo).port));
  });
  const port = await listen(server, opts.port);
  const adminPort = await listen(admin, opts.adminPort).catch(async (err) => { server.close(); throw err; });
  return {
    host, port, adminPort,
    close: async () => {
      server.closeAllConnections(); admin.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => admin.close(r))]);
      authz?.close();
      host.close();
    },
  };
}

/** The router: forwards to the upstream cluster and streams its answer back. */
function route(baseUrl: string, headers: HeaderList, body: Buffer) {
  return new Promise<import("./stream.js").UpstreamResponse>((resolve, reject) => {
    const path = headers.find(([k]) => k === ":path")?.[1] ?? "/";
    const method = headers.find(([k]) => k === ":method")?.[1] ?? "GET";
    const out: Record<string, string> = {};
    for (const [k, v] of headers) if (!k.startsWith(":")) out[k] = out[k] ? `${out[k]}, ${v}` : v;
    out["content-length"] = String(body.length);
    const req = http.request(new URL(path, baseUrl), { method, headers: out }, (res) => {
      const resHeaders: HeaderList = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) resHeaders.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
      resolve({ status: res.statusCode ?? 502, headers: resHeaders.filter(([k]) => !HOP_BY_HOP.has(k)), body: res });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Envoy's ext_authz filter: Check, then either the denial or the identity as dynamic metadata. */
function extAuthzCheck(client: any, headers: HeaderList, req: http.IncomingMessage, timeoutMs: number): Promise<{ denied?: { status: number; headers: Record<string, string>; body: string }; metadata?: unknown; headers: Array<[string, string]> }> {
  const get = (name: string) => headers.find(([k]) => k === name)?.[1] ?? "";
  const path = get(":path");
  const httpHeaders: Record<string, string> = {};
  for (const [k, v] of headers) httpHeaders[k] = httpHeaders[k] ? `${httpHeaders[k]},${v}` : v;
  const request = {
    attributes: {
      source: { address: { socket_address: { address: req.socket.remoteAddress ?? "", port_value: req.socket.remotePort ?? 0 } } },
      destination: { address: { socket_address: { address: req.socket.localAddress ?? "", port_value: req.socket.localPort ?? 0 } } },
      request: { time: { seconds: Math.floor(Date.now() / 1000), nanos: 0 }, http: { id: get("x-request-id"), method: get(":method"), headers: httpHeaders, path, host: get(":authority"), scheme: "http", query: path.includes("?") ? path.slice(path.indexOf("?") + 1) : "", protocol: "HTTP/1.1" } },
    },
  };
  return new Promise((resolve) => {
    client.Check(request, { deadline: Date.now() + timeoutMs }, (err: any, res: any) => {
      // Envoy's ext_authz defaults to failure_mode_allow: false → 403 on errors.
      if (err) return resolve({ denied: { status: 403, headers: {}, body: "" }, headers: [] });
      if (res.status?.code !== 0 || res.denied_response) {
        const d = res.denied_response ?? {};
        const h: Record<string, string> = {};
        for (const o of d.headers ?? []) h[o.header.key] = o.header.value;
        return resolve({ denied: { status: d.status?.code || 403, headers: h, body: d.body ?? "" }, headers: [] });
      }
      const okHeaders: Array<[string, string]> = (res.ok_response?.headers ?? []).map((o: any) => [o.header.key.toLowerCase(), o.header.value]);
      resolve({ metadata: structToJson(res.dynamic_metadata), headers: okHeaders });
    });
  });
}

function structToJson(s: any): Record<string, unknown> {
  const value = (v: any): unknown => {
    if (!v) return null;
    if ("stringValue" in v && v.kind === "stringValue") return v.stringValue;
    if (v.kind === "numberValue") return v.numberValue;
    if (v.kind === "boolValue") return v.boolValue;
    if (v.kind === "structValue") return structToJson(v.structValue);
    if (v.kind === "listValue") return (v.listValue?.values ?? []).map(value);
    return v.stringValue ?? v.numberValue ?? v.boolValue ?? null;
  };
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, value(v)]));
}
