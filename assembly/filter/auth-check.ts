// The `auth` action (design §3.4): what we send Authorino and how its answer is applied, as
// wasm-shim does (research/wasm-shim.md §2 "auth", §3).
import { Kind, Resolver, toStringValue, AttrPath, attrPath } from "../cel";
import { HeaderPair } from "../abi/pairs";
import { HeaderMap } from "../abi/header-map";
import { Action, RequestDatum } from "./config";
import { writePeer, writeMapEntry } from "../proto/auth";
import { isScalar } from "../proto/struct";
import { ProtoWriter, WIRE_VARINT, sharedWriter } from "../proto/wire";

/** Attributes a CheckRequest carries; warmed in on_request_headers when an auth action exists. */
export const CHECK_REQUEST_ATTRIBUTES: Array<Array<string>> = [
  ["source", "address"], ["destination", "address"], ["request", "time"], ["request", "id"],
  ["request", "method"], ["request", "path"], ["request", "host"], ["request", "scheme"],
  ["request", "query"], ["request", "protocol"], ["request", "size"],
];

const SOURCE_ADDRESS = attrPath(["source", "address"]), DESTINATION_ADDRESS = attrPath(["destination", "address"]);
const REQUEST_TIME = attrPath(["request", "time"]), REQUEST_ID = attrPath(["request", "id"]), REQUEST_METHOD = attrPath(["request", "method"]);
const REQUEST_PATH = attrPath(["request", "path"]), REQUEST_HOST = attrPath(["request", "host"]), REQUEST_SCHEME = attrPath(["request", "scheme"]);
const REQUEST_QUERY = attrPath(["request", "query"]), REQUEST_PROTOCOL = attrPath(["request", "protocol"]), REQUEST_SIZE = attrPath(["request", "size"]);

function text(attrs: Resolver, path: AttrPath): string {
  const v = attrs.resolve(path);
  if (v === null || v.isError) return "";
  if (v.kind == Kind.String) return v.s;
  const s = toStringValue(v);
  return s.isError ? "" : s.s;
}

/** Peer{address: Address{socket_address: SocketAddress{address, port_value}}} from "10.0.0.7:45000" (IPv6 "[::1]:80" too). */
function writePeerAddress(w: ProtoWriter, field: u32, full: string): void {
  if (full.length == 0) return;
  const colon = full.lastIndexOf(":");
  if (colon <= 0 || full.endsWith("]")) { writePeer(w, field, full, 0); return; }
  const port = I32.parseInt(full.substring(colon + 1));
  let host = full.substring(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length - 1);
  writePeer(w, field, host, port > 0 ? <u32>port : 0);
}

/**
 * CheckRequest{attributes = 1: AttributeContext{source 1, destination 2, request 4: {time 1, http 2},
 * context_extensions 10, metadata_context 11}}, written straight into the shared writer.
 */
export function buildCheckRequest(action: Action, requestData: Array<RequestDatum>, attrs: Resolver, headers: HeaderMap): ArrayBuffer {
  // Everything that reads attributes first: the writer is not re-entrant.
  const source = text(attrs, SOURCE_ADDRESS);
  const destination = text(attrs, DESTINATION_ADDRESS);
  const time = attrs.resolve(REQUEST_TIME);
  const timeNs: i64 = time !== null && time.kind == Kind.Timestamp ? time.i : 0;
  const id = text(attrs, REQUEST_ID);
  const method = text(attrs, REQUEST_METHOD);
  const path = text(attrs, REQUEST_PATH);
  const host = text(attrs, REQUEST_HOST);
  const scheme = text(attrs, REQUEST_SCHEME);
  const query = text(attrs, REQUEST_QUERY);
  const sizeValue = attrs.resolve(REQUEST_SIZE);
  const size: i64 = sizeValue !== null && sizeValue.kind == Kind.Int ? sizeValue.i : 0;
  const protocol = text(attrs, REQUEST_PROTOCOL);
  const values = requestDataValues(requestData, attrs);

  const w = sharedWriter();
  const attributes = w.begin(1);
  writePeerAddress(w, 1, source);
  writePeerAddress(w, 2, destination);
  const request = w.begin(4);
  if (timeNs > 0) {
    const ts = w.begin(1); // Timestamp{seconds 1, nanos 2}
    const seconds = timeNs / 1000000000;
    const nanos = timeNs % 1000000000;
    if (seconds != 0) { w.tag(1, WIRE_VARINT); w.varint(<u64>seconds); }
    if (nanos != 0) { w.tag(2, WIRE_VARINT); w.varint(<u64>nanos); }
    w.end(ts);
  }
  const http = w.begin(2); // HttpRequest{id 1, method 2, headers 3, path 4, host 5, scheme 6, query 7, size 9, protocol 10}
  w.stringField(1, id);
  w.stringField(2, method);
  writeHeaders(w, headers);
  w.stringField(4, path);
  w.stringField(5, host);
  w.stringField(6, scheme);
  w.stringField(7, query);
  if (size != 0) { w.tag(9, WIRE_VARINT); w.varint(<u64>size); }
  w.stringField(10, protocol);
  w.end(http);
  w.end(request);
  writeMapEntry(w, 10, "host", action.scope);
  writeRequestData(w, requestData, values);
  w.end(attributes);
  return w.finish();
}

