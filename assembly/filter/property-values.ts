// Turns proxy_get_property bytes into CEL values. Well-known attributes have a fixed type
// (research/proxy-wasm-abi.md §3.3); metadata values carry none, so their shape is inferred:
// a pairs blob is a map, a non-text 8-byte value a double (JSON numbers in a Struct are
// doubles), a single 0/1 byte a bool, anything else a string.
import { Value, CelMap } from "../cel";
import { decodeBytePairs } from "../abi/pairs";
import { decodeI64, decodeF64 } from "../abi/property";
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

export function decodeTyped(bytes: ArrayBuffer, type: AttrType): Value {
  switch (type) {
    case AttrType.String: return Value.string(String.UTF8.decode(bytes));
    case AttrType.Int: return bytes.byteLength == 8 ? Value.int(decodeI64(bytes)) : Value.error("malformed int attribute");
    case AttrType.Uint: return bytes.byteLength == 8 ? Value.uint(<u64>decodeI64(bytes)) : Value.error("malformed uint attribute");
    case AttrType.Bool: return Value.bool(bytes.byteLength > 0 && (load<u8>(changetype<usize>(bytes)) & 1) == 1);
    case AttrType.Timestamp: return bytes.byteLength == 8 ? Value.timestamp(decodeI64(bytes)) : Value.error("malformed timestamp attribute");
    default: return inferValue(bytes, 0);
  }
}

export function inferValue(bytes: ArrayBuffer, depth: i32): Value {
  const n = bytes.byteLength;
  if (n >= 4 && depth < 16 && isPairsBlob(bytes)) {
    const pairs = decodeBytePairs(bytes);
    const m = new CelMap();
    for (let i = 0; i < pairs.length; i++) m.setString(String.UTF8.decode(pairs[i].key), inferValue(pairs[i].value, depth + 1));
    return Value.mapOf(m);
  }
  if (n == 8 && !isText(bytes)) return Value.double(decodeF64(bytes));
  if (n == 1) {
    const b = load<u8>(changetype<usize>(bytes));
    if (b == 0 || b == 1) return Value.bool(b == 1);
  }
  return Value.string(String.UTF8.decode(bytes));
}

/** Exactly the pairs layout: counts and lengths add up to the size, with NUL terminators. */
function isPairsBlob(bytes: ArrayBuffer): bool {
  const base = changetype<usize>(bytes);
  const size = <u64>bytes.byteLength;
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

function isText(bytes: ArrayBuffer): bool {
  const base = changetype<usize>(bytes);
  for (let i = 0; i < bytes.byteLength; i++) {
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
export function jsonOrString(bytes: ArrayBuffer): Value {
  const text = String.UTF8.decode(bytes);
  const parsed = parseJson(text);
  if (parsed.ok) return jsonToValue(<JsonValue>parsed.value);
  return Value.string(text);
}
