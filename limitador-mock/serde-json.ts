// The body of /check, /report and /check_and_report, read the way Limitador reads it: serde_json
// deserialising `CheckAndReportInfo {namespace: String, values: HashMap<String, String>, delta: u64,
// response_headers: Option<String>}` (limitador-server/src/http_api/request_types.rs). Clients see
// serde's messages in the 400 body ("Json deserialize error: missing field `delta` at line 1 column
// 43"), so this reproduces them: the same checks in the same order, the same positions (line, and
// column in bytes of the last byte read), unknown fields skipped, an array accepted in field order.

export interface CheckAndReportInfo {
  namespace: string;
  values: Map<string, string>;
  delta: number;
  responseHeaders: string | null;
}

export class SerdeError extends Error {
  constructor(readonly reason: string, public line = 0, public column = 0) { super(reason); }
  override toString(): string { return this.line === 0 ? this.reason : `${this.reason} at line ${this.line} column ${this.column}`; }
}

const STRUCT = "struct CheckAndReportInfo";
const FIELDS = ["namespace", "values", "delta", "response_headers"] as const;

type Unexpected = string;

class Deserializer {
  i = 0;
  constructor(readonly b: Uint8Array) {}

  // ---- positions: serde_json's `error` (after the last byte read) and `peek_error` (the byte peeked) ----
  private at(index: number): [number, number] {
    let line = 1, start = 0;
    for (let k = 0; k < index; k++) if (this.b[k] === 0x0a) { line++; start = k + 1; }
    return [line, index - start];
  }
  error(reason: string): SerdeError { return new SerdeError(reason, ...this.at(this.i)); }
  peekError(reason: string): SerdeError { return new SerdeError(reason, ...this.at(Math.min(this.b.length, this.i + 1))); }
  fix(err: SerdeError): SerdeError { if (err.line === 0) [err.line, err.column] = this.at(this.i); return err; }

