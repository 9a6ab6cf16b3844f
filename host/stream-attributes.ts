// The attribute tree proxy_get_property resolves for a stream (research/proxy-wasm-abi.md §3):
// request.* only while the request headers are held (or in on_log), response.*, source,
// destination, connection, ext_authz and other dynamic metadata, filter state, plugin_*.
// Built once per stream: what changes during the stream (headers, phase, body size, reply
// details) is a function read when a property is read, so a read costs a lookup, not a rebuild.
import { fromJson, type PropMap, type PropValue } from "./properties.js";
import type { HeaderList } from "./pairs.js";
import type { StreamOptions } from "./stream.js";

/** The stream state attributes depend on, read at property-read time. */
export interface AttributeSources {
  /** null when the request headers are not reachable in this phase. */
  requestHeaders(): HeaderList | null;
  /** null before the response started (and when it is not reachable). */
  responseHeaders(): HeaderList | null;
  responseHeadersReadable(): boolean;
  responseBytes(): number;
  /** Request body bytes received from downstream (Envoy's bytesReceived). */
  requestBytes(): number;
  codeDetails(): string;
  readonly options: StreamOptions;
  readonly streamId: number;
  readonly startNs: bigint;
  readonly filterState: Map<string, PropValue>;
  readonly plugin: PropMap;
}

export function buildAttributes(s: AttributeSources): PropMap {
  const attrs: PropMap = new Map();
  const request = requestAttributes(s);
  attrs.set("request", () => (s.requestHeaders() ? request : undefined));
  const response = new Map<string, PropValue>([
    ["code", () => ({ int: BigInt(Number(header(s.responseHeaders()!, ":status") ?? 0)) })],
    ["code_details", () => s.codeDetails()],
    ["headers", () => (s.responseHeadersReadable() ? headerMapValue(s.responseHeaders()!) : undefined)],
    ["size", () => ({ int: BigInt(s.responseBytes()) })],
  ]);
  attrs.set("response", () => (s.responseHeaders() ? response : undefined));
  const src = s.options.source ?? { address: "127.0.0.1", port: 45000 };
  const dst = s.options.destination ?? { address: "127.0.0.1", port: 10000 };
  attrs.set("source", new Map<string, PropValue>([["address", `${src.address}:${src.port}`], ["port", { int: BigInt(src.port) }]]));
  attrs.set("destination", new Map<string, PropValue>([["address", `${dst.address}:${dst.port}`], ["port", { int: BigInt(dst.port) }]]));
  attrs.set("connection", new Map<string, PropValue>([["id", { uint: BigInt(s.options.connectionId ?? s.streamId) }], ["mtls", s.options.mtls ?? false]]));
  let filterMetadata: PropMap | null = null;
  const metadata = new Map<string, PropValue>([["filter_metadata", () => {
    if (filterMetadata === null) {
      filterMetadata = new Map();
      for (const [ns, json] of Object.entries(s.options.dynamicMetadata ?? {})) filterMetadata.set(ns, fromJson(json));
    }
    return filterMetadata;
  }]]);
  attrs.set("metadata", metadata);
  attrs.set("filter_state", s.filterState);
  for (const [k, v] of s.plugin) attrs.set(k, v);
  return attrs;
}

/** request.*, each field read from the headers as they are at the time of the read. */
function requestAttributes(s: AttributeSources): PropMap {
  const h = (name: string) => header(s.requestHeaders()!, name);
  const path = () => h(":path") ?? "";
  return new Map<string, PropValue>([
    ["path", path],
    ["url_path", () => { const p = path(), q = p.indexOf("?"); return q >= 0 ? p.slice(0, q) : p; }],
    ["query", () => { const p = path(), q = p.indexOf("?"); return q >= 0 ? p.slice(q + 1) : ""; }],
    ["host", () => h(":authority") ?? h("host") ?? ""],
    ["method", () => h(":method") ?? ""],
    ["scheme", () => h(":scheme") ?? "http"],
    ["protocol", s.options.protocol ?? "HTTP/1.1"],
    ["id", () => h("x-request-id") ?? ""],
    ["time", { timestampNs: s.startNs }],
    ["headers", () => headerMapValue(s.requestHeaders()!)],
    ["useragent", () => h("user-agent") ?? ""],
    ["referer", () => h("referer") ?? ""],
    // Envoy: Content-Length when sent, else the body bytes received so far.
    ["size", () => ({ int: BigInt(requestSize(h("content-length"), s.requestBytes())) })],
  ]);
}

export function header(headers: HeaderList, name: string): string | undefined {
  for (const [k, v] of headers) if (k === name) return v;
  return undefined;
}

/** request.headers as Envoy exposes it: lower-cased names, repeated headers comma-joined. */
function headerMapValue(headers: HeaderList): PropMap {
  const map = new Map<string, PropValue>();
  for (const [k, v] of headers) {
    const prev = map.get(k);
    map.set(k, prev === undefined ? v : `${prev as string},${v}`);
  }
  return map;
}

/** Envoy's request.size: Content-Length when it is a valid length (Envoy rejects other values), else the body bytes received. */
function requestSize(contentLength: string | undefined, received: number): number {
  const n = contentLength === undefined || !/^\d{1,15}$/.test(contentLength.trim()) ? NaN : Number(contentLength.trim());
  return Number.isSafeInteger(n) ? n : received;
}
