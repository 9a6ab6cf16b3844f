// The `auth` action (design §3.4): what we send Authorino and how its answer is applied, as
// wasm-shim does (research/wasm-shim.md §2 "auth", §3).
import { Kind, Resolver, toStringValue } from "../cel";
import { HeaderPair } from "../abi/pairs";
import { Action, RequestDatum } from "./config";
import { CheckRequestFields, PeerAddress, encodeCheckRequest } from "../proto/auth";
import { StructBuilder, isScalar } from "../proto/struct";

/** Attributes a CheckRequest carries; warmed in on_request_headers when an auth action exists. */
export const CHECK_REQUEST_ATTRIBUTES: Array<Array<string>> = [
  ["source", "address"], ["destination", "address"], ["request", "time"], ["request", "id"],
  ["request", "method"], ["request", "path"], ["request", "host"], ["request", "scheme"],
  ["request", "query"], ["request", "protocol"], ["request", "size"],
];

function text(attrs: Resolver, path: Array<string>): string {
  const v = attrs.resolve(path, path.join("\0"));
  if (v === null || v.isError) return "";
  const s = toStringValue(v);
  return s.isError ? "" : s.s;
}

/** "10.0.0.7:45000" → address and port (IPv6 "[::1]:80" too). */
function peerAddress(attrs: Resolver, root: string): PeerAddress | null {
  const full = text(attrs, [root, "address"]);
  if (full.length == 0) return null;
  const colon = full.lastIndexOf(":");
  if (colon <= 0 || full.endsWith("]")) return new PeerAddress(full, 0);
  const port = I32.parseInt(full.substring(colon + 1));
  let host = full.substring(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length - 1);
  return new PeerAddress(host, port > 0 ? <u32>port : 0);
}

export function buildCheckRequest(action: Action, requestData: Array<RequestDatum>, attrs: Resolver, headers: Array<HeaderPair>): ArrayBuffer {
  const f = new CheckRequestFields();
  f.source = peerAddress(attrs, "source");
  f.destination = peerAddress(attrs, "destination");
  const time = attrs.resolve(["request", "time"], "request\0time");
  if (time !== null && time.kind == Kind.Timestamp) f.timeNs = time.i;
  f.id = text(attrs, ["request", "id"]);
  f.method = text(attrs, ["request", "method"]);
  // Repeated headers joined with "," as Envoy's ext_authz does.
  for (let i = 0; i < headers.length; i++) {
    let merged = false;
    for (let j = 0; j < f.headers.length; j++) {
      if (f.headers[j].key == headers[i].key) { f.headers[j].value += "," + headers[i].value; merged = true; break; }
    }
    if (!merged) f.headers.push(new HeaderPair(headers[i].key, headers[i].value));
  }
  f.path = text(attrs, ["request", "path"]);
  f.host = text(attrs, ["request", "host"]);
  f.scheme = text(attrs, ["request", "scheme"]);
  f.query = text(attrs, ["request", "query"]);
  const size = attrs.resolve(["request", "size"], "request\0size");
  if (size !== null && size.kind == Kind.Int) f.size = size.i;
  f.protocol = text(attrs, ["request", "protocol"]);
  f.contextExtensions.push(new HeaderPair("host", action.scope));
  addRequestData(f, requestData, attrs);
  return encodeCheckRequest(f);
}

/**
 * requestData travels as filter_metadata: domain "" → "io.kuadrant", else "io.kuadrant.<domain>";
 * bindings that need auth.* go as {"cel_expr": ...} for Authorino to evaluate; bindings that read a
 * body (responseBodyJSON, requestBodyJSON) are left out; the rest are evaluated now.
 */
function addRequestData(f: CheckRequestFields, requestData: Array<RequestDatum>, attrs: Resolver): void {
  const namespaces = new Array<string>();
  const builders = new Array<StructBuilder>();
  for (let i = 0; i < requestData.length; i++) {
    const d = requestData[i];
    if (d.expression.usesResponseBody || d.expression.usesRequestBody) continue; // auth runs before bodies are read
    const ns = d.domain.length == 0 ? "io.kuadrant" : "io.kuadrant." + d.domain;
    let index = namespaces.indexOf(ns);
    if (index < 0) { namespaces.push(ns); builders.push(new StructBuilder()); index = namespaces.length - 1; }
    if (d.expression.usesRoot("auth")) {
      builders[index].struct(d.field, new StructBuilder().string("cel_expr", d.expression.source));
      continue;
    }
    const v = d.expression.eval(attrs);
    if (!v.isError && isScalar(v)) builders[index].string(d.field, toStringValue(v).s);
  }
  for (let i = 0; i < namespaces.length; i++) {
    f.metadataNamespaces.push(namespaces[i]);
    f.metadataStructs.push(builders[i].finish());
  }
}
