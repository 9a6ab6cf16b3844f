// CEL functions: size, the string extension library, conversions, queryMap and matches.
// Semantics follow cel-go's strings extension (code-point indexes, errors on bad ranges).
import { Value, Kind, CelMap } from "./value";
import {
  codePoints, fromCodePoints, codePointLength, indexOfCodePoints, lastIndexOfCodePoints,
  isCelWhitespace, formatDouble,
} from "./strings";
import { regexMatches } from "./regex";
import { parseTimestamp, parseDuration, formatTimestamp, formatDuration, timestampGetter, durationGetter, timestampOf } from "./time";

export function callFunction(fn: string, target: Value | null, args: Array<Value>): Value {
  if (target !== null) return method(fn, target, args);
  if (args.length == 1) {
    const a = args[0];
    if (fn == "size") return size(a);
    if (fn == "string") return toStringValue(a);
    if (fn == "int") return toInt(a);
    if (fn == "uint") return toUint(a);
    if (fn == "double") return toDouble(a);
    if (fn == "bool") return toBool(a);
    if (fn == "queryMap") return a.kind == Kind.String ? queryMap(a.s) : bad(fn, a);
    if (fn == "timestamp") return toTimestamp(a);
    if (fn == "duration") return a.kind == Kind.Duration ? a : a.kind == Kind.String ? parseDuration(a.s) : bad(fn, a);
  }
  if (fn == "matches" && args.length == 2) return method("matches", args[0], [args[1]]);
  return Value.error("found no matching overload for '" + fn + "' with " + args.length.toString() + " argument(s)");
}

function bad(fn: string, v: Value): Value {
  return Value.error("no such overload: " + fn + " applied to " + v.typeName());
}

function toTimestamp(a: Value): Value {
  if (a.kind == Kind.Timestamp) return a;
  if (a.kind == Kind.String) return parseTimestamp(a.s);
  if (a.kind == Kind.Int) return timestampOf(a.i, 0);
  return bad("timestamp", a);
}

/** Getters on timestamps (an optional time zone) and durations. */
function timeMethod(fn: string, target: Value, args: Array<Value>): Value | null {
  if (target.kind == Kind.Timestamp) {
    if (args.length > 1 || (args.length == 1 && args[0].kind != Kind.String)) return null;
    return timestampGetter(fn, target.i, args.length == 1 ? args[0].s : null);
  }
  if (target.kind == Kind.Duration && args.length == 0) return durationGetter(fn, target.i);
  return null;
}

