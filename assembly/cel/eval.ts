// Evaluates a parsed CEL tree. Errors are values; && and || absorb them as CEL specifies
// (false && error == false, true || error == true). Attribute chains are resolved as whole
// paths through the Resolver, so only what an expression names is ever fetched.
import {
  Node, NodeKind, LiteralNode, IdentNode, SelectNode, IndexNode, CallNode, ListNode, MapNode,
  UnaryNode, LogicalNode, ConditionalNode, BinaryNode, HasNode, MacroNode, MessageNode,
} from "./ast";
import { Value, Kind, CelMap, valuesEqual, compareNumbers } from "./value";
import { Resolver, Scope } from "./resolver";
import { compareStrings } from "./strings";
import { callFunction } from "./functions";
import { timeArithmetic } from "./time";

const MAX_ITERATIONS = 100000;

export class Evaluator {
  readonly scope: Scope = new Scope();
  iterations: i32 = 0;
  private argLists: Array<Array<Value>> = [];
  private callDepth: i32 = 0;
  constructor(public resolver: Resolver) {}

  reset(resolver: Resolver): void {
    this.resolver = resolver;
    this.iterations = 0;
    this.callDepth = 0;
    this.scope.names.length = 0;
    this.scope.values.length = 0;
  }

  eval(node: Node): Value {
    switch (node.kind) {
      case NodeKind.Literal: return (changetype<LiteralNode>(node)).value;
      case NodeKind.Ident: return this.ident(changetype<IdentNode>(node));
      case NodeKind.Select: return this.select(changetype<SelectNode>(node));
      case NodeKind.Index: return this.index(changetype<IndexNode>(node));
      case NodeKind.Call: return this.call(changetype<CallNode>(node));
      case NodeKind.List: {
        const items = (changetype<ListNode>(node)).items;
        const out = new Array<Value>(items.length);
        for (let i = 0; i < items.length; i++) {
          const v = this.eval(items[i]);
          if (v.isError) return v;
          out[i] = v;
        }
        return Value.list(out);
      }
      case NodeKind.Map: return this.mapLiteral(changetype<MapNode>(node));
      case NodeKind.Not: {
        const v = this.eval((changetype<UnaryNode>(node)).operand);
        if (v.isError) return v;
        if (v.kind != Kind.Bool) return noOverload("!_", v);
        return Value.bool(!v.b);
      }
      case NodeKind.Negate: return negate(this.eval((changetype<UnaryNode>(node)).operand));
      case NodeKind.And: return this.and(changetype<LogicalNode>(node));
      case NodeKind.Or: return this.or(changetype<LogicalNode>(node));
      case NodeKind.Conditional: {
        const c = changetype<ConditionalNode>(node);
        const cond = this.eval(c.cond);
        if (cond.isError) return cond;
        if (cond.kind != Kind.Bool) return noOverload("_?_:_", cond);
        return cond.b ? this.eval(c.then) : this.eval(c.otherwise);
      }
      case NodeKind.Binary: {
        const b = changetype<BinaryNode>(node);
        const l = this.eval(b.left);
        if (l.isError) return l;
        const r = this.eval(b.right);
        if (r.isError) return r;
        return binary(b.op, l, r);
      }
      case NodeKind.Has: return this.has(changetype<HasNode>(node));
      case NodeKind.Message: return this.message(changetype<MessageNode>(node));
      default: return this.macro(changetype<MacroNode>(node));
    }
  }

  private boundRoot(path: Array<string>): bool {
    return this.scope.names.length > 0 && this.scope.lookup(unchecked(path[0])) !== null;
  }

  private ident(node: IdentNode): Value {
    const bound = this.scope.lookup(node.name);
    if (bound !== null) return bound;
    const attr = node.attr!;
    if (!this.resolver.isRoot(attr)) return Value.error("undeclared reference to '" + node.name + "'");
    const v = this.resolver.resolve(attr);
    return v !== null ? v : Value.error("no such attribute '" + node.name + "'");
  }

