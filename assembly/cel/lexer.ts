// CEL tokens (cel-spec "Syntax"): identifiers, int/uint/double/string literals, operators.
export enum Tok { End, Ident, Int, Uint, Double, String, Bytes, Op, Error }

export class Token {
  constructor(public kind: Tok, public text: string, public pos: i32) {}
  /** Parsed literal payloads. */
  u: u64 = 0;
  d: f64 = 0;
  overflow: bool = false;
}

const OPERATORS: Array<string> = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "?", ":", "+", "-", "*", "/", "%", ".", ",", "[", "]", "(", ")", "{", "}"];

export class Lexer {
  pos: i32 = 0;
  constructor(public src: string) {}

  next(): Token {
    this.skipSpaceAndComments();
    const start = this.pos;
    if (this.pos >= this.src.length) return new Token(Tok.End, "", start);
    const c = this.src.charCodeAt(this.pos);
    // String prefixes: r"..." raw, b"..." bytes (either order, any case).
    if (isIdentStart(c)) {
      const quoteAt = this.stringPrefixEnd();
      if (quoteAt >= 0) return this.stringLiteral(start, quoteAt);
      while (this.pos < this.src.length && isIdentPart(this.src.charCodeAt(this.pos))) this.pos++;
      return new Token(Tok.Ident, this.src.substring(start, this.pos), start);
    }
    if (c == 34 || c == 39) return this.stringLiteral(start, start);
    if (isDigit(c) || (c == 46 && this.pos + 1 < this.src.length && isDigit(this.src.charCodeAt(this.pos + 1)))) return this.number(start);
    for (let i = 0; i < OPERATORS.length; i++) {
      const op = OPERATORS[i];
      if (this.src.startsWith(op, this.pos)) {
        this.pos += op.length;
        return new Token(Tok.Op, op, start);
      }
    }
    this.pos++;
    return new Token(Tok.Error, "unexpected character '" + String.fromCharCode(c) + "'", start);
  }

