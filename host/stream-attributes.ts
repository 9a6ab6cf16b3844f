// The attribute tree proxy_get_property resolves for a stream (research/proxy-wasm-abi.md §3):
// request.* only while the request headers are held (or in on_log), response.*, source,
// destination, connection, ext_authz and other dynamic metadata, filter state, plugin_*.
import { fromJson, type PropMap, type PropValue } from "./properties.js";
import type { HeaderList } from "./pairs.js";
import type { StreamOptions } from "./stream.js";

export interface AttributeSources {
  /** null when the request headers are not reachable in this phase. */
  requestHeaders: HeaderList | null;
  responseHeaders: HeaderList | null;
  responseHeadersReadable: boolean;
  responseBytes: number;
  /** Request body bytes received from downstream (Envoy's bytesReceived). */
  requestBytes: number;
  codeDetails: string;
  options: StreamOptions;
  streamId: number;
  startNs: bigint;
  filterState: Map<string, PropValue>;
  plugin: PropMap;
}

export function buildAttributes(s: AttributeSources): PropMap {
  const attrs: PropMap = new Map();
  if (s.requestHeaders) attrs.set("request", requestAttributes(s.requestHeaders, s));
  const resp = s.responseHeaders;
  if (resp) {
    attrs.set("response", new Map<string, PropValue>([
      ["code", { int: BigInt(Number(header(resp, ":status") ?? 0)) }],
      ["code_details", s.codeDetails],
      ["headers", () => (s.responseHeadersReadable ? headerMapValue(resp) : undefined)],
      ["size", { int: BigInt(s.responseBytes) }],
    ]));
  }
  const src = s.options.source ?? { address: "127.0.0.1", port: 45000 };
  const dst = s.options.destination ?? { address: "127.0.0.1", port: 10000 };
  attrs.set("source", new Map<string, PropValue>([["address", `${src.address}:${src.port}`], ["port", { int: BigInt(src.port) }]]));
  attrs.set("destination", new Map<string, PropValue>([["address", `${dst.address}:${dst.port}`], ["port", { int: BigInt(dst.port) }]]));
  attrs.set("connection", new Map<string, PropValue>([["id", { uint: BigInt(s.options.connectionId ?? s.streamId) }], ["mtls", s.options.mtls ?? false]]));
  const filterMetadata = new Map<string, PropValue>();
  for (const [ns, json] of Object.entries(s.options.dynamicMetadata ?? {})) filterMetadata.set(ns, fromJson(json));
  attrs.set("metadata", new Map<string, PropValue>([["filter_metadata", filterMetadata]]));
  attrs.set("filter_state", new Map(s.filterState));
  for (const [k, v] of s.plugin) attrs.set(k, v);
  return attrs;
}

function requestAttributes(headers: HeaderList, s: AttributeSources): PropMap {
  const path = header(headers, ":path") ?? "";
  const q = path.indexOf("?");
  return new Map<string, PropValue>([
    ["path", path],
    ["url_path", q >= 0 ? path.slice(0, q) : path],
    ["query", q >= 0 ? path.slice(q + 1) : ""],
    ["host", header(headers, ":authority") ?? header(headers, "host") ?? ""],
    ["method", header(headers, ":method") ?? ""],
    ["scheme", header(headers, ":scheme") ?? "http"],
    ["protocol", s.options.protocol ?? "HTTP/1.1"],
    ["id", header(headers, "x-request-id") ?? ""],
    ["time", { timestampNs: s.startNs }],
    ["headers", headerMapValue(headers)],
    ["useragent", header(headers, "user-agent") ?? ""],
    ["referer", header(headers, "referer") ?? ""],
    // Envoy: Content-Length when sent, else the body bytes received so far.
    ["size", { int: BigInt(requestSize(header(headers, "content-length"), s.requestBytes)) }],
  ]);
}

export function header(headers: HeaderList, name: string): string | undefined {
  return headers.find(([k]) => k === name)?.[1];
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