  private attribute(node: Node): Value {
    const attr = node.attr!;
    if (!this.resolver.isRoot(attr)) return Value.error("undeclared reference to '" + attr.root + "'");
    const v = this.resolver.resolve(attr);
    return v !== null ? v : Value.error("no such key: " + attr.segments.join("."));
  }

  private select(node: SelectNode): Value {
    const path = node.path;
    if (path !== null && !this.boundRoot(path)) return this.attribute(node);
    const operand = this.eval(node.operand);
    if (operand.isError) return operand;
    return selectField(operand, node.field);
  }

  private index(node: IndexNode): Value {
    const path = node.path;
    if (path !== null && !this.boundRoot(path)) return this.attribute(node);
    const separator = node.splitSeparator;
    if (separator !== null) return this.splitPart(changetype<CallNode>(node.operand), separator, node.splitPart, node.index);
    const operand = this.eval(node.operand);
    if (operand.isError) return operand;
    const key = this.eval(node.index);
    if (key.isError) return key;
    return indexValue(operand, key);
  }

  /** `target.split(separator)[part]`: the part found in place; anything but a string target goes the general way. */
  private splitPart(call: CallNode, separator: string, part: i64, index: Node): Value {
    const target = this.eval(call.target!);
    if (target.isError) return target;
    if (target.kind != Kind.String) {
      const list = callFunction(call.fn, target, [this.eval(call.args[0])]);
      return list.isError ? list : indexValue(list, this.eval(index));
    }
    if (part < 0) return Value.error("index out of range: " + part.toString());
    const s = target.s;
    let pos = 0;
    for (let i: i64 = 0; i < part; i++) {
      const at = find(s, separator, pos);
      if (at < 0) return Value.error("index out of range: " + part.toString());
      pos = at + separator.length;
    }
    const end = find(s, separator, pos);
    return Value.string(end < 0 ? s.substring(pos) : s.substring(pos, end));
  }

  private has(node: HasNode): Value {
    const select = node.select;
    const path = select.path;
    if (path !== null && !this.boundRoot(path)) {
      const attr = select.attr!;
      if (!this.resolver.isRoot(attr)) return Value.error("undeclared reference to '" + attr.root + "'");
      return Value.bool(this.resolver.resolve(attr) !== null);
    }
    const operand = this.eval(select.operand);
    if (operand.isError) return operand;
    if (operand.kind != Kind.Map && operand.kind != Kind.Message) return Value.error("invalid type for field selection: " + operand.typeName());
    return Value.bool(operand.entries().getString(select.field) !== null);
  }

  private and(node: LogicalNode): Value {
    const l = this.eval(node.left);
    if (l.kind == Kind.Bool && !l.b) return l;
    const r = this.eval(node.right);
    if (r.kind == Kind.Bool && !r.b) return r;
    if (l.kind == Kind.Bool && r.kind == Kind.Bool) return Value.bool(true);
    if (l.isError) return l;
    if (r.isError) return r;
    return noOverload("_&&_", l.kind != Kind.Bool ? l : r);
  }

  private or(node: LogicalNode): Value {
    const l = this.eval(node.left);
    if (l.kind == Kind.Bool && l.b) return l;
    const r = this.eval(node.right);
    if (r.kind == Kind.Bool && r.b) return r;
    if (l.kind == Kind.Bool && r.kind == Kind.Bool) return Value.bool(false);
    if (l.isError) return l;
    if (r.isError) return r;
    return noOverload("_||_", l.kind != Kind.Bool ? l : r);
  }