  private skipSpaceAndComments(): void {
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c == 32 || c == 9 || c == 10 || c == 13 || c == 12) { this.pos++; continue; }
      if (c == 47 && this.pos + 1 < this.src.length && this.src.charCodeAt(this.pos + 1) == 47) {
        while (this.pos < this.src.length && this.src.charCodeAt(this.pos) != 10) this.pos++;
        continue;
      }
      break;
    }
  }

  /** If the identifier at pos is a string prefix (r, b, rb, br) directly followed by a quote, returns the quote offset. */
  private stringPrefixEnd(): i32 {
    let p = this.pos;
    let n = 0;
    while (p < this.src.length && n < 2) {
      const c = this.src.charCodeAt(p) | 32;
      if (c != 114 && c != 98) break;
      p++; n++;
    }
    if (n == 0 || p >= this.src.length) return -1;
    const q = this.src.charCodeAt(p);
    return q == 34 || q == 39 ? p : -1;
  }

  private number(start: i32): Token {
    const src = this.src;
    if (src.charCodeAt(this.pos) == 48 && this.pos + 1 < src.length && (src.charCodeAt(this.pos + 1) | 32) == 120) {
      this.pos += 2;
      const digitsStart = this.pos;
      let value: u64 = 0;
      let overflow = false;
      while (this.pos < src.length && isHex(src.charCodeAt(this.pos))) {
        const d = <u64>hexValue(src.charCodeAt(this.pos));
        if (value > (0xFFFFFFFFFFFFFFFF - d) / 16) overflow = true;
        value = value * 16 + d;
        this.pos++;
      }
      if (this.pos == digitsStart) return new Token(Tok.Error, "missing hex digits", start);
      return this.integerToken(start, value, overflow);
    }
    let isDouble = false;
    while (this.pos < src.length && isDigit(src.charCodeAt(this.pos))) this.pos++;
    if (this.pos + 1 < src.length && src.charCodeAt(this.pos) == 46 && isDigit(src.charCodeAt(this.pos + 1))) {
      isDouble = true;
      this.pos++;
      while (this.pos < src.length && isDigit(src.charCodeAt(this.pos))) this.pos++;
    }
    if (this.pos < src.length && (src.charCodeAt(this.pos) | 32) == 101) {
      let p = this.pos + 1;
      if (p < src.length && (src.charCodeAt(p) == 43 || src.charCodeAt(p) == 45)) p++;
      if (p < src.length && isDigit(src.charCodeAt(p))) {
        isDouble = true;
        this.pos = p;
        while (this.pos < src.length && isDigit(src.charCodeAt(this.pos))) this.pos++;
      }
    }
    const text = src.substring(start, this.pos);
    if (isDouble) {
      const t = new Token(Tok.Double, text, start);
      t.d = parseFloat(text);
      return t;
    }
    let value: u64 = 0;
    let overflow = false;
    for (let i = 0; i < text.length; i++) {
      const d = <u64>(text.charCodeAt(i) - 48);
      if (value > (0xFFFFFFFFFFFFFFFF - d) / 10) overflow = true;
      value = value * 10 + d;
    }
    return this.integerToken(start, value, overflow);
  }

  private integerToken(start: i32, value: u64, overflow: bool): Token {
    let kind = Tok.Int;
    if (this.pos < this.src.length && (this.src.charCodeAt(this.pos) | 32) == 117) { kind = Tok.Uint; this.pos++; }
    const t = new Token(kind, this.src.substring(start, this.pos), start);
    t.u = value;
    t.overflow = overflow;
    return t;
  }

  private stringLiteral(start: i32, quoteAt: i32): Token {
    const prefix = this.src.substring(start, quoteAt).toLowerCase();
    const raw = prefix.includes("r");
    const bytes = prefix.includes("b");
    const q = this.src.charCodeAt(quoteAt);
    const triple = this.src.startsWith(String.fromCharCode(q).repeat(3), quoteAt);
    const quote = triple ? String.fromCharCode(q).repeat(3) : String.fromCharCode(q);
    this.pos = quoteAt + quote.length;
    let out = "";
    while (true) {
      if (this.pos >= this.src.length) return new Token(Tok.Error, "unterminated string literal", start);
      if (this.src.startsWith(quote, this.pos)) { this.pos += quote.length; break; }
      const c = this.src.charCodeAt(this.pos);
      if (!triple && (c == 10 || c == 13)) return new Token(Tok.Error, "newline in string literal", start);
      if (c == 92 && !raw) {
        const escaped = this.escape();
        if (escaped === null) return new Token(Tok.Error, "invalid escape sequence", this.pos);
        out += escaped;
        continue;
      }
      out += String.fromCharCode(c);
      this.pos++;
    }
    return new Token(bytes ? Tok.Bytes : Tok.String, out, start);
  }

  private escape(): string | null {
    this.pos++; // backslash
    if (this.pos >= this.src.length) return null;
    const c = this.src.charCodeAt(this.pos++);
    switch (c) {
      case 97: return "\x07";
      case 98: return "\b";
      case 102: return "\f";
      case 110: return "\n";
      case 114: return "\r";
      case 116: return "\t";
      case 118: return "\v";
      case 92: return "\\";
      case 39: return "'";
      case 34: return "\"";
      case 96: return "`";
      case 63: return "?";
      case 120: case 88: return this.codePoint(2, 16);
      case 117: return this.codePoint(4, 16);
      case 85: return this.codePoint(8, 16);
    }
    if (c >= 48 && c <= 51) { this.pos--; return this.codePoint(3, 8); }
    return null;
  }

  private codePoint(digits: i32, radix: i32): string | null {
    if (this.pos + digits > this.src.length) return null;
    let cp: i32 = 0;
    for (let i = 0; i < digits; i++) {
      const ch = this.src.charCodeAt(this.pos++);
      const d = radix == 16 ? (isHex(ch) ? hexValue(ch) : -1) : (ch >= 48 && ch <= 55 ? ch - 48 : -1);
      if (d < 0) return null;
      cp = cp * radix + d;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return null;
    return String.fromCodePoint(cp);
  }
}

function isDigit(c: i32): bool { return c >= 48 && c <= 57; }
function isHex(c: i32): bool { return isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102); }
function hexValue(c: i32): i32 { return isDigit(c) ? c - 48 : (c | 32) - 87; }
function isIdentStart(c: i32): bool { return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95; }
function isIdentPart(c: i32): bool { return isIdentStart(c) || isDigit(c); }
