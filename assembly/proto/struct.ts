// google.protobuf.Struct / Value, both ways: CEL values from Authorino's dynamic_metadata, and
// the requestData metadata we send with a CheckRequest.
import { ProtoWriter, ProtoReader, WIRE_LEN, WIRE_VARINT, WIRE_I64 } from "./wire";
import { Value, Kind, CelMap } from "../cel";

const MAX_DEPTH = 32;

/** Struct{fields = 1: map<string, Value>} → CEL map; null when malformed. */
export function decodeStruct(data: ArrayBuffer, depth: i32 = 0): Value | null {
  if (depth > MAX_DEPTH) return null;
  const r = new ProtoReader(data);
  const m = new CelMap();
  while (!r.done) {
    const field = r.tag();
    if (r.failed) break;
    if (field == 1 && r.wire == WIRE_LEN) {
      const entry = new ProtoReader(r.bytes());
      let key = "";
      let value: Value = Value.null();
      while (!entry.done) {
        const f = entry.tag();
        if (entry.failed) break;
        if (f == 1 && entry.wire == WIRE_LEN) key = entry.string();
        else if (f == 2 && entry.wire == WIRE_LEN) {
          const v = decodeValue(entry.bytes(), depth + 1);
          if (v === null) return null;
          value = v;
        } else entry.skip();
      }
      if (entry.failed) return null;
      m.setString(key, value);
    } else r.skip();
  }
  return r.failed ? null : Value.mapOf(m);
}

/** Value{null_value=1, number_value=2, string_value=3, bool_value=4, struct_value=5, list_value=6}. */
function decodeValue(data: ArrayBuffer, depth: i32): Value | null {
  if (depth > MAX_DEPTH) return null;
  const r = new ProtoReader(data);
  let out: Value = Value.null();
  while (!r.done) {
    const field = r.tag();
    if (r.failed) break;
    if (field == 1 && r.wire == WIRE_VARINT) { r.varint(); out = Value.null(); }
    else if (field == 2 && r.wire == WIRE_I64) out = Value.double(r.double());
    else if (field == 3 && r.wire == WIRE_LEN) out = Value.string(r.string());
    else if (field == 4 && r.wire == WIRE_VARINT) out = Value.bool(r.varint() != 0);
    else if (field == 5 && r.wire == WIRE_LEN) { const s = decodeStruct(r.bytes(), depth + 1); if (s === null) return null; out = s; }
    else if (field == 6 && r.wire == WIRE_LEN) {
      // ListValue{values = 1}
      const list = new ProtoReader(r.bytes());
      const items = new Array<Value>();
      while (!list.done) {
        const f = list.tag();
        if (list.failed) break;
        if (f == 1 && list.wire == WIRE_LEN) { const v = decodeValue(list.bytes(), depth + 1); if (v === null) return null; items.push(v); }
        else list.skip();
      }
      if (list.failed) return null;
      out = Value.list(items);
    } else r.skip();
  }
  return r.failed ? null : out;
}

/** A Struct from ordered string fields whose values are strings or nested {key: string} structs. */
export class StructBuilder {
  private w: ProtoWriter = new ProtoWriter();

  string(key: string, value: string): StructBuilder {
    const v = new ProtoWriter();
    v.stringFieldAlways(3, value);
    this.entry(key, v);
    return this;
  }

  struct(key: string, nested: StructBuilder): StructBuilder {
    const v = new ProtoWriter();
    v.bytesField(5, nested.finish());
    this.entry(key, v);
    return this;
  }

  private entry(key: string, value: ProtoWriter): void {
    const e = new ProtoWriter();
    e.stringFieldAlways(1, key);
    e.messageField(2, value);
    this.w.messageField(1, e);
  }

  finish(): ArrayBuffer { return this.w.finish(); }
}

export function isScalar(v: Value): bool {
  return v.kind == Kind.String || v.kind == Kind.Int || v.kind == Kind.Uint || v.kind == Kind.Double || v.kind == Kind.Bool;
}
