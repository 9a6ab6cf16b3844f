// CEL values → protobuf bytes, driven by descriptors: how a typed `grpc` action's message builder
// becomes the method's request (research/wasm-shim-newer-config.md §3.2; the reply's way back is
// dynamic-decode.ts). Conversion is strictly typed, as wasm-shim's: a
// uint32 field needs a CEL uint, a nested message a literal of that type; google.protobuf.Struct,
// Value, ListValue, Timestamp, Duration and the wrappers also take the plain CEL values they stand for.
import { Value, Kind, CelMap } from "../cel";
import { ProtoWriter, WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_I32, sharedWriter } from "./wire";
import { MessageType, FieldInfo, FieldType } from "./descriptors";

export { decodeMessage, decodeStructValue } from "./dynamic-decode";

const MAX_DEPTH = 48;

export class Encoded {
  constructor(public bytes: ArrayBuffer | null, public error: string) {}
}

/**
 * Whether the field paths of error messages are built as the encoder goes. A success needs none:
 * encodeMessage encodes without them, and only when that fails again with them, for the message.
 */
let tracePaths = false;

function at(path: string, separator: string, name: string): string { return tracePaths ? path + separator + name : path; }
function atIndex(path: string, i: i32): string { return tracePaths ? path + "[" + i.toString() + "]" : path; }

/** Encodes `value` (a struct literal of `type`, or a map for well-known types) as `type`. */
export function encodeMessage(type: MessageType, value: Value): Encoded {
  let w = sharedWriter();
  let err = writeMessage(w, type, value, type.fullName, 0);
  if (err.length == 0) return new Encoded(w.finish(), "");
  // Again, with paths, for the error message.
  tracePaths = true;
  w = sharedWriter();
  err = writeMessage(w, type, value, type.fullName, 0);
  tracePaths = false;
  return new Encoded(null, err);
}

/**
 * Writes field `f` = `v` into `w` (the value encoding of writeField, no paths); false when `v`
 * does not fit `f` (callers then take a way that reports why).
 */
export function writeFieldValue(w: ProtoWriter, f: FieldInfo, v: Value, depth: i32): bool {
  return writeField(w, f, v, "", depth).length == 0;
}

/** One item `v` of repeated field `f` (writeField's item encoding; `depth`: the item's, one below the field's); false when it does not fit. */
export function writeItemValue(w: ProtoWriter, f: FieldInfo, v: Value, depth: i32): bool {
  return writeSingle(w, f, v, "", depth, true).length == 0;
}

function writeMessage(w: ProtoWriter, type: MessageType, value: Value, path: string, depth: i32): string {
  if (depth > MAX_DEPTH) return path + ": nested too deeply";
  const name = type.fullName;
  if (value.kind != Kind.Message || value.s != name) {
    const wk = writeWellKnown(w, name, value, path, depth);
    if (wk !== null) return wk;
    if (value.kind == Kind.Message) return path + ": expected a " + name + ", got a " + value.s;
    return path + ": expected a " + name + " literal, got " + value.typeName();
  }
  const fields = value.entries();
  for (let i = 0; i < fields.size; i++) {
    if (type.field(fields.keys[i].s) === null) return path + ": " + name + " has no field '" + fields.keys[i].s + "'";
  }
  // Field-number order, as protobuf encoders (and wasm-shim's) write them.
  for (let i = 0; i < type.fields.length; i++) {
    const info = type.fields[i];
    const v = fields.getString(info.name);
    if (v === null) continue;
    const err = writeField(w, info, v, at(path, ".", info.name), depth);
    if (err.length > 0) return err;
  }
  return "";
}

function writeField(w: ProtoWriter, f: FieldInfo, v: Value, path: string, depth: i32): string {
  if (v.kind == Kind.Null && f.tracksPresence) return ""; // null leaves a message field unset
  if (f.isMap) {
    if (v.kind != Kind.Map) return path + ": expected a map, got " + v.typeName();
    const entry = f.message!;
    const keyField = entry.fieldByNumber(1)!, valueField = entry.fieldByNumber(2)!;
    const m = v.entries();
    for (let i = 0; i < m.size; i++) {
      const e = w.begin(f.number);
      let err = writeSingle(w, keyField, m.keys[i], at(path, "[key]", ""), depth + 1, true);
      if (err.length == 0) err = writeSingle(w, valueField, m.values[i], tracePaths ? path + "[" + keyText(m.keys[i]) + "]" : path, depth + 1, true);
      if (err.length > 0) return err;
      w.end(e);
    }
    return "";
  }
  if (f.repeated) {
    if (v.kind != Kind.List) return path + ": expected a list, got " + v.typeName();
    const items = v.items();
    for (let i = 0; i < items.length; i++) {
      const err = writeSingle(w, f, items[i], atIndex(path, i), depth + 1, true);
      if (err.length > 0) return err;
    }
    return "";
  }
  return writeSingle(w, f, v, path, depth, f.tracksPresence);
}

