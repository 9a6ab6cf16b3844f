// A compiled CEL expression: parsed once at configure time, evaluated per request. The static
// facts the filter plans with (attribute paths, body pointers) are computed at compile time.
import { Node, NodeKind, SelectNode, IndexNode, CallNode, ListNode, MapNode, UnaryNode, LogicalNode, ConditionalNode, BinaryNode, HasNode, MacroNode, LiteralNode, MessageNode } from "./ast";
import { parseCel } from "./parser";
import { Evaluator } from "./eval";
import { Resolver } from "./resolver";
import { Value, Kind } from "./value";

const NONE = new Array<string>(0);

/** `list` with `item` appended (a new list in place of the shared empty one). */
function added(list: Array<string>, item: string): Array<string> {
  const out = list === NONE ? new Array<string>() : list;
  out.push(item);
  return out;
}

export class Expression {
  /** Attribute paths named by the expression (roots not bound by a macro). */
  readonly attributes: Array<Array<string>> = [];
  /** JSON pointers passed to responseBodyJSON / requestBodyJSON. */
  // The lists below are the shared empty one until something is found (most expressions have none).
  responseBodyPointers: Array<string> = NONE;
  requestBodyPointers: Array<string> = NONE;
  /** Message types constructed (`pkg.Type{...}`), checked against the descriptors at configure time. */
  messageTypes: Array<string> = NONE;

  constructor(public readonly source: string, public readonly root: Node) {
    collect(root, this, []);
  }

  eval(resolver: Resolver): Value {
    // One evaluator serves every expression: the VM runs one callback at a time and evaluation
    // never re-enters itself, so per-evaluation allocations are avoided on the request path.
    const evaluator = sharedEvaluator;
    evaluator.reset(resolver);
    return evaluator.eval(this.root);
  }

  /** Evaluates with variables bound (a grpc action's `var` inside its onReply), innermost last. */
  evalWith(resolver: Resolver, names: Array<string>, values: Array<Value>): Value {
    const evaluator = sharedEvaluator;
    evaluator.reset(resolver);
    for (let i = 0; i < names.length; i++) evaluator.scope.push(names[i], values[i]);
    return evaluator.eval(this.root);
  }

  /**
   * The shared evaluator set up as evalWith sets it up, for callers that evaluate parts of the
   * tree themselves (proto/literal-encoder.ts); valid until the next evaluation starts.
   */
  prepare(resolver: Resolver, names: Array<string>, values: Array<Value>): Evaluator {
    const evaluator = sharedEvaluator;
    evaluator.reset(resolver);
    for (let i = 0; i < names.length; i++) evaluator.scope.push(names[i], values[i]);
    return evaluator;
  }

  /** True when any attribute path starts with `root` (e.g. "auth"). */
  usesRoot(root: string): bool {
    for (let i = 0; i < this.attributes.length; i++) if (this.attributes[i][0] == root) return true;
    return false;
  }

  get usesResponseBody(): bool { return this.responseBodyPointers.length > 0; }
  get usesRequestBody(): bool { return this.requestBodyPointers.length > 0; }
}

const sharedEvaluator = new Evaluator(new Resolver());

export class CompileResult {
  constructor(public expression: Expression | null, public error: string) {}
  get ok(): bool { return this.expression !== null; }
}

export function compileCel(source: string): CompileResult {
  const parsed = parseCel(source);
  if (!parsed.ok) return new CompileResult(null, parsed.describe());
  return new CompileResult(new Expression(source, <Node>parsed.node), "");
}

function collect(node: Node, into: Expression, bound: Array<string>): void {
  const path = node.path;
  if (path !== null && (node.kind == NodeKind.Ident || node.kind == NodeKind.Select || node.kind == NodeKind.Index)) {
    if (!bound.includes(path[0])) {
      // Record only the longest literal chain: a parent whose child extends it is skipped by the caller.
      into.attributes.push(path);
      if (node.kind == NodeKind.Index) collect((changetype<IndexNode>(node)).index, into, bound);
      return;
    }
  }
  switch (node.kind) {
    case NodeKind.Select: collect((changetype<SelectNode>(node)).operand, into, bound); break;
    case NodeKind.Index: collect((changetype<IndexNode>(node)).operand, into, bound); collect((changetype<IndexNode>(node)).index, into, bound); break;
    case NodeKind.Call: {
      const c = changetype<CallNode>(node);
      if ((c.fn == "responseBodyJSON" || c.fn == "requestBodyJSON") && c.target === null && c.args.length == 1 && c.args[0].kind == NodeKind.Literal) {
        const p = (changetype<LiteralNode>(c.args[0])).value;
        if (p.kind == Kind.String) {
          if (c.fn == "responseBodyJSON") into.responseBodyPointers = added(into.responseBodyPointers, p.s);
          else into.requestBodyPointers = added(into.requestBodyPointers, p.s);
        }
      }
      const t = c.target;
      if (t !== null) collect(t, into, bound);
      for (let i = 0; i < c.args.length; i++) collect(c.args[i], into, bound);
      break;
    }
    case NodeKind.List: { const items = (changetype<ListNode>(node)).items; for (let i = 0; i < items.length; i++) collect(items[i], into, bound); break; }
    case NodeKind.Map: {
      const m = changetype<MapNode>(node);
      for (let i = 0; i < m.keys.length; i++) { collect(m.keys[i], into, bound); collect(m.values[i], into, bound); }
      break;
    }
    case NodeKind.Not: case NodeKind.Negate: collect((changetype<UnaryNode>(node)).operand, into, bound); break;
    case NodeKind.And: case NodeKind.Or: collect((changetype<LogicalNode>(node)).left, into, bound); collect((changetype<LogicalNode>(node)).right, into, bound); break;
    case NodeKind.Conditional: {
      const c = changetype<ConditionalNode>(node);
      collect(c.cond, into, bound); collect(c.then, into, bound); collect(c.otherwise, into, bound);
      break;
    }
    case NodeKind.Binary: collect((changetype<BinaryNode>(node)).left, into, bound); collect((changetype<BinaryNode>(node)).right, into, bound); break;
    case NodeKind.Has: collect((changetype<HasNode>(node)).select, into, bound); break;
    case NodeKind.Message: {
      const m = changetype<MessageNode>(node);
      if (!into.messageTypes.includes(m.typeName)) into.messageTypes = added(into.messageTypes, m.typeName);
      for (let i = 0; i < m.values.length; i++) collect(m.values[i], into, bound);
      break;
    }
    case NodeKind.Literal: case NodeKind.Ident: break;
    default: {
      const m = changetype<MacroNode>(node);
      collect(m.range, into, bound);
      const inner = bound.slice(0);
      inner.push(m.variable);
      collect(m.body, into, inner);
      const f = m.filter;
      if (f !== null) collect(f, into, inner);
    }
  }
}