  peek(): number | null { return this.i < this.b.length ? this.b[this.i] : null; }
  ws(): number | null {
    while (this.i < this.b.length) {
      const c = this.b[this.i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return c;
      this.i++;
    }
    return null;
  }

  ident(rest: string): void {
    for (let k = 0; k < rest.length; k++) {
      if (this.i >= this.b.length) throw this.error("EOF while parsing a value");
      if (this.b[this.i++] !== rest.charCodeAt(k)) throw this.error("expected ident");
    }
  }

  // ---- strings ----
  str(): string {
    // the opening quote is consumed
    const parts: number[] = [];
    const start = this.i;
    let escaped = false;
    for (;;) {
      if (this.i >= this.b.length) throw this.error("EOF while parsing a string");
      const c = this.b[this.i];
      if (c === 0x22) {
        this.i++;
        const bytes = escaped ? Uint8Array.from(parts) : this.b.subarray(start, this.i - 1);
        try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes); } catch { throw this.error("invalid unicode code point"); }
      }
      if (c === 0x5c) { this.i++; if (!escaped) { for (let k = start; k < this.i - 1; k++) parts.push(this.b[k]); escaped = true; } this.escape(parts); continue; }
      if (c < 0x20) { this.i++; throw this.error("control character (\\u0000-\\u001F) found while parsing a string"); }
      if (escaped) parts.push(c);
      this.i++;
    }
  }

  private escape(out: number[]): void {
    if (this.i >= this.b.length) throw this.error("EOF while parsing a string");
    const c = this.b[this.i++];
    const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };
    if (c in simple) { out.push(simple[c]); return; }
    if (c !== 0x75) throw this.error("invalid escape");
    let n = this.hex4();
    if (n >= 0xdc00 && n <= 0xdfff) throw this.error("lone leading surrogate in hex escape");
    if (n >= 0xd800 && n <= 0xdbff) {
      if (this.i >= this.b.length) throw this.error("EOF while parsing a string");
      if (this.b[this.i] !== 0x5c || this.b[this.i + 1] !== 0x75) { this.i += this.b[this.i] === 0x5c ? 2 : 1; throw this.error("unexpected end of hex escape"); }
      this.i += 2;
      const lo = this.hex4();
      if (lo < 0xdc00 || lo > 0xdfff) throw this.error("lone leading surrogate in hex escape");
      n = 0x10000 + ((n - 0xd800) << 10) + (lo - 0xdc00);
    }
    out.push(...new TextEncoder().encode(String.fromCodePoint(n)));
  }

  private hex4(): number {
    if (this.b.length - this.i < 4) { this.i = this.b.length; throw this.error("EOF while parsing a string"); }
    const text = String.fromCharCode(...this.b.subarray(this.i, this.i + 4));
    this.i += 4;
    if (!/^[0-9a-fA-F]{4}$/.test(text)) throw this.error("invalid escape");
    return parseInt(text, 16);
  }

  // ---- numbers: u64, i64 or f64, as serde_json's parser classifies them ----
  number(positive: boolean): { kind: "u64" | "i64" | "f64"; value: number; text: string } {
    if (this.i >= this.b.length) throw this.error("EOF while parsing a value");
    const first = this.b[this.i++];
    if (first < 0x30 || first > 0x39) throw this.error("invalid number");
    let digits = String.fromCharCode(first);
    if (first === 0x30) { const p = this.peek(); if (p !== null && p >= 0x30 && p <= 0x39) throw this.peekError("invalid number"); }
    else while (this.isDigit(this.peek())) digits += String.fromCharCode(this.b[this.i++]);
    let isFloat = false, text = digits;
    if (this.peek() === 0x2e) {
      this.i++; isFloat = true; text += ".";
      let any = false;
      while (this.isDigit(this.peek())) { text += String.fromCharCode(this.b[this.i++]); any = true; }
      if (!any) throw this.peekError(this.peek() === null ? "EOF while parsing a value" : "invalid number");
    }
    if (this.peek() === 0x65 || this.peek() === 0x45) {
      this.i++; isFloat = true; text += "e";
      if (this.peek() === 0x2b || this.peek() === 0x2d) text += String.fromCharCode(this.b[this.i++]);
      if (this.i >= this.b.length) throw this.error("EOF while parsing a value");
      if (!this.isDigit(this.b[this.i])) { this.i++; throw this.error("invalid number"); }
      while (this.isDigit(this.peek())) text += String.fromCharCode(this.b[this.i++]);
    }
    const big = BigInt(digits);
    if (!isFloat && positive && big <= 0xffffffffffffffffn) return { kind: "u64", value: Number(big), text: digits };
    if (!isFloat && !positive && big !== 0n && big <= 0x8000000000000000n) return { kind: "i64", value: -Number(big), text: `-${digits}` };
    const f = Number(text) * (positive ? 1 : -1);
    if (!Number.isFinite(f)) throw this.error("number out of range");
    return { kind: "f64", value: f, text: "" };
  }
  private isDigit(c: number | null): boolean { return c !== null && c >= 0x30 && c <= 0x39; }

  // ---- serde's "invalid type" from whatever value comes next ----
  invalidType(expected: string): SerdeError {
    const c = this.peek() ?? 0;
    let what: Unexpected;
    if (c === 0x6e) { this.i++; this.ident("ull"); what = "null"; }
    else if (c === 0x74) { this.i++; this.ident("rue"); what = "boolean `true`"; }
    else if (c === 0x66) { this.i++; this.ident("alse"); what = "boolean `false`"; }
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (c === 0x2d) this.i++;
      const n = this.number(c !== 0x2d);
      what = n.kind === "f64" ? `floating point \`${floatText(n.value)}\`` : `integer \`${n.text}\``;
    }
    else if (c === 0x22) { this.i++; what = `string ${rustDebugString(this.str())}`; }
    else if (c === 0x5b) what = "sequence";
    else if (c === 0x7b) what = "map";
    else return this.peekError("expected value");
    return this.fix(new SerdeError(`invalid type: ${what}, expected ${expected}`));
  }

  // ---- the target's parts ----
  string(): string {
    const p = this.ws();
    if (p === null) throw this.peekError("EOF while parsing a value");
    if (p !== 0x22) throw this.invalidType("a string");
    this.i++;
    return this.str();
  }

  u64(): number {
    const p = this.ws();
    if (p === null) throw this.peekError("EOF while parsing a value");
    if (p !== 0x2d && (p < 0x30 || p > 0x39)) throw this.invalidType("u64");
    if (p === 0x2d) this.i++;
    const n = this.number(p !== 0x2d);
    if (n.kind === "u64") return n.value;
    if (n.kind === "i64") throw this.fix(new SerdeError(`invalid value: integer \`${n.text}\`, expected u64`));
    throw this.fix(new SerdeError(`invalid type: floating point \`${floatText(n.value)}\`, expected u64`));
  }

  optionString(): string | null {
    if (this.ws() === 0x6e) { this.i++; this.ident("ull"); return null; }
    return this.string();
  }

  stringMap(): Map<string, string> {
    const p = this.ws();
    if (p === null) throw this.peekError("EOF while parsing a value");
    if (p !== 0x7b) throw this.invalidType("a map");
    this.i++;
    const out = new Map<string, string>();
    let failure: SerdeError | null = null;
    try {
      for (let first = true; this.nextKey(first); first = false) {
        this.i++;
        const key = this.str();
        this.colon();
        out.set(key, this.string());
      }
    } catch (err) { failure = err as SerdeError; }
    const end = this.endMap();
    if (failure || end) throw this.fix((failure ?? end)!);
    return out;
  }

  /** MapAccess::has_next_key: true with the opening quote of the key under the cursor. */
  nextKey(first: boolean): boolean {
    const p = this.ws();
    if (p === null) throw this.peekError("EOF while parsing an object");
    if (p === 0x7d) return false;
    if (first) { if (p === 0x22) return true; throw this.peekError("key must be a string"); }
    if (p !== 0x2c) throw this.peekError("expected `,` or `}`");
    this.i++;
    const q = this.ws();
    if (q === 0x22) return true;
    if (q === 0x7d) throw this.peekError("trailing comma");
    if (q === null) throw this.peekError("EOF while parsing a value");
    throw this.peekError("key must be a string");
  }

  colon(): void {
    const p = this.ws();
    if (p === 0x3a) { this.i++; return; }
    throw this.peekError(p === null ? "EOF while parsing an object" : "expected `:`");
  }

  /** end_map: returns (not throws) its error, since a field error comes first. */
  endMap(): SerdeError | null {
    const p = this.ws();
    if (p === 0x7d) { this.i++; return null; }
    return this.peekError(p === 0x2c ? "trailing comma" : p === null ? "EOF while parsing an object" : "trailing characters");
  }

  endSeq(): SerdeError | null {
    const p = this.ws();
    if (p === 0x5d) { this.i++; return null; }
    if (p === 0x2c) { this.i++; return this.peekError(this.ws() === 0x5d ? "trailing comma" : "trailing characters"); }
    return this.peekError(p === null ? "EOF while parsing a list" : "trailing characters");
  }

  nextElement(first: boolean): boolean {
    const p = this.ws();
    if (p === null) throw this.peekError("EOF while parsing a list");
    if (p === 0x5d) return false;
    if (first) return true;
    if (p !== 0x2c) throw this.peekError("expected `,` or `]`");
    this.i++;
    const q = this.ws();
    if (q === 0x5d) throw this.peekError("trailing comma");
    if (q === null) throw this.peekError("EOF while parsing a value");
    return true;
  }

  /** IgnoredAny: any JSON value, syntax-checked and dropped. */
  ignore(): void {
    const p = this.ws();
    if (p === null) throw this.peekError("EOF while parsing a value");
    if (p === 0x6e) { this.i++; this.ident("ull"); return; }
    if (p === 0x74) { this.i++; this.ident("rue"); return; }
    if (p === 0x66) { this.i++; this.ident("alse"); return; }
    if (p === 0x2d || (p >= 0x30 && p <= 0x39)) { if (p === 0x2d) this.i++; this.number(p !== 0x2d); return; }
    if (p === 0x22) { this.i++; this.str(); return; }
    if (p === 0x5b) {
      this.i++;
      for (let first = true; ; first = false) {
        const q = this.ws();
        if (q === null) throw this.peekError("EOF while parsing a list");
        if (q === 0x5d) { this.i++; return; }
        if (!first) { if (q !== 0x2c) throw this.peekError("expected `,` or `]`"); this.i++; }
        this.ignore();
      }
    }
    if (p === 0x7b) {
      this.i++;
      for (let first = true; ; first = false) {
        const q = this.ws();
        if (q === null) throw this.peekError("EOF while parsing an object");
        if (q === 0x7d) { this.i++; return; }
        if (!first) { if (q !== 0x2c) throw this.peekError("expected `,` or `}`"); this.i++; }
        const k = this.ws();
        if (k === null) throw this.peekError("EOF while parsing an object");
        if (k !== 0x22) throw this.peekError("key must be a string");
        this.i++;
        this.str();
        this.colon();
        this.ignore();
      }
    }
    throw this.peekError("expected value");
  }

  // ---- the struct, from a map or (in field order) from a sequence ----
  struct(): CheckAndReportInfo {
    const p = this.ws();
    if (p === null) throw this.peekError("EOF while parsing a value");
    let result: CheckAndReportInfo | null = null, failure: SerdeError | null = null, end: SerdeError | null = null;
    if (p === 0x7b) {
      this.i++;
      try { result = this.visitMap(); } catch (err) { failure = err as SerdeError; }
      end = this.endMap();
    } else if (p === 0x5b) {
      this.i++;
      try { result = this.visitSeq(); } catch (err) { failure = err as SerdeError; }
      end = this.endSeq();
    } else throw this.invalidType(STRUCT);
    if (failure || end) throw this.fix((failure ?? end)!);
    return result!;
  }

  private visitMap(): CheckAndReportInfo {
    const seen = new Set<string>();
    let namespace: string | undefined, values: Map<string, string> | undefined, delta: number | undefined, responseHeaders: string | null = null;
    for (let first = true; this.nextKey(first); first = false) {
      this.i++;
      const key = this.str();
      if ((FIELDS as readonly string[]).includes(key)) {
        if (seen.has(key)) throw new SerdeError(`duplicate field \`${key}\``);
        seen.add(key);
      }
      this.colon();
      if (key === "namespace") namespace = this.string();
      else if (key === "values") values = this.stringMap();
      else if (key === "delta") delta = this.u64();
      else if (key === "response_headers") responseHeaders = this.optionString();
      else this.ignore();
    }
    for (const [name, v] of [["namespace", namespace], ["values", values], ["delta", delta]] as const) if (v === undefined) throw new SerdeError(`missing field \`${name}\``);
    return { namespace: namespace!, values: values!, delta: delta!, responseHeaders };
  }

  private visitSeq(): CheckAndReportInfo {
    const element = <T>(index: number, read: () => T): T => {
      if (!this.nextElement(index === 0)) throw new SerdeError(`invalid length ${index}, expected ${STRUCT} with 4 elements`);
      return read();
    };
    const namespace = element(0, () => this.string());
    const values = element(1, () => this.stringMap());
    const delta = element(2, () => this.u64());
    const responseHeaders = element(3, () => this.optionString());
    return { namespace, values, delta, responseHeaders };
  }
}

