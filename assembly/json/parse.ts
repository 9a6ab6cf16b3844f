// A strict JSON parser (RFC 8259) that never traps: bad input yields an error with its offset.
// Nesting is bounded so hostile documents cannot exhaust the shadow stack.
import { JsonKind, JsonMember, JsonValue } from "./value";
import { JsonSelection } from "./selection";

const MAX_DEPTH = 64;

export class JsonParseResult {
  constructor(public value: JsonValue | null, public error: string, public offset: i32) {}
  get ok(): bool { return this.value !== null; }
}

export function parseJson(text: string): JsonParseResult {
  const p = new Parser(text);
  const value = p.value(0);
  if (value === null) return new JsonParseResult(null, p.error, p.pos);
  p.skipWs();
  if (p.pos < text.length) return new JsonParseResult(null, "unexpected trailing characters", p.pos);
  return new JsonParseResult(value, "", 0);
}

/**
 * parseJson that builds only the selected members (selection.ts): the same documents are valid,
 * and every selected value is what parseJson would give; objects on the way hold only selected
 * members (all of them, in order, so the last one still wins), arrays on the way are kept whole.
 */
export function parseSelected(text: string, selection: JsonSelection): JsonParseResult {
  if (selection.whole) return parseJson(text);
  const p = new Parser(text);
  const value = p.selected(0, selection);
  if (value === null) return new JsonParseResult(null, p.error, p.pos);
  p.skipWs();
  if (p.pos < text.length) return new JsonParseResult(null, "unexpected trailing characters", p.pos);
  return new JsonParseResult(value, "", 0);
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  constructor(public text: string) {}

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message;
    return null;
  }

  skipWs(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c == 32 || c == 9 || c == 10 || c == 13) this.pos++;
      else break;
    }
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    this.skipWs();
    if (this.pos >= this.text.length) return this.fail("unexpected end of input");
    const c = this.text.charCodeAt(this.pos);
    if (c == 123) return this.object(depth);
    if (c == 91) return this.array(depth);
    if (c == 34) {
      const s = this.string();
      return s === null ? null : JsonValue.string(s);
    }
    if (c == 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.text.startsWith("true", this.pos)) { this.pos += 4; return JsonValue.boolean(true); }
    if (this.text.startsWith("false", this.pos)) { this.pos += 5; return JsonValue.boolean(false); }
    if (this.text.startsWith("null", this.pos)) { this.pos += 4; return JsonValue.null(); }
    return this.fail("unexpected character '" + String.fromCharCode(c) + "'");
  }

  object(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    v.members = new Array<JsonMember>();
    this.skipWs();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 125) { this.pos++; return v; }
    while (true) {
      this.skipWs();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 34) return this.fail("expected a member name in double quotes");
      const key = this.string();
      if (key === null) return null;
      this.skipWs();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 58) return this.fail("expected ':' after member name");
      this.pos++;
      const member = this.value(depth + 1);
      if (member === null) return null;
      v.members.push(new JsonMember(key, member));
      this.skipWs();
      if (this.pos >= this.text.length) return this.fail("unterminated object");
      const c = this.text.charCodeAt(this.pos++);
      if (c == 125) return v;
      if (c != 44) return this.fail("expected ',' or '}' in object");
    }
  }

  array(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    v.items = new Array<JsonValue>();
    this.skipWs();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 93) { this.pos++; return v; }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.skipWs();
      if (this.pos >= this.text.length) return this.fail("unterminated array");
      const c = this.text.charCodeAt(this.pos++);
      if (c == 93) return v;
      if (c != 44) return this.fail("expected ',' or ']' in array");
    }
  }

  string(): string | null {
    this.pos++; // opening quote
    let out = "";
    let start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c == 34) {
        out += this.text.substring(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < 32) { this.fail("control character in string"); return null; }
      if (c == 92) {
        out += this.text.substring(start, this.pos);
        this.pos++;
        if (this.pos >= this.text.length) break;
        const e = this.text.charCodeAt(this.pos++);
        if (e == 34) out += "\"";
        else if (e == 92) out += "\\";
        else if (e == 47) out += "/";
        else if (e == 98) out += "\b";
        else if (e == 102) out += "\f";
        else if (e == 110) out += "\n";
        else if (e == 114) out += "\r";
        else if (e == 116) out += "\t";
        else if (e == 117) {
          const code = this.hex4();
          if (code < 0) { this.fail("bad \\u escape"); return null; }
          out += String.fromCharCode(code);
        } else { this.fail("bad escape"); return null; }
        start = this.pos;
        continue;
      }
      this.pos++;
    }
    this.fail("unterminated string");
    return null;
  }

  // ---- selective parsing: the same checks, in the same order, as value() and its helpers ----

  /** A value where only `sel`'s members are needed (objects partly, anything else whole). */
  selected(depth: i32, sel: JsonSelection): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    this.skipWs();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 123) return this.selectedObject(depth, sel);
    return this.value(depth);
  }

  private selectedObject(depth: i32, sel: JsonSelection): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    v.members = new Array<JsonMember>();
    this.skipWs();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 125) { this.pos++; return v; }
    while (true) {
      this.skipWs();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 34) return this.fail("expected a member name in double quotes");
      const index = this.selectedKey(sel);
      if (index == -2) return null;
      this.skipWs();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 58) return this.fail("expected ':' after member name");
      this.pos++;
      if (index >= 0) {
        const child = sel.children[index];
        const member = child.whole ? this.value(depth + 1) : this.selected(depth + 1, child);
        if (member === null) return null;
        v.members.push(new JsonMember(sel.names[index], member));
      } else if (!this.skipValue(depth + 1)) return null;
      this.skipWs();
      if (this.pos >= this.text.length) return this.fail("unterminated object");
      const c = this.text.charCodeAt(this.pos++);
      if (c == 125) return v;
      if (c != 44) return this.fail("expected ',' or '}' in object");
    }
  }

  /** Reads a member name: the index of the selected name it is, -1 when not selected, -2 on error. */
  private selectedKey(sel: JsonSelection): i32 {
    const start = this.pos + 1;
    let end = start;
    const text = this.text;
    while (end < text.length) {
      const c = text.charCodeAt(end);
      if (c == 34 || c == 92 || c < 32) break;
      end++;
    }
    if (end < text.length && text.charCodeAt(end) == 34) {
      // No escapes: compared in place.
      this.pos = end + 1;
      const n = end - start;
      const names = sel.names;
      for (let i = 0; i < names.length; i++) {
        const name = unchecked(names[i]);
        if (name.length == n && memory.compare(changetype<usize>(text) + (<usize>start << 1), changetype<usize>(name), <usize>n << 1) == 0) return i;
      }
      return -1;
    }
    const key = this.string();
    if (key === null) return -2;
    return sel.names.indexOf(key);
  }

  /** value() without building anything: true when a valid value was read. */
  private skipValue(depth: i32): bool {
    if (depth > MAX_DEPTH) { this.fail("nesting deeper than " + MAX_DEPTH.toString()); return false; }
    this.skipWs();
    if (this.pos >= this.text.length) { this.fail("unexpected end of input"); return false; }
    const c = this.text.charCodeAt(this.pos);
    if (c == 123) return this.skipContainer(depth, 125);
    if (c == 91) return this.skipContainer(depth, 93);
    if (c == 34) return this.skipString();
    if (c == 45 || (c >= 48 && c <= 57)) return this.skipNumber();
    if (this.text.startsWith("true", this.pos)) { this.pos += 4; return true; }
    if (this.text.startsWith("false", this.pos)) { this.pos += 5; return true; }
    if (this.text.startsWith("null", this.pos)) { this.pos += 4; return true; }
    this.fail("unexpected character '" + String.fromCharCode(c) + "'");
    return false;
  }

  /** An object (close 125) or array (close 93), as object() / array() check it. */
  private skipContainer(depth: i32, close: i32): bool {
    const object = close == 125;
    this.pos++;
    this.skipWs();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == close) { this.pos++; return true; }
    while (true) {
      if (object) {
        this.skipWs();
        if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 34) { this.fail("expected a member name in double quotes"); return false; }
        if (!this.skipString()) return false;
        this.skipWs();
        if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 58) { this.fail("expected ':' after member name"); return false; }
        this.pos++;
      }
      if (!this.skipValue(depth + 1)) return false;
      this.skipWs();
      if (this.pos >= this.text.length) { this.fail(object ? "unterminated object" : "unterminated array"); return false; }
      const c = this.text.charCodeAt(this.pos++);
      if (c == close) return true;
      if (c != 44) { this.fail(object ? "expected ',' or '}' in object" : "expected ',' or ']' in array"); return false; }
    }
  }

  /** number() without building the value. */
  private skipNumber(): bool {
    if (this.text.charCodeAt(this.pos) == 45) this.pos++;
    if (this.pos >= this.text.length) { this.fail("bad number"); return false; }
    const first = this.text.charCodeAt(this.pos);
    if (first == 48) this.pos++;
    else if (first >= 49 && first <= 57) this.digits();
    else { this.fail("bad number"); return false; }
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 46) {
      this.pos++;
      if (this.digits() == 0) { this.fail("bad number: digits expected after '.'"); return false; }
    }
    if (this.pos < this.text.length && (this.text.charCodeAt(this.pos) | 32) == 101) {
      this.pos++;
      if (this.pos < this.text.length && (this.text.charCodeAt(this.pos) == 43 || this.text.charCodeAt(this.pos) == 45)) this.pos++;
      if (this.digits() == 0) { this.fail("bad number: digits expected in exponent"); return false; }
    }
    return true;
  }

  /** string() without building the text. */
  private skipString(): bool {
    this.pos++;
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c == 34) { this.pos++; return true; }
      if (c < 32) { this.fail("control character in string"); return false; }
      if (c == 92) {
        this.pos++;
        if (this.pos >= text.length) break;
        const e = text.charCodeAt(this.pos++);
        if (e == 117) {
          if (this.hex4() < 0) { this.fail("bad \\u escape"); return false; }
        } else if (e != 34 && e != 92 && e != 47 && e != 98 && e != 102 && e != 110 && e != 114 && e != 116) {
          this.fail("bad escape");
          return false;
        }
        continue;
      }
      this.pos++;
    }
    this.fail("unterminated string");
    return false;
  }

  hex4(): i32 {
    if (this.pos + 4 > this.text.length) return -1;
    let code = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text.charCodeAt(this.pos++);
      let d: i32;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else return -1;
      code = code * 16 + d;
    }
    return code;
  }

  number(): JsonValue | null {
    const start = this.pos;
    let integer = true;
    if (this.text.charCodeAt(this.pos) == 45) this.pos++;
    if (this.pos >= this.text.length) return this.fail("bad number");
    const first = this.text.charCodeAt(this.pos);
    if (first == 48) this.pos++;
    else if (first >= 49 && first <= 57) this.digits();
    else return this.fail("bad number");
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 46) {
      integer = false;
      this.pos++;
      if (this.digits() == 0) return this.fail("bad number: digits expected after '.'");
    }
    if (this.pos < this.text.length && (this.text.charCodeAt(this.pos) | 32) == 101) {
      integer = false;
      this.pos++;
      if (this.pos < this.text.length && (this.text.charCodeAt(this.pos) == 43 || this.text.charCodeAt(this.pos) == 45)) this.pos++;
      if (this.digits() == 0) return this.fail("bad number: digits expected in exponent");
    }
    const literal = this.text.substring(start, this.pos);
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.num = parseFloat(literal);
    // 18 digits always fit an i64; longer integers stay doubles only.
    if (integer && literal.length <= 18) { v.isInteger = true; v.int = I64.parseInt(literal); }
    return v;
  }

  digits(): i32 {
    let n = 0;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c < 48 || c > 57) break;
      this.pos++; n++;
    }
    return n;
  }
}
