// envoy.service.auth.v3.CheckRequest parts (filter/auth-check.ts writes the request) and the
// CheckResponse, as Authorino answers it.
import { ProtoWriter, ProtoReader, WIRE_LEN, WIRE_VARINT } from "./wire";

/** Peer{address = 1: Address{socket_address = 1: SocketAddress{address = 2, port_value = 3}}}. */
export function writePeer(w: ProtoWriter, field: u32, address: string, port: u32): void {
  const peer = w.begin(field);
  const addr = w.begin(1);
  const socket = w.begin(1);
  w.stringField(2, address);
  w.uint32Field(3, port);
  w.end(socket);
  w.end(addr);
  w.end(peer);
}

/** A map<string, string> entry {key = 1, value = 2}, both written even when empty. */
export function writeMapEntry(w: ProtoWriter, field: u32, key: string, value: string): void {
  const e = w.begin(field);
  w.stringFieldAlways(1, key);
  w.stringFieldAlways(2, value);
  w.end(e);
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
    if (field == 1 && r.wire == WIRE_LEN) out.statusCode = statusCode(r);
    else if (field == 2 && r.wire == WIRE_LEN) { out.denied = true; if (!denied(r, out)) return null; }
    else if (field == 3 && r.wire == WIRE_LEN) { out.ok = true; if (!okResponse(r, out)) return null; }
    else if (field == 4 && r.wire == WIRE_LEN) out.dynamicMetadata = r.bytes();
    else r.skip();
  }
  return r.failed ? null : out;
}

/** google.rpc.Status / HttpStatus{code 1}, the field at the reader; a malformed one reads as what it had so far. */
function statusCode(r: ProtoReader): i32 {
  const outer = r.enter();
  if (r.failed) { r.leave(outer); return 0; }
  let code: i32 = 0;
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 1 && r.wire == WIRE_VARINT) code = <i32>r.varint();
    else r.skip();
  }
  r.leave(outer, false);
  return code;
}

/** DeniedHttpResponse{status 1: HttpStatus{code 1}, headers 2, body 3}. */
function denied(r: ProtoReader, out: CheckResponse): bool {
  const outer = r.enter();
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 1 && r.wire == WIRE_LEN) out.deniedStatus = <u32>statusCode(r);
    else if (f == 2 && r.wire == WIRE_LEN) { const h = headerValueOption(r); if (h === null) { r.leave(outer); return false; } out.headers.push(h); }
    else if (f == 3 && r.wire == WIRE_LEN) out.deniedBody = r.string();
    else r.skip();
  }
  const ok = !r.failed;
  r.leave(outer, false);
  return ok;
}

/** OkHttpResponse{headers 2, dynamic_metadata 3, headers_to_remove 5, response_headers_to_add 6, query_parameters_to_set 7, query_parameters_to_remove 8}. */
function okResponse(r: ProtoReader, out: CheckResponse): bool {
  const outer = r.enter();
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 2 && r.wire == WIRE_LEN) { const h = headerValueOption(r); if (h === null) { r.leave(outer); return false; } out.headers.push(h); }
    else if (f == 5) { out.unsupported.push("headers_to_remove"); r.skip(); }
    else if (f == 6) { out.unsupported.push("response_headers_to_add"); r.skip(); }
    else if (f == 7) { out.unsupported.push("query_parameters_to_set"); r.skip(); }
    else if (f == 8) { out.unsupported.push("query_parameters_to_remove"); r.skip(); }
    else r.skip();
  }
  const ok = !r.failed;
  r.leave(outer, false);
  return ok;
}

/** HeaderValueOption{header 1: HeaderValue{key 1, value 2}, append 2: BoolValue{value 1}, append_action 3}, the field at the reader. */
function headerValueOption(r: ProtoReader): HeaderToSet | null {
  const outer = r.enter();
  let key = "", value = "";
  let append = false;
  while (!r.done) {
    const f = r.tag();
    if (r.failed) break;
    if (f == 1 && r.wire == WIRE_LEN) {
      const header = r.enter();
      while (!r.done) {
        const hf = r.tag();
        if (r.failed) break;
        if (hf == 1 && r.wire == WIRE_LEN) key = r.string();
        else if ((hf == 2 || hf == 3) && r.wire == WIRE_LEN) value = r.string();
        else r.skip();
      }
      if (r.failed) { r.leave(header); r.leave(outer); return null; }
      r.leave(header);
    } else if (f == 2 && r.wire == WIRE_LEN) {
      const b = r.enter();
      if (r.failed) { r.leave(b); r.leave(outer); return null; }
      while (!r.done) { const bf = r.tag(); if (r.failed) break; if (bf == 1 && r.wire == WIRE_VARINT) append = r.varint() != 0; else r.skip(); }
      r.leave(b, false);
    } else if (f == 3 && r.wire == WIRE_VARINT) {
      append = r.varint() == 0; // APPEND_IF_EXISTS_OR_ADD = 0 appends
    } else r.skip();
  }
  r.leave(outer);
  return r.failed ? null : new HeaderToSet(key, value, append);
}