function method(fn: string, target: Value, args: Array<Value>): Value {
  if (target.kind == Kind.Timestamp || target.kind == Kind.Duration) {
    const v = timeMethod(fn, target, args);
    if (v !== null) return v;
  }
  if (fn == "size" && args.length == 0) return size(target);
  if (target.kind == Kind.List && fn == "join") {
    let sep = "";
    if (args.length == 1) { if (args[0].kind != Kind.String) return bad(fn, args[0]); sep = args[0].s; }
    else if (args.length != 0) return bad(fn, target);
    const items = target.items();
    let out = "";
    for (let i = 0; i < items.length; i++) {
      if (items[i].kind != Kind.String) return Value.error("join: list element " + i.toString() + " is not a string");
      if (i > 0) out += sep;
      out += items[i].s;
    }
    return Value.string(out);
  }
  if (target.kind != Kind.String) return bad(fn, target);
  const s = target.s;
  for (let i = 0; i < args.length; i++) {
    const k = args[i].kind;
    const wantsInt = (fn == "substring" || fn == "charAt" || (fn == "indexOf" && i == 1) || (fn == "lastIndexOf" && i == 1)
      || (fn == "split" && i == 1) || (fn == "replace" && i == 2));
    if (wantsInt ? k != Kind.Int : k != Kind.String) return bad(fn, args[i]);
  }
  const n = args.length;
  if (fn == "contains" && n == 1) return Value.bool(s.includes(args[0].s));
  if (fn == "startsWith" && n == 1) return Value.bool(s.startsWith(args[0].s));
  if (fn == "endsWith" && n == 1) return Value.bool(s.endsWith(args[0].s));
  if (fn == "matches" && n == 1) {
    const m = regexMatches(args[0].s, s);
    return m < 0 ? Value.error("invalid regular expression: " + args[0].s) : Value.bool(m == 1);
  }
  if (fn == "lowerAscii" && n == 0) return Value.string(mapAscii(s, true));
  if (fn == "upperAscii" && n == 0) return Value.string(mapAscii(s, false));
  if (fn == "trim" && n == 0) return Value.string(trim(s));
  if (fn == "charAt" && n == 1) {
    const cps = codePoints(s);
    const i = args[0].i;
    if (i < 0 || i > cps.length) return Value.error("index out of range: " + i.toString());
    return Value.string(i == cps.length ? "" : fromCodePoints(cps, <i32>i, <i32>i + 1));
  }
  if (fn == "indexOf" && (n == 1 || n == 2)) {
    const len = codePointLength(s);
    const from = n == 2 ? args[1].i : 0;
    if (from < 0 || from > len) return Value.error("index out of range: " + from.toString());
    if (args[0].s.length == 0) return Value.int(from);
    return Value.int(indexOfCodePoints(s, args[0].s, <i32>from));
  }
  if (fn == "lastIndexOf" && (n == 1 || n == 2)) {
    const len = codePointLength(s);
    const from = n == 2 ? args[1].i : <i64>len;
    if (from < 0 || from > len) return Value.error("index out of range: " + from.toString());
    if (args[0].s.length == 0) return Value.int(from);
    return Value.int(lastIndexOfCodePoints(s, args[0].s, <i32>from));
  }
  if (fn == "substring" && (n == 1 || n == 2)) {
    const cps = codePoints(s);
    const start = args[0].i;
    const end = n == 2 ? args[1].i : <i64>cps.length;
    if (start < 0 || start > cps.length) return Value.error("index out of range: " + start.toString());
    if (end < start || end > cps.length) return Value.error("index out of range: " + end.toString());
    return Value.string(fromCodePoints(cps, <i32>start, <i32>end));
  }
  if (fn == "replace" && (n == 2 || n == 3)) {
    const limit = n == 3 ? args[2].i : -1;
    return Value.string(replace(s, args[0].s, args[1].s, limit));
  }
  if (fn == "split" && (n == 1 || n == 2)) {
    const limit = n == 2 ? args[1].i : -1;
    return split(s, args[0].s, limit);
  }
  return Value.error("found no matching overload for '" + fn + "' on string with " + n.toString() + " argument(s)");
}

function size(v: Value): Value {
  if (v.kind == Kind.String) return Value.int(codePointLength(v.s));
  if (v.kind == Kind.List) return Value.int(v.items().length);
  if (v.kind == Kind.Map) return Value.int(v.entries().size);
  return bad("size", v);
}

function mapAscii(s: string, lower: bool): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const change = lower ? (c >= 65 && c <= 90) : (c >= 97 && c <= 122);
    if (change) {
      out += s.substring(start, i) + String.fromCharCode(lower ? c + 32 : c - 32);
      start = i + 1;
    }
  }
  return out + s.substring(start);
}

function trim(s: string): string {
  const cps = codePoints(s);
  let a = 0, b = cps.length;
  while (a < b && isCelWhitespace(cps[a])) a++;
  while (b > a && isCelWhitespace(cps[b - 1])) b--;
  return fromCodePoints(cps, a, b);
}

