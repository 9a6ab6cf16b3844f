// A typed action's message builder written straight into protobuf: the struct literal's syntax
// tree is walked in the message type's field order, leaves are evaluated as they are written, and
// no CEL message, map or list value is built for literals, list literals, `+` of lists or `?:`
// choosing between them. This is only a faster way to the same bytes: on anything unusual (an
// evaluation error, a value that does not fit, a literal naming a field twice or one the type
// lacks) it gives up, and the caller takes the general way (evaluate the whole builder, then
// dynamic-codec's encodeMessage), which gives the exact outcome and message.
import { Value, Kind, valuesEqual } from "../cel";
import { Expression } from "../cel/expression";
import { Evaluator } from "../cel/eval";
import { Node, NodeKind, MessageNode, ListNode, MapNode, BinaryNode, ConditionalNode, NodeCache } from "../cel/ast";
import { ProtoWriter, sharedWriter } from "./wire";
import { MessageType, FieldInfo } from "./descriptors";
import { writeFieldValue, writeItemValue } from "./dynamic-codec";

const MAX_DEPTH = 48;

/** A literal's fields matched to its type once: value indexes in field-number order. */
class FieldPlan extends NodeCache {
  constructor(readonly type: MessageType, readonly fields: Array<FieldInfo>, readonly values: Array<i32>, readonly valid: bool) { super(); }
}

/** The value the top-level field named by encodeBuilder's `watch` evaluated to (null: not set). */
export let watched: Value | null = null;

/**
 * The builder as `type`'s bytes, or null when the fast way does not apply (the caller then
 * evaluates and encodes the general way). `watch`: a top-level scalar field whose value the caller
 * needs (the Report's hits_addend), left in `watched`.
 */
export function encodeBuilder(type: MessageType, builder: Expression, ev: Evaluator, watch: string): ArrayBuffer | null {
  watched = null;
  const root = builder.root;
  if (root.kind != NodeKind.Message || (changetype<MessageNode>(root)).typeName != type.fullName) return null;
  const w = sharedWriter();
  if (!writeLiteral(w, type, changetype<MessageNode>(root), ev, 0, watch)) return null;
  return w.finish();
}

function planOf(type: MessageType, node: MessageNode): FieldPlan {
  const cached = node.cache;
  if (cached !== null && (changetype<FieldPlan>(cached)).type === type) return changetype<FieldPlan>(cached);
  const fields = new Array<FieldInfo>(), values = new Array<i32>();
  let valid = true;
  for (let i = 0; i < node.fields.length; i++) {
    const f = type.field(node.fields[i]);
    if (f === null || node.fields.indexOf(node.fields[i]) != i) { valid = false; break; }
  }
  if (valid) {
    for (let t = 0; t < type.fields.length; t++) {
      const i = node.fields.indexOf(type.fields[t].name);
      if (i >= 0) { fields.push(type.fields[t]); values.push(i); }
    }
  }
  const plan = new FieldPlan(type, fields, values, valid);
  node.cache = plan;
  return plan;
}

function writeLiteral(w: ProtoWriter, type: MessageType, node: MessageNode, ev: Evaluator, depth: i32, watch: string): bool {
  if (depth > MAX_DEPTH) return false;
  const plan = planOf(type, node);
  if (!plan.valid) return false;
  for (let i = 0; i < plan.fields.length; i++) {
    const f = unchecked(plan.fields[i]);
    const valueNode = unchecked(node.values[unchecked(plan.values[i])]);
    if (depth == 0 && watch.length > 0 && f.name == watch) {
      const v = ev.eval(valueNode);
      if (v.isError) return false;
      watched = v;
      if (!writeFieldValue(w, f, v, depth)) return false;
      continue;
    }
    if (!writeField(w, f, valueNode, ev, depth)) return false;
  }
  return true;
}

function writeField(w: ProtoWriter, f: FieldInfo, node: Node, ev: Evaluator, depth: i32): bool {
  if (f.repeated && !f.isMap) return writeRepeated(w, f, node, ev, depth);
  if (f.isMap && node.kind == NodeKind.Map) return writeMapLiteral(w, f, changetype<MapNode>(node), ev, depth);
  if (node.kind == NodeKind.Message && f.message !== null && !f.repeated) return writeNestedLiteral(w, f, changetype<MessageNode>(node), ev, depth);
  const v = ev.eval(node);
  if (v.isError) return false;
  return writeFieldValue(w, f, v, depth);
}

