// Protobuf bytes → CEL values, driven by descriptors: how a typed `grpc` action's reply becomes
// the value bound to its `var` (research/wasm-shim-newer-config.md §3.2), and Authorino's
// dynamic_metadata Struct the identity. One reader walks the whole message in place (nested
// messages are entered, not copied); any malformed part makes the whole decode null.
import { Value, CelMap } from "../cel";
import { ProtoReader, WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_I32 } from "./wire";
import { MessageType, FieldInfo, FieldType } from "./descriptors";

const MAX_DEPTH = 48;

// Defaults are immutable scalars: shared, not made per field.
const EMPTY_STRING = Value.string("");
const ZERO_INT = Value.int(0);
const ZERO_UINT = Value.uint(0);
const ZERO_DOUBLE = Value.double(0);
// An unset repeated or map field: shared until the message has an item for it (CEL values are
// immutable; the value store copies a map before writing below it).
const NO_ITEMS = Value.list([]);
const NO_ENTRIES = Value.mapOf(new CelMap());

/**
 * Decodes `bytes` as `type` into the value a typed action reads: a map whose proto3 scalar,
 * repeated and map fields are always present (with defaults), while message, oneof and
 * `optional` fields are present only when set (so `has(reply.denied_response)` works); enums
 * are ints; Struct/Value/ListValue/Timestamp/Duration/wrappers are their plain CEL values. Null when the
 * bytes are not a valid message of that type.
 */
export function decodeMessage(type: MessageType, bytes: ArrayBuffer): Value | null {
  return readMessage(type, new ProtoReader(bytes), 0);
}

/** google.protobuf.Struct bytes → CEL map; null when malformed. */
export function decodeStructValue(bytes: ArrayBuffer): Value | null { return readStruct(new ProtoReader(bytes), 0); }

// Each reader below consumes the reader's current range (the whole message, or a nested field
// its caller entered) and returns null when it, or anything inside it, is malformed.

/** The nested message at the reader (entered and left here). */
function nestedMessage(type: MessageType, r: ProtoReader, depth: i32): Value | null {
  const outer = r.enter();
  const v: Value | null = r.failed ? null : readMessage(type, r, depth);
  r.leave(outer);
  return r.failed ? null : v;
}

function readMessage(type: MessageType, r: ProtoReader, depth: i32): Value | null {
  if (depth > MAX_DEPTH) return null;
  const wk = readWellKnown(type.fullName, r, depth);
  if (wk !== null) return wk.isError ? null : wk;
  const out = new CelMap();
  const fields = type.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = unchecked(fields[i]);
    // Each field once, in declaration order: no lookup needed to add them.
    if (f.isMap) { out.keys.push(f.key); out.values.push(NO_ENTRIES); }
    else if (f.repeated) { out.keys.push(f.key); out.values.push(NO_ITEMS); }
    else if (!f.tracksPresence) { out.keys.push(f.key); out.values.push(defaultOf(f)); }
  }
  while (!r.done) {
    const number = r.tag();
    if (r.failed) break;
    const f = type.fieldByNumber(number);
    if (f === null) { r.skip(); continue; }
    if (f.isMap) {
      if (r.wire != WIRE_LEN) return null;
      const outer = r.enter();
      if (!r.failed && !readMapEntryInto(f, r, depth, ownEntries(out, f))) { r.leave(outer); return null; }
      r.leave(outer);
      if (r.failed) return null;
      continue;
    }
    if (f.repeated && r.wire == WIRE_LEN && isPackable(f.type)) {
      // packed scalars
      const outer = r.enter();
      const list = ownItems(out, f);
      while (!r.done) {
        const v = readScalar(r, f);
        if (v === null || r.failed) { r.leave(outer); return null; }
        list.push(v);
      }
      r.leave(outer);
      if (r.failed) return null;
      continue;
    }
    const v = readOne(r, f, depth);
    if (v === null) return null;
    if (f.repeated) ownItems(out, f).push(v);
    else setField(out, f, v);
  }
  return r.failed ? null : Value.mapOf(out);
}

/** Sets a singular field (a later occurrence replaces an earlier one, as protobuf merges scalars). */
function setField(out: CelMap, f: FieldInfo, v: Value): void {
  const i = out.findString(f.name);
  if (i >= 0) unchecked(out.values[i] = v);
  else { out.keys.push(f.key); out.values.push(v); }
}

/** The repeated field's own list, made on its first item. */
function ownItems(out: CelMap, f: FieldInfo): Array<Value> {
  const i = out.findString(f.name);
  let v = unchecked(out.values[i]);
  if (v === NO_ITEMS) { v = Value.list([]); unchecked(out.values[i] = v); }
  return v.items();
}