  private mapLiteral(node: MapNode): Value {
    const m = new CelMap();
    for (let i = 0; i < node.keys.length; i++) {
      const k = this.eval(node.keys[i]);
      if (k.isError) return k;
      if (k.kind != Kind.String && k.kind != Kind.Int && k.kind != Kind.Uint && k.kind != Kind.Bool) {
        return Value.error("unsupported map key type: " + k.typeName());
      }
      const v = this.eval(node.values[i]);
      if (v.isError) return v;
      if (m.find(k) >= 0) return Value.error("Failed with repeated key");
      m.set(k, v);
    }
    return Value.mapOf(m);
  }

  /** Fields are kept as given; the protobuf encoder checks them against the message type. */
  private message(node: MessageNode): Value {
    const fields = new CelMap();
    for (let i = 0; i < node.fields.length; i++) {
      const v = this.eval(node.values[i]);
      if (v.isError) return v;
      fields.setString(node.fields[i], v);
    }
    return Value.message(node.typeName, fields);
  }

  private call(node: CallNode): Value {
    let target: Value | null = null;
    const t = node.target;
    if (t !== null) {
      const tv = this.eval(t);
      if (tv.isError) return tv;
      target = tv;
    }
    // Body lookups take a literal pointer (they are planned at configure time).
    if (target === null && (node.fn == "requestBodyJSON" || node.fn == "responseBodyJSON")) {
      if (node.args.length != 1 || node.args[0].kind != NodeKind.Literal) return Value.error(node.fn + "() takes one string literal");
      const pointer = (changetype<LiteralNode>(node.args[0])).value;
      if (pointer.kind != Kind.String) return Value.error(node.fn + "() takes one string literal");
      const v = this.resolver.bodyJson(node.fn == "responseBodyJSON", pointer.s);
      return v !== null ? v : Value.error("no such key: " + pointer.s + " in " + (node.fn == "responseBodyJSON" ? "response" : "request") + " body");
    }
    // One argument list per call depth, reused: functions read their arguments and keep none.
    // Filled by push and emptied after the call, so the collector never sees a stale slot.
    const depth = this.callDepth++;
    const pool = this.argLists;
    if (depth >= pool.length) pool.push(new Array<Value>());
    const args = unchecked(pool[depth]);
    const n = node.args.length;
    for (let i = 0; i < n; i++) {
      const v = this.eval(node.args[i]);
      if (v.isError) { args.length = 0; this.callDepth--; return v; }
      args.push(v);
    }
    const result = callFunction(node.fn, target, args);
    args.length = 0;
    this.callDepth--;
    return result;
  }

  private macro(node: MacroNode): Value {
    const range = this.eval(node.range);
    if (range.isError) return range;
    let elements: Array<Value>;
    if (range.kind == Kind.List) elements = range.items();
    else if (range.kind == Kind.Map) elements = range.entries().keys;
    else return Value.error("expression of type '" + range.typeName() + "' cannot be the range of a comprehension");

    const kind = node.kind;
    let count = 0;
    let firstError: Value | null = null;
    const mapped = new Array<Value>();
    for (let i = 0; i < elements.length; i++) {
      if (++this.iterations > MAX_ITERATIONS) return Value.error("comprehension iteration budget exceeded");
      this.scope.push(node.variable, elements[i]);
      let v: Value;
      if (kind == NodeKind.MapMacro) {
        const filter = node.filter;
        if (filter !== null) {
          const keep = this.eval(filter);
          if (keep.isError || keep.kind != Kind.Bool) { this.scope.pop(); return keep.isError ? keep : noOverload("map", keep); }
          if (!keep.b) { this.scope.pop(); continue; }
        }
        v = this.eval(node.body);
        this.scope.pop();
        if (v.isError) return v;
        mapped.push(v);
        continue;
      }
      v = this.eval(node.body);
      this.scope.pop();
      if (v.kind != Kind.Bool) {
        const err = v.isError ? v : noOverload(kindName(kind), v);
        if (kind == NodeKind.Filter || kind == NodeKind.ExistsOne) return err;
        if (firstError === null) firstError = err;
        continue;
      }
      if (kind == NodeKind.Exists && v.b) return Value.bool(true);
      if (kind == NodeKind.All && !v.b) return Value.bool(false);
      if (kind == NodeKind.ExistsOne && v.b) count++;
      if (kind == NodeKind.Filter && v.b) mapped.push(elements[i]);
    }
    if (kind == NodeKind.Exists) return firstError !== null ? firstError : Value.bool(false);
    if (kind == NodeKind.All) return firstError !== null ? firstError : Value.bool(true);
    if (kind == NodeKind.ExistsOne) return Value.bool(count == 1);
    return Value.list(mapped);
  }
}