/** One value of field `f`; `always` writes defaults too (oneof members, list items, map entries). */
function writeSingle(w: ProtoWriter, f: FieldInfo, v: Value, path: string, depth: i32, always: bool): string {
  switch (f.type) {
    case FieldType.String: {
      if (v.kind != Kind.String) return mismatch(path, "string", v);
      if (always) w.stringFieldAlways(f.number, v.s); else w.stringField(f.number, v.s);
      return "";
    }
    case FieldType.Bytes: {
      if (v.kind != Kind.String) return mismatch(path, "bytes", v);
      if (always || v.s.length > 0) w.stringFieldAlways(f.number, v.s); // the text's UTF-8 bytes
      return "";
    }
    case FieldType.Bool: {
      if (v.kind != Kind.Bool) return mismatch(path, "bool", v);
      if (always || v.b) { w.tag(f.number, WIRE_VARINT); w.varint(v.b ? 1 : 0); }
      return "";
    }
    case FieldType.Uint32: case FieldType.Fixed32: {
      if (v.kind != Kind.Uint) return mismatch(path, "uint", v);
      if (v.u > 0xFFFFFFFF) return path + ": " + v.u.toString() + " does not fit a uint32";
      if (always || v.u != 0) writeVarintOrFixed(w, f, v.u);
      return "";
    }
    case FieldType.Uint64: case FieldType.Fixed64: {
      if (v.kind != Kind.Uint) return mismatch(path, "uint", v);
      if (always || v.u != 0) writeVarintOrFixed(w, f, v.u);
      return "";
    }
    case FieldType.Int32: case FieldType.Sint32: case FieldType.Sfixed32: {
      if (v.kind != Kind.Int) return mismatch(path, "int", v);
      if (v.i < I32.MIN_VALUE || v.i > I32.MAX_VALUE) return path + ": " + v.i.toString() + " does not fit an int32";
      if (always || v.i != 0) writeSigned(w, f, v.i);
      return "";
    }
    case FieldType.Int64: case FieldType.Sint64: case FieldType.Sfixed64: {
      if (v.kind != Kind.Int) return mismatch(path, "int", v);
      if (always || v.i != 0) writeSigned(w, f, v.i);
      return "";
    }
    case FieldType.Double: case FieldType.Float: {
      if (v.kind != Kind.Double) return mismatch(path, "double", v);
      if (always || v.d != 0) {
        if (f.type == FieldType.Double) { w.tag(f.number, WIRE_I64); w.fixed64(reinterpret<u64>(v.d)); }
        else { w.tag(f.number, WIRE_I32); w.fixed32(reinterpret<u32>(<f32>v.d)); }
      }
      return "";
    }
    case FieldType.Enum: {
      if (v.kind != Kind.Int) return mismatch(path, "int (enum " + f.typeName + ")", v);
      if (v.i < I32.MIN_VALUE || v.i > I32.MAX_VALUE) return path + ": " + v.i.toString() + " is not a value of " + f.typeName;
      if (always || v.i != 0) { w.tag(f.number, WIRE_VARINT); w.varint(<u64>v.i); }
      return "";
    }
    case FieldType.Message: {
      const nested = w.begin(f.number);
      const err = writeMessage(w, f.message!, v, path, depth + 1);
      if (err.length > 0) return err;
      w.end(nested);
      return "";
    }
    default: return path + ": field type " + (<i32>f.type).toString() + " is not supported";
  }
}

function writeVarintOrFixed(w: ProtoWriter, f: FieldInfo, u: u64): void {
  if (f.type == FieldType.Fixed32) { w.tag(f.number, WIRE_I32); w.fixed32(<u32>u); }
  else if (f.type == FieldType.Fixed64) { w.tag(f.number, WIRE_I64); w.fixed64(u); }
  else { w.tag(f.number, WIRE_VARINT); w.varint(u); }
}