/** serde_json::from_slice::<CheckAndReportInfo>, errors included. */
export function parseCheckAndReportInfo(body: Uint8Array): CheckAndReportInfo {
  const de = new Deserializer(body);
  const info = de.struct();
  if (de.ws() !== null) throw de.peekError("trailing characters");
  return info;
}

/**
 * serde_json prints an unexpected float with ryu: shortest digits, a decimal point always, and
 * scientific notation when the point would fall beyond 16 digits or before 5 leading zeros
 * (1.5, 100.0, 1.8446744073709552e19, 1e20, 0.001, 1e-7).
 */
export function ryuFloat(f: number): string {
  if (f === 0) return Object.is(f, -0) ? "-0.0" : "0.0";
  const sign = f < 0 ? "-" : "";
  const [mantissa, exp] = Math.abs(f).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const point = Number(exp) + 1; // digits before the decimal point
  if (point >= digits.length && point <= 16) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  if (point > 0 && point <= 16) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  if (point > -5 && point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  const e = `e${point - 1}`;
  return digits.length === 1 ? `${sign}${digits}${e}` : `${sign}${digits[0]}.${digits.slice(1)}${e}`;
}

const floatText = ryuFloat;

/** Rust's `{:?}` of a str: quoted, with \", \\, \n, \r, \t, \0 and \u{..} for other controls. */
function rustDebugString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (cp === 0) out += "\\0";
    else if (cp < 0x20 || cp === 0x7f) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}