/** s.indexOf(sep, from), with a plain scan for the usual one-character separator. */
function find(s: string, sep: string, from: i32): i32 {
  if (sep.length != 1) return s.indexOf(sep, from);
  const c = load<u16>(changetype<usize>(sep));
  const p = changetype<usize>(s);
  for (let i = from, n = s.length; i < n; i++) if (load<u16>(p + (<usize>i << 1)) == c) return i;
  return -1;
}

function kindName(kind: NodeKind): string {
  return kind == NodeKind.Exists ? "exists" : kind == NodeKind.All ? "all" : kind == NodeKind.ExistsOne ? "exists_one" : "filter";
}

export function noOverload(fn: string, v: Value): Value {
  return Value.error("no such overload: " + fn + " applied to " + v.typeName());
}

export function selectField(operand: Value, field: string): Value {
  if (operand.kind != Kind.Map && operand.kind != Kind.Message) return Value.error("type '" + operand.typeName() + "' does not support field selection");
  const v = operand.entries().getString(field);
  return v !== null ? v : Value.error("no such key: " + field);
}

export function indexValue(operand: Value, key: Value): Value {
  if (operand.kind == Kind.List) {
    let i: i64;
    if (key.kind == Kind.Int) i = key.i;
    else if (key.kind == Kind.Uint) { if (key.u > <u64>I64.MAX_VALUE) return Value.error("index out of range"); i = <i64>key.u; }
    else if (key.kind == Kind.Double && key.d == Math.floor(key.d) && Math.abs(key.d) < 9.0e15) i = <i64>key.d;
    else return Value.error("unsupported index type '" + key.typeName() + "' in list");
    const items = operand.items();
    if (i < 0 || i >= items.length) return Value.error("index out of range: " + i.toString());
    return items[<i32>i];
  }
  if (operand.kind == Kind.Map) {
    const v = operand.entries().get(key);
    return v !== null ? v : Value.error("no such key: " + (key.kind == Kind.String ? key.s : key.typeName()));
  }
  return Value.error("type '" + operand.typeName() + "' does not support indexing");
}

function negate(v: Value): Value {
  if (v.isError) return v;
  if (v.kind == Kind.Int) {
    if (v.i == I64.MIN_VALUE) return Value.error("integer overflow");
    return Value.int(-v.i);
  }
  if (v.kind == Kind.Double) return Value.double(-v.d);
  if (v.kind == Kind.Duration) return v.i == I64.MIN_VALUE ? Value.error("duration out of range") : Value.duration(-v.i);
  return noOverload("-_", v);
}

function binary(op: string, l: Value, r: Value): Value {
  if (op == "==") return Value.bool(valuesEqual(l, r));
  if (op == "!=") return Value.bool(!valuesEqual(l, r));
  if (op == "in") {
    if (r.kind == Kind.List) {
      const items = r.items();
      for (let i = 0; i < items.length; i++) if (valuesEqual(l, items[i])) return Value.bool(true);
      return Value.bool(false);
    }
    if (r.kind == Kind.Map) return Value.bool(r.entries().find(l) >= 0);
    return noOverload("@in", r);
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    const c = compare(l, r);
    if (c.isError) return c;
    const n = c.i;
    if (n == 2) return Value.bool(false); // NaN compares false
    if (op == "<") return Value.bool(n < 0);
    if (op == "<=") return Value.bool(n <= 0);
    if (op == ">") return Value.bool(n > 0);
    return Value.bool(n >= 0);
  }
  return arithmetic(op, l, r);
}