/** Repeated headers joined with "," as Envoy's ext_authz does, at the place of the first. */
function writeHeaders(w: ProtoWriter, headers: HeaderMap): void {
  if (!headers.ascii) { writeDecodedHeaders(w, headers.pairs()); return; }
  // ASCII: the bytes are the strings, written as they came.
  for (let i = 0; i < headers.count; i++) {
    let seen = false;
    for (let j = 0; j < i; j++) if (headers.sameKey(i, j)) { seen = true; break; }
    if (seen) continue;
    const entry = w.begin(3);
    w.bytesFieldRaw(1, headers.keyPtr(i), <i32>headers.keyLength(i));
    const value = w.begin(2);
    w.raw(headers.valuePtr(i), <i32>headers.valueLength(i));
    for (let k = i + 1; k < headers.count; k++) {
      if (!headers.sameKey(i, k)) continue;
      w.raw(COMMA, 1);
      w.raw(headers.valuePtr(k), <i32>headers.valueLength(k));
    }
    w.end(value);
    w.end(entry);
  }
}

const COMMA = memory.data<u8>([44]);

function writeDecodedHeaders(w: ProtoWriter, headers: Array<HeaderPair>): void {
  for (let i = 0; i < headers.length; i++) {
    const key = headers[i].key;
    let seen = false;
    for (let j = 0; j < i; j++) if (headers[j].key == key) { seen = true; break; }
    if (seen) continue;
    let value = headers[i].value;
    for (let k = i + 1; k < headers.length; k++) if (headers[k].key == key) value += "," + headers[k].value;
    writeMapEntry(w, 3, key, value);
  }
}

function sentAsMetadata(d: RequestDatum): bool {
  return !(d.expression.usesResponseBody || d.expression.usesRequestBody); // auth runs before bodies are read
}

/** The requestData values a CheckRequest carries, index for index ("" when left out or sent as cel_expr). */
function requestDataValues(requestData: Array<RequestDatum>, attrs: Resolver): Array<string | null> {
  const out = new Array<string | null>(requestData.length);
  for (let i = 0; i < requestData.length; i++) {
    const d = requestData[i];
    if (!sentAsMetadata(d) || d.readsAuth) continue;
    const v = d.expression.eval(attrs);
    if (!v.isError && isScalar(v)) out[i] = toStringValue(v).s;
  }
  return out;
}

/**
 * requestData travels as filter_metadata: domain "" → "io.kuadrant", else "io.kuadrant.<domain>";
 * bindings that need auth.* go as {"cel_expr": ...} for Authorino to evaluate; bindings that read a
 * body (responseBodyJSON, requestBodyJSON) are left out; the rest are evaluated (values).
 */
function writeRequestData(w: ProtoWriter, requestData: Array<RequestDatum>, values: Array<string | null>): void {
  let metadata = -1;
  for (let i = 0; i < requestData.length; i++) {
    const d = requestData[i];
    if (!sentAsMetadata(d)) continue;
    const ns = d.metadataNamespace;
    let earlier = false;
    for (let j = 0; j < i; j++) if (sentAsMetadata(requestData[j]) && requestData[j].metadataNamespace == ns) { earlier = true; break; }
    if (earlier) continue; // its namespace was written with the first binding of it
    if (metadata < 0) metadata = w.begin(11); // Metadata{filter_metadata = 1: map<string, Struct>}
    const entry = w.begin(1);
    w.stringFieldAlways(1, ns);
    const struct = w.begin(2);
    for (let k = i; k < requestData.length; k++) {
      const e = requestData[k];
      if (!sentAsMetadata(e) || e.metadataNamespace != ns) continue;
      if (e.readsAuth) { w.rawBuffer(celExprField(e)); continue; }
      const value = values[k];
      if (value !== null) writeStringField(w, e.field, value);
    }
    w.end(struct);
    w.end(entry);
  }
  if (metadata >= 0) w.end(metadata);
}

/** Struct.fields entry {key: field, value: Value{string_value}}. */
function writeStringField(w: ProtoWriter, field: string, value: string): void {
  const entry = w.begin(1);
  w.stringFieldAlways(1, field);
  const v = w.begin(2);
  w.stringFieldAlways(3, value);
  w.end(v);
  w.end(entry);
}

/** Struct.fields entry {key: field, value: Value{struct_value: {"cel_expr": source}}}, encoded once per binding. */
function celExprField(d: RequestDatum): ArrayBuffer {
  const cached = d.celExprField;
  if (cached !== null) return cached;
  const w = new ProtoWriter();
  const entry = w.begin(1);
  w.stringFieldAlways(1, d.field);
  const value = w.begin(2);
  const struct = w.begin(5);
  writeStringField(w, "cel_expr", d.expression.source);
  w.end(struct);
  w.end(value);
  w.end(entry);
  const bytes = w.finish();
  d.celExprField = bytes;
  return bytes;
}
