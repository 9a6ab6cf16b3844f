// CEL runtime values. Errors are values too (Kind.Error), so && / || / ?: can absorb them as
// CEL specifies, and nothing in evaluation ever traps.

export enum Kind { Null, Bool, Int, Uint, Double, String, List, Map, Timestamp, Message, Error, Duration }

export class Value {
  kind: Kind = Kind.Null;
  b: bool = false;
  i: i64 = 0;
  u: u64 = 0;
  d: f64 = 0;
  s: string = "";
  list: Array<Value> | null = null;
  map: CelMap | null = null;

  static null(): Value { return NULL; }
  static bool(b: bool): Value { return b ? TRUE : FALSE; }
  static int(i: i64): Value {
    if (<u64>(i + 1) < SMALL) return unchecked(SMALL_INTS[<i32>(i + 1)]);
    const v = new Value(); v.kind = Kind.Int; v.i = i; return v;
  }
  static uint(u: u64): Value {
    if (u < SMALL) return unchecked(SMALL_UINTS[<i32>u]);
    const v = new Value(); v.kind = Kind.Uint; v.u = u; return v;
  }
  static double(d: f64): Value { const v = new Value(); v.kind = Kind.Double; v.d = d; return v; }
  static string(s: string): Value { const v = new Value(); v.kind = Kind.String; v.s = s; return v; }
  static timestamp(ns: i64): Value { const v = new Value(); v.kind = Kind.Timestamp; v.i = ns; return v; }
  static duration(ns: i64): Value { const v = new Value(); v.kind = Kind.Duration; v.i = ns; return v; }
  static list(items: Array<Value>): Value { const v = new Value(); v.kind = Kind.List; v.list = items; return v; }
  static mapOf(m: CelMap): Value { const v = new Value(); v.kind = Kind.Map; v.map = m; return v; }
  static error(message: string): Value { const v = new Value(); v.kind = Kind.Error; v.s = message; return v; }
  /** A message built by a struct literal (`pkg.Type{field: value}`): `s` is the type name, `map` the set fields. */
  static message(typeName: string, fields: CelMap): Value { const v = new Value(); v.kind = Kind.Message; v.s = typeName; v.map = fields; return v; }

  get isError(): bool { return this.kind == Kind.Error; }
  get isNumeric(): bool { return this.kind == Kind.Int || this.kind == Kind.Uint || this.kind == Kind.Double; }

  items(): Array<Value> { const l = this.list; return l !== null ? l : []; }
  entries(): CelMap { const m = this.map; return m !== null ? m : new CelMap(); }

  typeName(): string {
    switch (this.kind) {
      case Kind.Null: return "null_type";
      case Kind.Bool: return "bool";
      case Kind.Int: return "int";
      case Kind.Uint: return "uint";
      case Kind.Double: return "double";
      case Kind.String: return "string";
      case Kind.List: return "list";
      case Kind.Map: return "map";
      case Kind.Timestamp: return "google.protobuf.Timestamp";
      case Kind.Duration: return "google.protobuf.Duration";
      case Kind.Message: return this.s;
      default: return "error";
    }
  }
}

const NULL = new Value();
// Values are never changed once made: the small numbers (token counts, codes, 0u) are shared.
const SMALL: u64 = 256;
const SMALL_INTS = makeSmall(Kind.Int);
const SMALL_UINTS = makeSmall(Kind.Uint);
function makeSmall(kind: Kind): StaticArray<Value> {
  const out = new StaticArray<Value>(<i32>SMALL);
  for (let n = 0; n < <i32>SMALL; n++) {
    const v = new Value();
    v.kind = kind;
    if (kind == Kind.Int) v.i = n - 1; else v.u = <u64>n;
    out[n] = v;
  }
  return out;
}
const TRUE = newBool(true);
const FALSE = newBool(false);
function newBool(b: bool): Value { const v = new Value(); v.kind = Kind.Bool; v.b = b; return v; }

/** A CEL map with insertion order; keys may be string, int, uint or bool. */
export class CelMap {
  keys: Array<Value> = [];
  values: Array<Value> = [];

