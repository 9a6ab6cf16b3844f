// envoy.service.auth.v3.CheckRequest / CheckResponse, as Authorino reads and answers them.
import { ProtoWriter, ProtoReader, WIRE_LEN, WIRE_VARINT } from "./wire";
import { HeaderPair } from "../abi/pairs";

export class PeerAddress {
  constructor(public address: string, public port: u32) {}
}

export class CheckRequestFields {
  source: PeerAddress | null = null;
  destination: PeerAddress | null = null;
  timeNs: i64 = 0;
  id: string = "";
  method: string = "";
  headers: Array<HeaderPair> = [];
  path: string = "";
  host: string = "";
  scheme: string = "";
  query: string = "";
  size: i64 = 0;
  protocol: string = "";
  contextExtensions: Array<HeaderPair> = [];
  /** filter_metadata namespace → serialized google.protobuf.Struct. */
  metadataNamespaces: Array<string> = [];
  metadataStructs: Array<ArrayBuffer> = [];
}

function peer(p: PeerAddress): ProtoWriter {
  const socket = new ProtoWriter();          // SocketAddress{address = 2, port_value = 3}
  socket.stringField(2, p.address);
  socket.uint32Field(3, p.port);
  const address = new ProtoWriter();         // Address{socket_address = 1}
  address.messageField(1, socket);
  const out = new ProtoWriter();             // Peer{address = 1}
  out.messageField(1, address);
  return out;
}

function mapEntry(key: string, value: string): ProtoWriter {
  const e = new ProtoWriter();
  e.stringFieldAlways(1, key);
  e.stringFieldAlways(2, value);
  return e;
}

/** CheckRequest{attributes = 1: AttributeContext{source 1, destination 2, request 4, context_extensions 10, metadata_context 11}}. */
export function encodeCheckRequest(f: CheckRequestFields): ArrayBuffer {
  const http = new ProtoWriter(); // HttpRequest
  http.stringField(1, f.id);
  http.stringField(2, f.method);
  for (let i = 0; i < f.headers.length; i++) http.messageField(3, mapEntry(f.headers[i].key, f.headers[i].value));
  http.stringField(4, f.path);
  http.stringField(5, f.host);
  http.stringField(6, f.scheme);
  http.stringField(7, f.query);
  if (f.size != 0) { http.tag(9, WIRE_VARINT); http.varint(<u64>f.size); }
  http.stringField(10, f.protocol);

  const request = new ProtoWriter(); // AttributeContext.Request{time 1, http 2}
  if (f.timeNs > 0) {
    const ts = new ProtoWriter(); // Timestamp{seconds 1, nanos 2}
    const seconds = f.timeNs / 1000000000;
    const nanos = f.timeNs % 1000000000;
    if (seconds != 0) { ts.tag(1, WIRE_VARINT); ts.varint(<u64>seconds); }
    if (nanos != 0) { ts.tag(2, WIRE_VARINT); ts.varint(<u64>nanos); }
    request.messageField(1, ts);
  }
  request.messageField(2, http);

  const attrs = new ProtoWriter();
  const src = f.source, dst = f.destination;
  if (src !== null) attrs.messageField(1, peer(src));
  if (dst !== null) attrs.messageField(2, peer(dst));
  attrs.messageField(4, request);
  for (let i = 0; i < f.contextExtensions.length; i++) attrs.messageField(10, mapEntry(f.contextExtensions[i].key, f.contextExtensions[i].value));
  if (f.metadataNamespaces.length > 0) {
    const md = new ProtoWriter(); // Metadata{filter_metadata = 1: map<string, Struct>}
    for (let i = 0; i < f.metadataNamespaces.length; i++) {
      const e = new ProtoWriter();
      e.stringFieldAlways(1, f.metadataNamespaces[i]);
      e.bytesField(2, f.metadataStructs[i]);
      md.messageField(1, e);
    }
    attrs.messageField(11, md);
  }
  const out = new ProtoWriter();
  out.messageField(1, attrs);
  return out.finish();
}

export class HeaderToSet {
  constructor(public key: string, public value: string, public append: bool) {}
}