function compare(l: Value, r: Value): Value {
  if (l.isNumeric && r.isNumeric) return Value.int(compareNumbers(l, r));
  if (l.kind != r.kind) return Value.error("no such overload: " + l.typeName() + " < " + r.typeName());
  if (l.kind == Kind.String) return Value.int(compareStrings(l.s, r.s));
  if (l.kind == Kind.Bool) return Value.int(l.b == r.b ? 0 : l.b ? 1 : -1);
  if (l.kind == Kind.Timestamp || l.kind == Kind.Duration) return Value.int(l.i < r.i ? -1 : l.i > r.i ? 1 : 0);
  return Value.error("no such overload: " + l.typeName() + " < " + r.typeName());
}

function arithmetic(op: string, l: Value, r: Value): Value {
  const time = timeArithmetic(op, l, r);
  if (time !== null) return time;
  if (l.kind != r.kind) {
    if (op == "+" && l.kind == Kind.List && r.kind == Kind.List) {} // handled below
    return Value.error("no such overload: " + l.typeName() + " " + op + " " + r.typeName());
  }
  if (l.kind == Kind.String) {
    if (op == "+") return Value.string(l.s + r.s);
  } else if (l.kind == Kind.List) {
    if (op == "+") return Value.list(l.items().concat(r.items()));
  } else if (l.kind == Kind.Int) {
    return intArithmetic(op, l.i, r.i);
  } else if (l.kind == Kind.Uint) {
    return uintArithmetic(op, l.u, r.u);
  } else if (l.kind == Kind.Double) {
    if (op == "+") return Value.double(l.d + r.d);
    if (op == "-") return Value.double(l.d - r.d);
    if (op == "*") return Value.double(l.d * r.d);
    if (op == "/") return Value.double(l.d / r.d);
  }
  return Value.error("no such overload: " + l.typeName() + " " + op + " " + r.typeName());
}

function intArithmetic(op: string, a: i64, b: i64): Value {
  if (op == "+") {
    const s = a + b;
    if ((a >= 0 && b >= 0 && s < 0) || (a < 0 && b < 0 && s >= 0)) return Value.error("integer overflow");
    return Value.int(s);
  }
  if (op == "-") {
    const s = a - b;
    if ((a >= 0 && b < 0 && s < 0) || (a < 0 && b >= 0 && s >= 0)) return Value.error("integer overflow");
    return Value.int(s);
  }
  if (op == "*") {
    if (a == 0 || b == 0) return Value.int(0);
    const p = a * b;
    if ((a == -1 && b == I64.MIN_VALUE) || (b == -1 && a == I64.MIN_VALUE) || p / b != a) return Value.error("integer overflow");
    return Value.int(p);
  }
  if (b == 0) return Value.error(op == "/" ? "divide by zero" : "modulus by zero");
  if (a == I64.MIN_VALUE && b == -1) return op == "/" ? Value.error("integer overflow") : Value.int(0);
  return Value.int(op == "/" ? a / b : a % b);
}

function uintArithmetic(op: string, a: u64, b: u64): Value {
  if (op == "+") { const s = a + b; if (s < a) return Value.error("unsigned integer overflow"); return Value.uint(s); }
  if (op == "-") { if (b > a) return Value.error("unsigned integer overflow"); return Value.uint(a - b); }
  if (op == "*") {
    if (a == 0 || b == 0) return Value.uint(0);
    const p = a * b;
    if (p / b != a) return Value.error("unsigned integer overflow");
    return Value.uint(p);
  }
  if (b == 0) return Value.error(op == "/" ? "divide by zero" : "modulus by zero");
  return Value.uint(op == "/" ? a / b : a % b);
}
