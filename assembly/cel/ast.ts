// The CEL syntax tree. Each node keeps the offset it starts at, for error messages.
import { Value } from "./value";
import { AttrPath, attrPath } from "./attr-path";

export enum NodeKind {
  Literal, Ident, Select, Index, Call, List, Map, Not, Negate, And, Or, Conditional, Binary,
  Has, Exists, All, ExistsOne, MapMacro, Filter, Message,
}

export class Node {
  constructor(public kind: NodeKind, public pos: i32) {}
  /** For identifier/select/index chains with literal keys: the attribute path they name (the interned path's segments: never change it). */
  path: Array<string> | null = null;
  /** The path, interned: what the resolver is asked for. */
  attr: AttrPath | null = null;
}

export class LiteralNode extends Node {
  constructor(pos: i32, public value: Value) { super(NodeKind.Literal, pos); }
}

export class IdentNode extends Node {
  constructor(pos: i32, public name: string) { super(NodeKind.Ident, pos); const a = attrPath([name]); this.path = a.segments; this.attr = a; }
}

export class SelectNode extends Node {
  constructor(pos: i32, public operand: Node, public field: string) {
    super(NodeKind.Select, pos);
    const base = operand.path;
    if (base !== null) { const p = base.slice(0); p.push(field); const a = attrPath(p); this.path = a.segments; this.attr = a; }
  }
}

export class IndexNode extends Node {
  /**
   * `x.split('sep')[k]` with a literal non-empty separator and int index: the evaluator finds the
   * k-th part without building the list (null otherwise).
   */
  splitSeparator: string | null = null;
  splitPart: i64 = 0;

  constructor(pos: i32, public operand: Node, public index: Node) {
    super(NodeKind.Index, pos);
    const base = operand.path;
    if (base !== null && index.kind == NodeKind.Literal) {
      const key = (changetype<LiteralNode>(index)).value;
      if (key.kind == 5 /* String */) { const p = base.slice(0); p.push(key.s); const a = attrPath(p); this.path = a.segments; this.attr = a; }
    }
    if (operand.kind == NodeKind.Call && index.kind == NodeKind.Literal && (changetype<LiteralNode>(index)).value.kind == 2 /* Int */) {
      const call = changetype<CallNode>(operand);
      if (call.fn == "split" && call.target !== null && call.args.length == 1 && call.args[0].kind == NodeKind.Literal) {
        const sep = (changetype<LiteralNode>(call.args[0])).value;
        if (sep.kind == 5 /* String */ && sep.s.length > 0) { this.splitSeparator = sep.s; this.splitPart = (changetype<LiteralNode>(index)).value.i; }
      }
    }
  }
}

export class CallNode extends Node {
  constructor(pos: i32, public fn: string, public target: Node | null, public args: Array<Node>) { super(NodeKind.Call, pos); }
}

export class ListNode extends Node {
  constructor(pos: i32, public items: Array<Node>) { super(NodeKind.List, pos); }
}

export class MapNode extends Node {
  constructor(pos: i32, public keys: Array<Node>, public values: Array<Node>) { super(NodeKind.Map, pos); }
}

export class UnaryNode extends Node {
  constructor(kind: NodeKind, pos: i32, public operand: Node) { super(kind, pos); }
}

export class LogicalNode extends Node {
  constructor(kind: NodeKind, pos: i32, public left: Node, public right: Node) { super(kind, pos); }
}

export class ConditionalNode extends Node {
  constructor(pos: i32, public cond: Node, public then: Node, public otherwise: Node) { super(NodeKind.Conditional, pos); }
}

/** Arithmetic and relational operators: "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in". */
export class BinaryNode extends Node {
  constructor(pos: i32, public op: string, public left: Node, public right: Node) { super(NodeKind.Binary, pos); }
}

/** has(a.b): the operand is a Select whose field presence is tested. */
export class HasNode extends Node {
  constructor(pos: i32, public select: SelectNode) { super(NodeKind.Has, pos); }
}

/** exists / all / exists_one / map / filter over a list (elements) or a map (keys). */
export class MacroNode extends Node {
  constructor(kind: NodeKind, pos: i32, public range: Node, public variable: string,
              public body: Node, public filter: Node | null) { super(kind, pos); }
}

/** A message construction, `pkg.Type{field: value, ...}` (message builders of typed actions). */
/** What a consumer of the tree keeps on a node (e.g. the protobuf encoder's field plan). */
export class NodeCache {}

export class MessageNode extends Node {
  /** Free for one consumer: proto/literal-encoder.ts keeps its field plan here. */
  cache: NodeCache | null = null;
  constructor(pos: i32, public typeName: string, public fields: Array<string>, public values: Array<Node>) { super(NodeKind.Message, pos); }
}