export class CheckResponse {
  statusCode: i32 = 0;
  denied: bool = false;
  ok: bool = false;
  deniedStatus: u32 = 0;
  deniedBody: string = "";
  headers: Array<HeaderToSet> = [];
  /** ok_response fields the filter cannot honour (wasm-shim answers 500 for these). */
  unsupported: Array<string> = [];
  dynamicMetadata: ArrayBuffer | null = null;
}

/** CheckResponse{status 1, denied_response 2, ok_response 3, dynamic_metadata 4}; null when malformed. */
export function decodeCheckResponse(data: ArrayBuffer): CheckResponse | null {
  const r = new ProtoReader(data);
  const out = new CheckResponse();
  while (!r.done) {
    const field = r.tag();
    if (r.failed) break;
    if (field == 1 && r.wire == WIRE_LEN) out.statusCode = statusCode(r.bytes());
    else if (field == 2 && r.wire == WIRE_LEN) { out.denied = true; if (!denied(r.bytes(), out)) return null; }
    else if (field == 3 && r.wire == WIRE_LEN) { out.ok = true; if (!okResponse(r.bytes(), out)) return null; }
    else if (field == 4 && r.wire == WIRE_LEN) out.dynamicMetadata = r.bytes();
    else r.skip();
  }
  return r.failed ? null : out;
}

function statusCode(data: ArrayBuffer): i32 {
  const r = new ProtoReader(data);
  let code: i32 = 0;
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 1 && r.wire == WIRE_VARINT) code = <i32>r.varint();
    else r.skip();
  }
  return code;
}

/** DeniedHttpResponse{status 1: HttpStatus{code 1}, headers 2, body 3}. */
function denied(data: ArrayBuffer, out: CheckResponse): bool {
  const r = new ProtoReader(data);
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 1 && r.wire == WIRE_LEN) out.deniedStatus = <u32>statusCode(r.bytes());
    else if (f == 2 && r.wire == WIRE_LEN) { const h = headerValueOption(r.bytes()); if (h === null) return false; out.headers.push(h); }
    else if (f == 3 && r.wire == WIRE_LEN) out.deniedBody = r.string();
    else r.skip();
  }
  return !r.failed;
}

/** OkHttpResponse{headers 2, dynamic_metadata 3, headers_to_remove 5, response_headers_to_add 6, query_parameters_to_set 7, query_parameters_to_remove 8}. */
function okResponse(data: ArrayBuffer, out: CheckResponse): bool {
  const r = new ProtoReader(data);
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 2 && r.wire == WIRE_LEN) { const h = headerValueOption(r.bytes()); if (h === null) return false; out.headers.push(h); }
    else if (f == 5) { out.unsupported.push("headers_to_remove"); r.skip(); }
    else if (f == 6) { out.unsupported.push("response_headers_to_add"); r.skip(); }
    else if (f == 7) { out.unsupported.push("query_parameters_to_set"); r.skip(); }
    else if (f == 8) { out.unsupported.push("query_parameters_to_remove"); r.skip(); }
    else r.skip();
  }
  return !r.failed;
}

/** HeaderValueOption{header 1: HeaderValue{key 1, value 2}, append 2: BoolValue{value 1}, append_action 3}. */
function headerValueOption(data: ArrayBuffer): HeaderToSet | null {
  const r = new ProtoReader(data);
  let key = "", value = "";
  let append = false;
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 1 && r.wire == WIRE_LEN) {
      const h = new ProtoReader(r.bytes());
      while (!h.done) {
        const hf = h.tag();
        if (h.failed) break;
        if (hf == 1 && h.wire == WIRE_LEN) key = h.string();
        else if ((hf == 2 || hf == 3) && h.wire == WIRE_LEN) value = h.string();
        else h.skip();
      }
      if (h.failed) return null;
    } else if (f == 2 && r.wire == WIRE_LEN) {
      const b = new ProtoReader(r.bytes());
      while (!b.done) { const bf = b.tag(); if (b.failed) break; if (bf == 1 && b.wire == WIRE_VARINT) append = b.varint() != 0; else b.skip(); }
    } else if (f == 3 && r.wire == WIRE_VARINT) {
      append = r.varint() == 0; // APPEND_IF_EXISTS_OR_ADD = 0 appends
    } else r.skip();
  }
  return r.failed ? null : new HeaderToSet(key, value, append);
}