/** A message literal in a message field or a repeated item: written in place, its type checked first. */
function writeNestedLiteral(w: ProtoWriter, f: FieldInfo, literal: MessageNode, ev: Evaluator, depth: i32): bool {
  const type = f.message!;
  if (literal.typeName != type.fullName) return false;
  const mark = w.begin(f.number);
  if (!writeLiteral(w, type, literal, ev, depth + 1, "")) return false;
  w.end(mark);
  return true;
}

/**
 * A map literal as map entries, in its order. The general way's checks come first: a key that is
 * not a string, int, uint or bool, or a repeated key, gives up (evaluating the literal errs there).
 */
function writeMapLiteral(w: ProtoWriter, f: FieldInfo, node: MapNode, ev: Evaluator, depth: i32): bool {
  const entry = f.message!;
  const keyField = entry.fieldByNumber(1), valueField = entry.fieldByNumber(2);
  if (keyField === null || valueField === null) return false;
  const keys = keyScratch;
  const base = keys.length;
  let ok = true;
  for (let i = 0; i < node.keys.length && ok; i++) {
    const k = ev.eval(node.keys[i]);
    if (k.kind != Kind.String && k.kind != Kind.Int && k.kind != Kind.Uint && k.kind != Kind.Bool) { ok = false; break; }
    for (let j = base; j < keys.length; j++) if (valuesEqual(unchecked(keys[j]), k)) { ok = false; break; }
    if (!ok) break;
    keys.push(k);
    const mark = w.begin(f.number);
    ok = writeItemValue(w, keyField, k, depth + 1) && writeItem(w, valueField, node.values[i], ev, depth + 1);
    w.end(mark);
  }
  keys.length = base;
  return ok;
}

/** Keys of the map literals being written (a stack: a value may hold another map literal). */
const keyScratch = new Array<Value>();

/** The items of a repeated field, from list literals, `+` of them and `?:` choosing one, or a list value. */
function writeRepeated(w: ProtoWriter, f: FieldInfo, node: Node, ev: Evaluator, depth: i32): bool {
  if (node.kind == NodeKind.List) {
    const items = (changetype<ListNode>(node)).items;
    for (let i = 0; i < items.length; i++) if (!writeItem(w, f, items[i], ev, depth + 1)) return false;
    return true;
  }
  if (node.kind == NodeKind.Binary && (changetype<BinaryNode>(node)).op == "+" && isListShaped((changetype<BinaryNode>(node)).left) && isListShaped((changetype<BinaryNode>(node)).right)) {
    const b = changetype<BinaryNode>(node);
    return writeRepeated(w, f, b.left, ev, depth) && writeRepeated(w, f, b.right, ev, depth);
  }
  if (node.kind == NodeKind.Conditional) {
    const c = changetype<ConditionalNode>(node);
    const cond = ev.eval(c.cond);
    if (cond.kind != Kind.Bool) return false;
    return writeRepeated(w, f, cond.b ? c.then : c.otherwise, ev, depth);
  }
  const v = ev.eval(node);
  if (v.isError || v.kind != Kind.List) return false;
  return writeFieldValue(w, f, v, depth);
}

/** Shapes writeRepeated takes apart: evaluating them could only give a list or an error. */
function isListShaped(node: Node): bool {
  if (node.kind == NodeKind.List) return true;
  if (node.kind == NodeKind.Conditional) { const c = changetype<ConditionalNode>(node); return isListShaped(c.then) && isListShaped(c.otherwise); }
  if (node.kind == NodeKind.Binary) { const b = changetype<BinaryNode>(node); return b.op == "+" && isListShaped(b.left) && isListShaped(b.right); }
  return false;
}

/** One item of a repeated field (written even when it is the default, as list items are). */
function writeItem(w: ProtoWriter, f: FieldInfo, node: Node, ev: Evaluator, depth: i32): bool {
  if (node.kind == NodeKind.Message && f.message !== null) return writeNestedLiteral(w, f, changetype<MessageNode>(node), ev, depth);
  const v = ev.eval(node);
  if (v.isError) return false;
  return writeItemValue(w, f, v, depth);
}