  get size(): i32 { return this.keys.length; }

  find(key: Value): i32 {
    for (let i = 0; i < this.keys.length; i++) if (valuesEqual(this.keys[i], key)) return i;
    return -1;
  }

  get(key: Value): Value | null {
    const i = this.find(key);
    return i >= 0 ? this.values[i] : null;
  }

  /** find() for a string key, without making a key value (the hot lookup: fields, headers). */
  findString(key: string): i32 {
    const keys = this.keys;
    for (let i = 0, n = keys.length; i < n; i++) {
      const k = unchecked(keys[i]);
      if (k.kind == Kind.String && k.s == key) return i;
    }
    return -1;
  }

  getString(key: string): Value | null {
    const i = this.findString(key);
    return i >= 0 ? unchecked(this.values[i]) : null;
  }

  set(key: Value, value: Value): void {
    const i = this.find(key);
    if (i >= 0) this.values[i] = value;
    else { this.keys.push(key); this.values.push(value); }
  }

  setString(key: string, value: Value): void {
    const i = this.findString(key);
    if (i >= 0) this.values[i] = value;
    else { this.keys.push(Value.string(key)); this.values.push(value); }
  }
}

/** CEL heterogeneous equality: numbers compare by value across int/uint/double; other kinds must match. */
export function valuesEqual(a: Value, b: Value): bool {
  if (a.isNumeric && b.isNumeric) return compareNumbers(a, b) == 0;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind.Null: return true;
    case Kind.Bool: return a.b == b.b;
    case Kind.String: return a.s == b.s;
    case Kind.Timestamp: return a.i == b.i;
    case Kind.Duration: return a.i == b.i;
    case Kind.List: {
      const x = a.items(), y = b.items();
      if (x.length != y.length) return false;
      for (let i = 0; i < x.length; i++) if (!valuesEqual(x[i], y[i])) return false;
      return true;
    }
    case Kind.Message: if (a.s != b.s) return false; // same type: compare set fields as a map
    case Kind.Map: {
      const x = a.entries(), y = b.entries();
      if (x.size != y.size) return false;
      for (let i = 0; i < x.size; i++) {
        const other = y.get(x.keys[i]);
        if (other === null || !valuesEqual(x.values[i], other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

/** Orders two numbers of any numeric kinds exactly (no precision loss for int/uint). NaN → 2. */
export function compareNumbers(a: Value, b: Value): i32 {
  if (a.kind == Kind.Double || b.kind == Kind.Double) {
    if (a.kind == Kind.Double && b.kind == Kind.Double) return cmpF(a.d, b.d);
    if (a.kind == Kind.Double) return -compareIntegerToDouble(b, a.d);
    return compareIntegerToDouble(a, b.d);
  }
  if (a.kind == Kind.Int && b.kind == Kind.Int) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  if (a.kind == Kind.Uint && b.kind == Kind.Uint) return a.u < b.u ? -1 : a.u > b.u ? 1 : 0;
  if (a.kind == Kind.Int) { if (a.i < 0) return -1; const x = <u64>a.i; return x < b.u ? -1 : x > b.u ? 1 : 0; }
  if (b.i < 0) return 1;
  const y = <u64>b.i;
  return a.u < y ? -1 : a.u > y ? 1 : 0;
}

function cmpF(x: f64, y: f64): i32 {
  if (isNaN(x) || isNaN(y)) return 2;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareIntegerToDouble(a: Value, d: f64): i32 {
  if (isNaN(d)) return 2;
  if (a.kind == Kind.Int) {
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    const t = <i64>d; // truncated; compare integer parts, then fractions
    if (a.i < t) return -1;
    if (a.i > t) return 1;
    const frac = d - <f64>t;
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
  }
  if (d < 0) return 1;
  if (d >= 18446744073709551616.0) return -1;
  const t = <u64>d;
  if (a.u < t) return -1;
  if (a.u > t) return 1;
  return d - <f64>t > 0 ? -1 : 0;
}