function replace(s: string, from: string, to: string, limit: i64): string {
  if (limit == 0) return s;
  if (from.length == 0) {
    // Go's strings.Replace: insert `to` around every code point, up to limit times.
    const cps = codePoints(s);
    let out = "";
    let done: i64 = 0;
    for (let i = 0; i <= cps.length; i++) {
      if (limit < 0 || done < limit) { out += to; done++; }
      if (i < cps.length) out += String.fromCodePoint(cps[i]);
    }
    return out;
  }
  let out = "";
  let pos = 0;
  let done: i64 = 0;
  while (limit < 0 || done < limit) {
    const at = s.indexOf(from, pos);
    if (at < 0) break;
    out += s.substring(pos, at) + to;
    pos = at + from.length;
    done++;
  }
  return out + s.substring(pos);
}

function split(s: string, sep: string, limit: i64): Value {
  const out = new Array<Value>();
  if (limit == 0) return Value.list(out);
  if (sep.length == 0) {
    const cps = codePoints(s);
    for (let i = 0; i < cps.length; i++) {
      if (limit > 0 && out.length == limit - 1) { out.push(Value.string(fromCodePoints(cps, i, cps.length))); return Value.list(out); }
      out.push(Value.string(String.fromCodePoint(cps[i])));
    }
    return Value.list(out);
  }
  let pos = 0;
  while (limit < 0 || out.length < limit - 1) {
    const at = s.indexOf(sep, pos);
    if (at < 0) break;
    out.push(Value.string(s.substring(pos, at)));
    pos = at + sep.length;
  }
  out.push(Value.string(s.substring(pos)));
  return Value.list(out);
}

export function toStringValue(v: Value): Value {
  switch (v.kind) {
    case Kind.String: return v;
    case Kind.Int: return Value.string(v.i.toString());
    case Kind.Uint: return Value.string(v.u.toString());
    case Kind.Double: return Value.string(formatDouble(v.d));
    case Kind.Bool: return Value.string(v.b ? "true" : "false");
    case Kind.Timestamp: return Value.string(formatTimestamp(v.i));
    case Kind.Duration: return Value.string(formatDuration(v.i));
    default: return bad("string", v);
  }
}

function toInt(v: Value): Value {
  switch (v.kind) {
    case Kind.Int: return v;
    case Kind.Uint: return v.u > <u64>I64.MAX_VALUE ? Value.error("integer overflow") : Value.int(<i64>v.u);
    case Kind.Double: {
      if (isNaN(v.d) || v.d >= 9223372036854775807.0 || v.d <= -9223372036854775808.0) return Value.error("integer overflow");
      return Value.int(<i64>v.d);
    }
    case Kind.String: {
      const parsed = parseInteger(v.s, true);
      return parsed.ok ? Value.int(<i64>parsed.magnitude * (parsed.negative ? -1 : 1)) : Value.error("cannot convert '" + v.s + "' to int");
    }
    case Kind.Timestamp: return Value.int(v.i >= 0 || v.i % 1000000000 == 0 ? v.i / 1000000000 : v.i / 1000000000 - 1);
    case Kind.Duration: return Value.int(v.i);
    default: return bad("int", v);
  }
}

function toUint(v: Value): Value {
  switch (v.kind) {
    case Kind.Uint: return v;
    case Kind.Int: return v.i < 0 ? Value.error("unsigned integer overflow") : Value.uint(<u64>v.i);
    case Kind.Double: {
      if (isNaN(v.d) || v.d < 0 || v.d >= 18446744073709551615.0) return Value.error("unsigned integer overflow");
      return Value.uint(<u64>v.d);
    }
    case Kind.String: {
      const parsed = parseInteger(v.s, false);
      return parsed.ok ? Value.uint(parsed.magnitude) : Value.error("cannot convert '" + v.s + "' to uint");
    }
    default: return bad("uint", v);
  }
}

function toDouble(v: Value): Value {
  switch (v.kind) {
    case Kind.Double: return v;
    case Kind.Int: return Value.double(<f64>v.i);
    case Kind.Uint: return Value.double(<f64>v.u);
    case Kind.String: {
      const t = v.s;
      if (!isFloatLiteral(t)) return Value.error("cannot convert '" + t + "' to double");
      return Value.double(parseFloat(t));
    }
    default: return bad("double", v);
  }
}

