// Recursive-descent CEL parser (cel-spec grammar, with message construction `a.b.T{f: v}`). Parsing happens
// once at configure time; every error carries the offset where it was found.
import { Lexer, Tok, Token } from "./lexer";
import {
  Node, NodeKind, LiteralNode, IdentNode, SelectNode, IndexNode, CallNode, ListNode, MapNode,
  UnaryNode, LogicalNode, ConditionalNode, BinaryNode, HasNode, MacroNode, MessageNode,
} from "./ast";
import { Value, Kind } from "./value";
import { callFunction } from "./functions";

const MAX_DEPTH = 96;
const RESERVED: Array<string> = ["as", "break", "const", "continue", "else", "for", "function", "if",
  "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"];

export class ParseResult {
  constructor(public node: Node | null, public error: string, public pos: i32) {}
  get ok(): bool { return this.node !== null; }
  /** "message at offset N" — what configuration errors show. */
  describe(): string { return this.error + " at offset " + this.pos.toString(); }
}

export function parseCel(source: string): ParseResult {
  const p = new Parser(source);
  const node = p.expr();
  if (node !== null && p.tok.kind != Tok.End) p.fail("unexpected '" + p.tok.text + "'", p.tok.pos);
  if (p.error.length > 0 || node === null) return new ParseResult(null, p.error.length > 0 ? p.error : "empty expression", p.errorPos);
  return new ParseResult(node, "", 0);
}

class Parser {
  lexer: Lexer;
  tok: Token = new Token(Tok.End, "", 0);
  error: string = "";
  errorPos: i32 = 0;
  depth: i32 = 0;

  constructor(src: string) {
    this.lexer = new Lexer(src);
    this.tok = this.lexer.next();
    if (this.tok.kind == Tok.Error) this.fail(this.tok.text, this.tok.pos);
  }

  fail(message: string, pos: i32): Node | null {
    if (this.error.length == 0) { this.error = message; this.errorPos = pos; }
    return null;
  }

  advance(): Token {
    const t = this.tok;
    this.tok = this.lexer.next();
    if (this.tok.kind == Tok.Error) this.fail(this.tok.text, this.tok.pos);
    return t;
  }

  isOp(op: string): bool { return this.tok.kind == Tok.Op && this.tok.text == op; }

  expect(op: string): bool {
    if (this.isOp(op)) { this.advance(); return true; }
    this.fail("expected '" + op + "'" + (this.tok.kind == Tok.End ? " before end of expression" : " but found '" + this.tok.text + "'"), this.tok.pos);
    return false;
  }

  expr(): Node | null {
    if (++this.depth > MAX_DEPTH) return this.fail("expression nested too deeply", this.tok.pos);
    const pos = this.tok.pos;
    const cond = this.or();
    let result: Node | null = cond;
    if (cond !== null && this.isOp("?")) {
      this.advance();
      const a = this.or();
      if (a === null || !this.expect(":")) { this.depth--; return null; }
      const b = this.expr();
      result = b === null ? null : new ConditionalNode(pos, cond, a, b);
    }
    this.depth--;
    return this.error.length > 0 ? null : result;
  }

  or(): Node | null {
    let left = this.and();
    while (left !== null && this.isOp("||")) {
      const pos = this.advance().pos;
      const right = this.and();
      if (right === null) return null;
      left = new LogicalNode(NodeKind.Or, pos, left, right);
    }
    return left;
  }

  and(): Node | null {
    let left = this.relation();
    while (left !== null && this.isOp("&&")) {
      const pos = this.advance().pos;
      const right = this.relation();
      if (right === null) return null;
      left = new LogicalNode(NodeKind.And, pos, left, right);
    }
    return left;
  }