/** The map field's own map, made on its first entry. */
function ownEntries(out: CelMap, f: FieldInfo): CelMap {
  const i = out.findString(f.name);
  let v = unchecked(out.values[i]);
  if (v === NO_ENTRIES) { v = Value.mapOf(new CelMap()); unchecked(out.values[i] = v); }
  return v.entries();
}

function readOne(r: ProtoReader, f: FieldInfo, depth: i32): Value | null {
  if (f.type == FieldType.Message) {
    if (r.wire != WIRE_LEN) return null;
    return nestedMessage(f.message!, r, depth + 1);
  }
  if (f.type == FieldType.String || f.type == FieldType.Bytes) {
    if (r.wire != WIRE_LEN) return null;
    const s = r.string();
    return r.failed ? null : Value.string(s);
  }
  if (r.wire != wireOf(f.type)) return null;
  const v = readScalar(r, f);
  return r.failed ? null : v;
}

function readScalar(r: ProtoReader, f: FieldInfo): Value | null {
  switch (f.type) {
    case FieldType.Bool: return Value.bool(r.varint() != 0);
    case FieldType.Uint32: return Value.uint(r.varint() & 0xFFFFFFFF);
    case FieldType.Uint64: return Value.uint(r.varint());
    case FieldType.Int32: case FieldType.Enum: return Value.int(<i64><i32>r.varint());
    case FieldType.Int64: return Value.int(<i64>r.varint());
    case FieldType.Sint32: case FieldType.Sint64: { const u = r.varint(); return Value.int(<i64>(u >> 1) ^ -(<i64>(u & 1))); }
    case FieldType.Fixed32: return Value.uint(<u64>r.fixed32());
    case FieldType.Sfixed32: return Value.int(<i64><i32>r.fixed32());
    case FieldType.Fixed64: return Value.uint(r.fixed64());
    case FieldType.Sfixed64: return Value.int(<i64>r.fixed64());
    case FieldType.Double: return Value.double(reinterpret<f64>(r.fixed64()));
    case FieldType.Float: return Value.double(<f64>reinterpret<f32>(r.fixed32()));
    default: return null;
  }
}

function wireOf(t: FieldType): u32 {
  if (t == FieldType.Double || t == FieldType.Fixed64 || t == FieldType.Sfixed64) return WIRE_I64;
  if (t == FieldType.Float || t == FieldType.Fixed32 || t == FieldType.Sfixed32) return WIRE_I32;
  if (t == FieldType.String || t == FieldType.Bytes || t == FieldType.Message) return WIRE_LEN;
  return WIRE_VARINT;
}

function isPackable(t: FieldType): bool { return wireOf(t) != WIRE_LEN; }

/** A map entry {key = 1, value = 2} (the entered range), set into `into`; false when malformed. */
function readMapEntryInto(f: FieldInfo, r: ProtoReader, depth: i32, into: CelMap): bool {
  const entry = f.message!;
  const keyField = entry.fieldByNumber(1), valueField = entry.fieldByNumber(2);
  if (keyField === null || valueField === null) return false;
  let key = defaultOf(keyField);
  let value: Value = valueField.type == FieldType.Message ? NO_ENTRIES : defaultOf(valueField);
  while (!r.done) {
    const n = r.tag();
    if (r.failed) break;
    if (n == 1) { const k = readOne(r, keyField, depth); if (k === null) return false; key = k; }
    else if (n == 2) { const v = readOne(r, valueField, depth); if (v === null) return false; value = v; }
    else r.skip();
  }
  if (r.failed) return false;
  into.set(key, value);
  return true;
}

function defaultOf(f: FieldInfo): Value {
  switch (f.type) {
    case FieldType.String: case FieldType.Bytes: return EMPTY_STRING;
    case FieldType.Bool: return Value.bool(false);
    case FieldType.Uint32: case FieldType.Uint64: case FieldType.Fixed32: case FieldType.Fixed64: return ZERO_UINT;
    case FieldType.Double: case FieldType.Float: return ZERO_DOUBLE;
    default: return ZERO_INT;
  }
}

/** The well-known types as plain CEL values; null when `name` is not one; an error value when malformed. */
function readWellKnown(name: string, r: ProtoReader, depth: i32): Value | null {
  if (!name.startsWith("google.protobuf.")) return null;
  if (name == "google.protobuf.Struct") return orError(readStruct(r, depth));
  if (name == "google.protobuf.Value") return orError(readJsonValue(r, depth));
  if (name == "google.protobuf.ListValue") return orError(readList(r, depth));
  if (name == "google.protobuf.Timestamp") return readSecondsNanos(r, false);
  if (name == "google.protobuf.Duration") return readSecondsNanos(r, true);
  if (name.endsWith("Value") && name != "google.protobuf.Value") {
    let out: Value = wrapperDefault(name);
    while (!r.done) {
      const n = r.tag();
      if (r.failed) break;
      if (n != 1) { r.skip(); continue; }
      if (r.wire == WIRE_LEN) out = Value.string(r.string());
      else if (r.wire == WIRE_I64) out = Value.double(reinterpret<f64>(r.fixed64()));
      else if (r.wire == WIRE_I32) out = Value.double(<f64>reinterpret<f32>(r.fixed32()));
      else if (r.wire == WIRE_VARINT) {
        const u = r.varint();
        if (name == "google.protobuf.BoolValue") out = Value.bool(u != 0);
        else if (name.startsWith("google.protobuf.UInt")) out = Value.uint(u);
        else out = Value.int(name == "google.protobuf.Int32Value" ? <i64><i32>u : <i64>u);
      } else r.skip();
    }
    return r.failed ? Value.error("bad wrapper") : out;
  }
  return null;
}