function toBool(v: Value): Value {
  if (v.kind == Kind.Bool) return v;
  if (v.kind == Kind.String) {
    const t = v.s;
    if (t == "true" || t == "True" || t == "TRUE" || t == "t" || t == "1") return Value.bool(true);
    if (t == "false" || t == "False" || t == "FALSE" || t == "f" || t == "0") return Value.bool(false);
    return Value.error("cannot convert '" + t + "' to bool");
  }
  return bad("bool", v);
}

class ParsedInteger {
  ok: bool = false;
  negative: bool = false;
  magnitude: u64 = 0;
}

/** Decimal integer text as Go's strconv.ParseInt/ParseUint accept it (optional sign for int). */
function parseInteger(text: string, signed: bool): ParsedInteger {
  const r = new ParsedInteger();
  let i = 0;
  if (signed && text.length > 0 && (text.charCodeAt(0) == 45 || text.charCodeAt(0) == 43)) { r.negative = text.charCodeAt(0) == 45; i = 1; }
  if (i >= text.length) return r;
  let value: u64 = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return r;
    const d = <u64>(c - 48);
    if (value > (0xFFFFFFFFFFFFFFFF - d) / 10) return r;
    value = value * 10 + d;
  }
  if (signed && (r.negative ? value > 0x8000000000000000 : value > <u64>I64.MAX_VALUE)) return r;
  r.magnitude = value;
  r.ok = true;
  return r;
}

function isFloatLiteral(t: string): bool {
  if (t == "NaN" || t == "Inf" || t == "+Inf" || t == "-Inf" || t == "Infinity" || t == "-Infinity") return true;
  let i = 0, digits = 0;
  if (i < t.length && (t.charCodeAt(i) == 43 || t.charCodeAt(i) == 45)) i++;
  while (i < t.length && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) { i++; digits++; }
  if (i < t.length && t.charCodeAt(i) == 46) { i++; while (i < t.length && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) { i++; digits++; } }
  if (digits == 0) return false;
  if (i < t.length && (t.charCodeAt(i) | 32) == 101) {
    i++;
    if (i < t.length && (t.charCodeAt(i) == 43 || t.charCodeAt(i) == 45)) i++;
    let e = 0;
    while (i < t.length && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) { i++; e++; }
    if (e == 0) return false;
  }
  return i == t.length;
}

/** queryMap("a=1&b=x%20y"): first occurrence of each key wins; keys and values are %-decoded. */
export function queryMap(query: string): Value {
  const m = new CelMap();
  if (query.length == 0) return Value.mapOf(m);
  const parts = query.split("&");
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].length == 0) continue;
    const eq = parts[i].indexOf("=");
    const key = percentDecode(eq >= 0 ? parts[i].substring(0, eq) : parts[i]);
    const value = percentDecode(eq >= 0 ? parts[i].substring(eq + 1) : "");
    if (m.getString(key) === null) m.setString(key, Value.string(value));
  }
  return Value.mapOf(m);
}

function percentDecode(s: string): string {
  if (!s.includes("%") && !s.includes("+")) return s;
  const bytes = new Array<u8>();
  const utf8 = Uint8Array.wrap(String.UTF8.encode(s));
  for (let i = 0; i < utf8.length; i++) {
    const c = utf8[i];
    if (c == 43) { bytes.push(32); continue; }
    if (c == 37 && i + 2 < utf8.length && isHexByte(utf8[i + 1]) && isHexByte(utf8[i + 2])) {
      bytes.push(<u8>(hexByte(utf8[i + 1]) * 16 + hexByte(utf8[i + 2])));
      i += 2;
      continue;
    }
    bytes.push(c);
  }
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i];
  return String.UTF8.decode(out.buffer);
}

function isHexByte(c: u8): bool { return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102); }
function hexByte(c: u8): i32 { return c <= 57 ? c - 48 : (c | 32) - 87; }