  relation(): Node | null {
    let left = this.addition();
    while (left !== null) {
      const t = this.tok;
      const isRel = (t.kind == Tok.Op && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="))
        || (t.kind == Tok.Ident && t.text == "in");
      if (!isRel) break;
      this.advance();
      const right = this.addition();
      if (right === null) return null;
      left = new BinaryNode(t.pos, t.text, left, right);
    }
    return left;
  }

  addition(): Node | null {
    let left = this.multiplication();
    while (left !== null && (this.isOp("+") || this.isOp("-"))) {
      const t = this.advance();
      const right = this.multiplication();
      if (right === null) return null;
      left = new BinaryNode(t.pos, t.text, left, right);
    }
    return left;
  }

  multiplication(): Node | null {
    let left = this.unary();
    while (left !== null && (this.isOp("*") || this.isOp("/") || this.isOp("%"))) {
      const t = this.advance();
      const right = this.unary();
      if (right === null) return null;
      left = new BinaryNode(t.pos, t.text, left, right);
    }
    return left;
  }

  unary(): Node | null {
    if (++this.depth > MAX_DEPTH) return this.fail("expression nested too deeply", this.tok.pos);
    let result: Node | null;
    const pos = this.tok.pos;
    if (this.isOp("!")) {
      this.advance();
      const operand = this.unary();
      result = operand === null ? null : new UnaryNode(NodeKind.Not, pos, operand);
    } else if (this.isOp("-")) {
      this.advance();
      // A negative literal is folded so -9223372036854775808 is representable.
      if (this.tok.kind == Tok.Int && !this.peekIsMember()) {
        const t = this.advance();
        if (t.overflow || t.u > 9223372036854775808) result = this.fail("integer literal out of range", t.pos);
        else result = this.member(new LiteralNode(pos, Value.int(<i64>(0 - t.u))));
      } else {
        const operand = this.unary();
        result = operand === null ? null : new UnaryNode(NodeKind.Negate, pos, operand);
      }
    } else {
      result = this.member(this.primary());
    }
    this.depth--;
    return result;
  }

  /** True when the token after the current one continues a member chain (so -1.x is -(1.x)). */
  peekIsMember(): bool {
    const save = this.lexer.pos;
    const next = this.lexer.next();
    this.lexer.pos = save;
    return next.kind == Tok.Op && (next.text == "." || next.text == "[");
  }

  member(start: Node | null): Node | null {
    let node = start;
    while (node !== null) {
      if (this.isOp(".")) {
        this.advance();
        if (this.tok.kind != Tok.Ident) return this.fail("expected a field or method name after '.'", this.tok.pos);
        const name = this.advance();
        if (this.isOp("(")) {
          const args = this.arguments();
          if (args === null) return null;
          node = this.methodCall(node, name, args);
        } else {
          node = new SelectNode(name.pos, node, name.text);
        }
      } else if (this.isOp("[")) {
        const pos = this.advance().pos;
        const index = this.expr();
        if (index === null || !this.expect("]")) return null;
        node = new IndexNode(pos, node, index);
      } else if (this.isOp("{") && isQualifiedName(node)) {
        node = this.messageLiteral(node);
      } else {
        break;
      }
    }
    return node;
  }

  arguments(): Array<Node> | null {
    this.advance(); // (
    const args = new Array<Node>();
    if (this.isOp(")")) { this.advance(); return args; }
    while (true) {
      const arg = this.expr();
      if (arg === null) return null;
      args.push(arg);
      if (this.isOp(",")) { this.advance(); continue; }
      if (!this.expect(")")) return null;
      return args;
    }
  }

  /** Receiver-style calls; the comprehension macros take a variable name as first argument. */
  methodCall(target: Node, name: Token, args: Array<Node>): Node | null {
    const macro = name.text == "exists" ? NodeKind.Exists : name.text == "all" ? NodeKind.All
      : name.text == "exists_one" ? NodeKind.ExistsOne : name.text == "map" ? NodeKind.MapMacro
      : name.text == "filter" ? NodeKind.Filter : NodeKind.Call;
    if (macro == NodeKind.Call) return new CallNode(name.pos, name.text, target, args);
    const arity = macro == NodeKind.MapMacro ? (args.length == 3 ? 3 : 2) : 2;
    if (args.length != arity) return this.fail(name.text + "() takes " + arity.toString() + " arguments", name.pos);
    if (args[0].kind != NodeKind.Ident) return this.fail(name.text + "() needs a variable name as its first argument", args[0].pos);
    const variable = (changetype<IdentNode>(args[0])).name;
    if (macro == NodeKind.MapMacro && arity == 3) return new MacroNode(macro, name.pos, target, variable, args[2], args[1]);
    return new MacroNode(macro, name.pos, target, variable, args[1], null);
  }

  primary(): Node | null {
    const t = this.tok;
    switch (t.kind) {
      case Tok.Int: {
        this.advance();
        if (t.overflow || t.u > 9223372036854775807) return this.fail("integer literal out of range", t.pos);
        return new LiteralNode(t.pos, Value.int(<i64>t.u));
      }
      case Tok.Uint: {
        this.advance();
        if (t.overflow) return this.fail("unsigned integer literal out of range", t.pos);
        return new LiteralNode(t.pos, Value.uint(t.u));
      }
      case Tok.Double: this.advance(); return new LiteralNode(t.pos, Value.double(t.d));
      case Tok.String: this.advance(); return new LiteralNode(t.pos, Value.string(t.text));
      case Tok.Bytes: return this.fail("bytes literals are not supported", t.pos);
      case Tok.Ident: return this.identifier();
      case Tok.End: return this.fail("unexpected end of expression", t.pos);
      case Tok.Error: return this.fail(t.text, t.pos);
      default: break;
    }
    if (this.isOp("(")) {
      this.advance();
      const inner = this.expr();
      if (inner === null || !this.expect(")")) return null;
      return inner;
    }
    if (this.isOp("[")) return this.listLiteral();
    if (this.isOp("{")) return this.mapLiteral();
    if (this.isOp(".")) {
      this.advance();
      if (this.tok.kind != Tok.Ident) return this.fail("expected an identifier after leading '.'", this.tok.pos);
      return this.identifier();
    }
    return this.fail("unexpected '" + t.text + "'", t.pos);
  }

  identifier(): Node | null {
    const t = this.advance();
    if (t.text == "true") return new LiteralNode(t.pos, Value.bool(true));
    if (t.text == "false") return new LiteralNode(t.pos, Value.bool(false));
    if (t.text == "null") return new LiteralNode(t.pos, Value.null());
    if (t.text == "in" || RESERVED.includes(t.text)) return this.fail("reserved word '" + t.text + "'", t.pos);
    if (!this.isOp("(")) return new IdentNode(t.pos, t.text);
    const args = this.arguments();
    if (args === null) return null;
    if (t.text == "has") {
      if (args.length != 1 || args[0].kind != NodeKind.Select) return this.fail("has() needs a field selection, e.g. has(a.b)", t.pos);
      return new HasNode(t.pos, changetype<SelectNode>(args[0]));
    }
    return foldConstant(new CallNode(t.pos, t.text, null, args));
  }

  /** `pkg.Type{field: value, ...}`: field names are identifiers, a trailing comma is allowed. */
  messageLiteral(name: Node): Node | null {
    this.advance(); // {
    const fields = new Array<string>();
    const values = new Array<Node>();
    while (!this.isOp("}")) {
      if (this.tok.kind != Tok.Ident) return this.fail("expected a field name in message construction", this.tok.pos);
      const field = this.advance();
      if (fields.includes(field.text)) return this.fail("field '" + field.text + "' is set twice", field.pos);
      if (!this.expect(":")) return null;
      const value = this.expr();
      if (value === null) return null;
      fields.push(field.text);
      values.push(value);
      if (this.isOp(",")) { this.advance(); continue; }
      if (!this.isOp("}")) return this.fail("expected ',' or '}' in message construction", this.tok.pos);
    }
    this.advance();
    return new MessageNode(name.pos, name.path!.join("."), fields, values);
  }

  listLiteral(): Node | null {
    const pos = this.advance().pos;
    const items = new Array<Node>();
    while (!this.isOp("]")) {
      const item = this.expr();
      if (item === null) return null;
      items.push(item);
      if (this.isOp(",")) { this.advance(); continue; }
      if (!this.isOp("]")) return this.fail("expected ',' or ']' in list", this.tok.pos);
    }
    this.advance();
    return new ListNode(pos, items);
  }

  mapLiteral(): Node | null {
    const pos = this.advance().pos;
    const keys = new Array<Node>();
    const values = new Array<Node>();
    while (!this.isOp("}")) {
      const key = this.expr();
      if (key === null || !this.expect(":")) return null;
      const value = this.expr();
      if (value === null) return null;
      keys.push(key);
      values.push(value);
      if (this.isOp(",")) { this.advance(); continue; }
      if (!this.isOp("}")) return this.fail("expected ',' or '}' in map", this.tok.pos);
    }
    this.advance();
    return new MapNode(pos, keys, values);
  }
}

/** An identifier or a chain of field selections on one: what may name a message type. */
function isQualifiedName(node: Node): bool {
  let n = node;
  while (n.kind == NodeKind.Select) n = (changetype<SelectNode>(n)).operand;
  return n.kind == NodeKind.Ident && node.path !== null;
}

/** Conversions of literals (`string(1)`, `uint(0)`) are done once, here, when they succeed. */
const FOLDABLE: Array<string> = ["string", "int", "uint", "double", "bool", "size"];

function foldConstant(call: CallNode): Node {
  if (call.args.length != 1 || call.args[0].kind != NodeKind.Literal || !FOLDABLE.includes(call.fn)) return call;
  const v = callFunction(call.fn, null, [(changetype<LiteralNode>(call.args[0])).value]);
  if (v.isError || v.kind == Kind.List || v.kind == Kind.Map) return call; // errors stay where they happen; containers are never shared
  return new LiteralNode(call.pos, v);
}