function writeSigned(w: ProtoWriter, f: FieldInfo, i: i64): void {
  if (f.type == FieldType.Sint32 || f.type == FieldType.Sint64) { w.tag(f.number, WIRE_VARINT); w.varint(<u64>((i << 1) ^ (i >> 63))); }
  else if (f.type == FieldType.Sfixed32) { w.tag(f.number, WIRE_I32); w.fixed32(<u32>i); }
  else if (f.type == FieldType.Sfixed64) { w.tag(f.number, WIRE_I64); w.fixed64(<u64>i); }
  else { w.tag(f.number, WIRE_VARINT); w.varint(<u64>i); } // int32/int64: negative → 10-byte varint
}

function mismatch(path: string, want: string, v: Value): string {
  return path + ": expected " + want + ", got " + v.typeName();
}

function keyText(k: Value): string { return k.kind == Kind.String ? k.s : k.typeName(); }

/** Plain CEL values for the well-known types; null when `name` is not one or `v` is its own literal. */
function writeWellKnown(w: ProtoWriter, name: string, v: Value, path: string, depth: i32): string | null {
  if (name == "google.protobuf.Struct") {
    if (v.kind != Kind.Map) return null;
    return writeStructFields(w, v.entries(), path, depth);
  }
  if (name == "google.protobuf.Value") return v.kind == Kind.Message ? null : writeJsonValue(w, v, path, depth);
  if (name == "google.protobuf.ListValue") {
    if (v.kind != Kind.List) return null;
    const items = v.items();
    for (let i = 0; i < items.length; i++) {
      const item = w.begin(1);
      const err = writeJsonValue(w, items[i], atIndex(path, i), depth + 1);
      if (err.length > 0) return err;
      w.end(item);
    }
    return "";
  }
  if (name == "google.protobuf.Timestamp") {
    if (v.kind != Kind.Timestamp) return null;
    let seconds = v.i / 1000000000, nanos = v.i % 1000000000;
    if (nanos < 0) { seconds -= 1; nanos += 1000000000; }
    if (seconds != 0) { w.tag(1, WIRE_VARINT); w.varint(<u64>seconds); }
    if (nanos != 0) { w.tag(2, WIRE_VARINT); w.varint(<u64>nanos); }
    return "";
  }
  if (name == "google.protobuf.Duration") {
    if (v.kind != Kind.Duration) return null;
    // seconds and nanos carry the same sign (duration.proto)
    const seconds = v.i / 1000000000, nanos = v.i % 1000000000;
    if (seconds != 0) { w.tag(1, WIRE_VARINT); w.varint(<u64>seconds); }
    if (nanos != 0) { w.tag(2, WIRE_VARINT); w.varint(<u64><i64><i32>nanos); }
    return "";
  }
  if (name.startsWith("google.protobuf.") && name.endsWith("Value")) return writeWrapper(w, name, v, path);
  return null;
}

/**
 * A stored value exported as filter state (wasm-shim's exportToHost): a map as a
 * google.protobuf.Struct, anything else as a google.protobuf.Value; null when not representable.
 */
export function encodeJsonLike(v: Value): ArrayBuffer | null {
  const w = sharedWriter(); // paths are not traced: only success or failure matters here
  const err = v.kind == Kind.Map ? writeStructFields(w, v.entries(), "value", 0) : writeJsonValue(w, v, "value", 0);
  return err.length > 0 ? null : w.finish();
}

function writeStructFields(w: ProtoWriter, m: CelMap, path: string, depth: i32): string {
  for (let i = 0; i < m.size; i++) {
    if (m.keys[i].kind != Kind.String) return path + ": a google.protobuf.Struct needs string keys, got " + m.keys[i].typeName();
    const entry = w.begin(1);
    w.stringFieldAlways(1, m.keys[i].s);
    const value = w.begin(2);
    const err = writeJsonValue(w, m.values[i], at(path, ".", m.keys[i].s), depth + 1);
    if (err.length > 0) return err;
    w.end(value);
    w.end(entry);
  }
  return "";
}

