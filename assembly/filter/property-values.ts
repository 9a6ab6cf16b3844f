// Turns proxy_get_property bytes into CEL values. Well-known attributes have a fixed type
// (research/proxy-wasm-abi.md §3.3); metadata values carry none, so their shape is inferred:
// a pairs blob is a map, a non-text 8-byte value a double (JSON numbers in a Struct are
// doubles), a single 0/1 byte a bool, anything else a string.
import { Value, CelMap } from "../cel";
import { decodeUtf8 } from "../abi/memory";
import { JsonValue, JsonKind, parseJson } from "../json";

export enum AttrType { String, Int, Uint, Bool, Timestamp, Inferred }

export function attributeType(path: Array<string>): AttrType {
  const root = path[0];
  if (path.length == 2) {
    const leaf = path[1];
    if (root == "request") {
      if (leaf == "time") return AttrType.Timestamp;
      if (leaf == "size" || leaf == "total_size" || leaf == "headers_bytes" || leaf == "duration") return AttrType.Int;
      return AttrType.String;
    }
    if (root == "response") {
      if (leaf == "code" || leaf == "size" || leaf == "total_size" || leaf == "grpc_status" || leaf == "flags" || leaf == "backend_latency") return AttrType.Int;
      return AttrType.String;
    }
    if (root == "source" || root == "destination") return leaf == "port" ? AttrType.Int : AttrType.String;
    if (root == "connection") {
      if (leaf == "id") return AttrType.Uint;
      if (leaf == "mtls") return AttrType.Bool;
      return AttrType.String;
    }
  }
  return AttrType.Inferred;
}

/** A property value of a known type, read where the host put it (`ptr`, `len`). */
export function decodeTyped(ptr: usize, len: usize, type: AttrType): Value {
  switch (type) {
    case AttrType.String: return Value.string(decodeUtf8(ptr, len));
    case AttrType.Int: return len == 8 ? Value.int(load<i64>(ptr)) : Value.error("malformed int attribute");
    case AttrType.Uint: return len == 8 ? Value.uint(load<u64>(ptr)) : Value.error("malformed uint attribute");
    case AttrType.Bool: return Value.bool(len > 0 && (load<u8>(ptr) & 1) == 1);
    case AttrType.Timestamp: return len == 8 ? Value.timestamp(load<i64>(ptr)) : Value.error("malformed timestamp attribute");
    default: return inferValue(ptr, len, 0);
  }
}

export function inferValue(ptr: usize, len: usize, depth: i32): Value {
  if (len >= 4 && depth < 16 && isPairsBlob(ptr, len)) {
    // The layout was checked whole: every pair is there.
    const count = <usize>load<u32>(ptr);
    const m = new CelMap();
    let lengths = ptr + 4;
    let data = ptr + 4 + 8 * count;
    for (let i: usize = 0; i < count; i++) {
      const k = <usize>load<u32>(lengths), v = <usize>load<u32>(lengths + 4);
      lengths += 8;
      const key = decodeUtf8(data, k);
      m.setString(key, inferValue(data + k + 1, v, depth + 1));
      data += k + 1 + v + 1;
    }
    return Value.mapOf(m);
  }
  if (len == 8 && !isText(ptr, len)) return Value.double(load<f64>(ptr));
  if (len == 1) {
    const b = load<u8>(ptr);
    if (b == 0 || b == 1) return Value.bool(b == 1);
  }
  return Value.string(decodeUtf8(ptr, len));
}

/** Exactly the pairs layout: counts and lengths add up to the size, with NUL terminators. */
function isPairsBlob(base: usize, len: usize): bool {
  const size = <u64>len;
  const count = <u64>load<u32>(base);
  if (count > 1024 || 4 + 8 * count > size) return false;
  let offset: u64 = 4 + 8 * count;
  for (let i: u64 = 0; i < count; i++) {
    const k = <u64>load<u32>(base + 4 + <usize>(8 * i));
    const v = <u64>load<u32>(base + 8 + <usize>(8 * i));
    if (offset + k + 1 + v + 1 > size) return false;
    if (load<u8>(base + <usize>(offset + k)) != 0 || load<u8>(base + <usize>(offset + k + 1 + v)) != 0) return false;
    offset += k + 1 + v + 1;
  }
  return offset == size;
}

function isText(base: usize, len: usize): bool {
  for (let i: usize = 0; i < len; i++) {
    const c = load<u8>(base + i);
    if (c < 0x20 && c != 9 && c != 10 && c != 13) return false;
    if (c == 0x7f) return false;
  }
  return true;
}

/** JSON → CEL (integers without fraction become int, as wasm-shim does for body values). */
export function jsonToValue(j: JsonValue): Value {
  switch (j.kind) {
    case JsonKind.Null: return Value.null();
    case JsonKind.Bool: return Value.bool(j.bool);
    case JsonKind.Number: return j.isInteger ? Value.int(j.int) : Value.double(j.num);
    case JsonKind.String: return Value.string(j.str);
    case JsonKind.Array: {
      const out = new Array<Value>();
      for (let i = 0; i < j.items.length; i++) out.push(jsonToValue(j.items[i]));
      return Value.list(out);
    }
    default: {
      const m = new CelMap();
      for (let i = 0; i < j.members.length; i++) m.setString(j.members[i].key, jsonToValue(j.members[i].value));
      return Value.mapOf(m);
    }
  }
}

/** Filter-state values written by other filters are often JSON; plain text stays a string. */
export function jsonOrString(ptr: usize, len: usize): Value {
  const text = decodeUtf8(ptr, len);
  const parsed = parseJson(text);
  if (parsed.ok) return jsonToValue(<JsonValue>parsed.value);
  return Value.string(text);
}