/** Timestamp or Duration ({seconds = 1, nanos = 2}) as nanoseconds; an error value when malformed or past 64 bits. */
function readSecondsNanos(r: ProtoReader, duration: bool): Value {
  let seconds: i64 = 0, nanos: i64 = 0;
  while (!r.done) {
    const n = r.tag();
    if (r.failed) break;
    if (n == 1 && r.wire == WIRE_VARINT) seconds = <i64>r.varint();
    else if (n == 2 && r.wire == WIRE_VARINT) nanos = <i64><i32>r.varint();
    else r.skip();
  }
  if (r.failed || seconds > 9223372035 || seconds < -9223372035) return Value.error(duration ? "bad Duration" : "bad Timestamp");
  const ns = seconds * 1000000000 + nanos;
  return duration ? Value.duration(ns) : Value.timestamp(ns);
}

function wrapperDefault(name: string): Value {
  if (name == "google.protobuf.BoolValue") return Value.bool(false);
  if (name == "google.protobuf.StringValue" || name == "google.protobuf.BytesValue") return EMPTY_STRING;
  if (name.startsWith("google.protobuf.UInt")) return ZERO_UINT;
  if (name == "google.protobuf.DoubleValue" || name == "google.protobuf.FloatValue") return ZERO_DOUBLE;
  return ZERO_INT;
}

function orError(v: Value | null): Value { return v !== null ? v : Value.error("malformed well-known type"); }

function readStruct(r: ProtoReader, depth: i32): Value | null {
  if (depth > MAX_DEPTH) return null;
  const m = new CelMap();
  while (!r.done) {
    const n = r.tag();
    if (r.failed) break;
    if (n != 1 || r.wire != WIRE_LEN) { r.skip(); continue; }
    const entry = r.enter();
    let key = "";
    let value: Value = Value.null();
    while (!r.done) {
      const k = r.tag();
      if (r.failed) break;
      if (k == 1 && r.wire == WIRE_LEN) key = r.string();
      else if (k == 2 && r.wire == WIRE_LEN) {
        const inner = r.enter();
        const v: Value | null = r.failed ? null : readJsonValue(r, depth + 1);
        r.leave(inner);
        if (v === null || r.failed) { r.leave(entry); return null; }
        value = v;
      } else r.skip();
    }
    r.leave(entry);
    if (r.failed) return null;
    m.setString(key, value);
  }
  return r.failed ? null : Value.mapOf(m);
}

function readJsonValue(r: ProtoReader, depth: i32): Value | null {
  if (depth > MAX_DEPTH) return null;
  let out: Value = Value.null();
  while (!r.done) {
    const n = r.tag();
    if (r.failed) break;
    if (n == 1 && r.wire == WIRE_VARINT) { r.varint(); out = Value.null(); }
    else if (n == 2 && r.wire == WIRE_I64) out = Value.double(reinterpret<f64>(r.fixed64()));
    else if (n == 3 && r.wire == WIRE_LEN) out = Value.string(r.string());
    else if (n == 4 && r.wire == WIRE_VARINT) out = Value.bool(r.varint() != 0);
    else if ((n == 5 || n == 6) && r.wire == WIRE_LEN) {
      const inner = r.enter();
      const v: Value | null = r.failed ? null : n == 5 ? readStruct(r, depth + 1) : readList(r, depth + 1);
      r.leave(inner);
      if (v === null || r.failed) return null;
      out = v;
    }
    else r.skip();
  }
  return r.failed ? null : out;
}

function readList(r: ProtoReader, depth: i32): Value | null {
  if (depth > MAX_DEPTH) return null;
  const items = new Array<Value>();
  while (!r.done) {
    const n = r.tag();
    if (r.failed) break;
    if (n == 1 && r.wire == WIRE_LEN) {
      const inner = r.enter();
      const v: Value | null = r.failed ? null : readJsonValue(r, depth + 1);
      r.leave(inner);
      if (v === null || r.failed) return null;
      items.push(v);
    }
    else r.skip();
  }
  return r.failed ? null : Value.list(items);
}