/** google.protobuf.Value{null_value = 1, number_value = 2, string_value = 3, bool_value = 4, struct_value = 5, list_value = 6}. */
function writeJsonValue(w: ProtoWriter, v: Value, path: string, depth: i32): string {
  if (depth > MAX_DEPTH) return path + ": nested too deeply";
  switch (v.kind) {
    case Kind.Null: w.tag(1, WIRE_VARINT); w.varint(0); return "";
    case Kind.Bool: w.tag(4, WIRE_VARINT); w.varint(v.b ? 1 : 0); return "";
    case Kind.Int: w.tag(2, WIRE_I64); w.fixed64(reinterpret<u64>(<f64>v.i)); return "";
    case Kind.Uint: w.tag(2, WIRE_I64); w.fixed64(reinterpret<u64>(<f64>v.u)); return "";
    case Kind.Double: w.tag(2, WIRE_I64); w.fixed64(reinterpret<u64>(v.d)); return "";
    case Kind.String: w.stringFieldAlways(3, v.s); return "";
    case Kind.Map: {
      const s = w.begin(5);
      const err = writeStructFields(w, v.entries(), path, depth + 1);
      if (err.length > 0) return err;
      w.end(s);
      return "";
    }
    case Kind.List: {
      const l = w.begin(6);
      const err = writeWellKnown(w, "google.protobuf.ListValue", v, path, depth + 1);
      if (err !== null && err.length > 0) return err;
      w.end(l);
      return "";
    }
    case Kind.Message: {
      // A Struct or Value literal inside a Struct: encode it as what it is.
      if (v.s == "google.protobuf.Struct") {
        const fields = v.entries().getString("fields");
        const s = w.begin(5);
        if (fields !== null) {
          if (fields.kind != Kind.Map) return path + ".fields: expected a map, got " + fields.typeName();
          const err = writeStructFields(w, fields.entries(), path, depth + 1);
          if (err.length > 0) return err;
        }
        w.end(s);
        return "";
      }
      if (v.s == "google.protobuf.Value") return writeValueLiteral(w, v, path, depth);
      return path + ": a " + v.s + " cannot be a google.protobuf.Value";
    }
    default: return path + ": a " + v.typeName() + " cannot be a google.protobuf.Value";
  }
}

function writeValueLiteral(w: ProtoWriter, v: Value, path: string, depth: i32): string {
  const f = v.entries();
  if (f.size == 0) return "";
  if (f.size > 1) return path + ": a google.protobuf.Value sets one field, got " + f.size.toString();
  const k = f.keys[0].s, x = f.values[0];
  if (k == "null_value") { w.tag(1, WIRE_VARINT); w.varint(0); return ""; }
  if (k == "number_value") { if (x.kind != Kind.Double) return mismatch(path + ".number_value", "double", x); w.tag(2, WIRE_I64); w.fixed64(reinterpret<u64>(x.d)); return ""; }
  if (k == "string_value") { if (x.kind != Kind.String) return mismatch(path + ".string_value", "string", x); w.stringFieldAlways(3, x.s); return ""; }
  if (k == "bool_value") { if (x.kind != Kind.Bool) return mismatch(path + ".bool_value", "bool", x); w.tag(4, WIRE_VARINT); w.varint(x.b ? 1 : 0); return ""; }
  if (k == "struct_value" || k == "list_value") return writeJsonValue(w, x, at(path, ".", k), depth + 1);
  return path + ": google.protobuf.Value has no field '" + k + "'";
}

/** google.protobuf.{Bool,String,Int32,...}Value{value = 1} from the plain scalar. */
function writeWrapper(w: ProtoWriter, name: string, v: Value, path: string): string | null {
  if (v.kind == Kind.Message) return null;
  if (name == "google.protobuf.BoolValue") { if (v.kind != Kind.Bool) return mismatch(path, "bool", v); if (v.b) { w.tag(1, WIRE_VARINT); w.varint(1); } return ""; }
  if (name == "google.protobuf.StringValue") { if (v.kind != Kind.String) return mismatch(path, "string", v); w.stringField(1, v.s); return ""; }
  if (name == "google.protobuf.UInt64Value" || name == "google.protobuf.UInt32Value") {
    if (v.kind != Kind.Uint) return mismatch(path, "uint", v);
    if (name == "google.protobuf.UInt32Value" && v.u > 0xFFFFFFFF) return path + ": " + v.u.toString() + " does not fit a uint32";
    if (v.u != 0) { w.tag(1, WIRE_VARINT); w.varint(v.u); }
    return "";
  }
  if (name == "google.protobuf.Int64Value" || name == "google.protobuf.Int32Value") {
    if (v.kind != Kind.Int) return mismatch(path, "int", v);
    if (v.i != 0) { w.tag(1, WIRE_VARINT); w.varint(<u64>v.i); }
    return "";
  }
  if (name == "google.protobuf.DoubleValue") { if (v.kind != Kind.Double) return mismatch(path, "double", v); if (v.d != 0) { w.tag(1, WIRE_I64); w.fixed64(reinterpret<u64>(v.d)); } return ""; }
  return null;
}
