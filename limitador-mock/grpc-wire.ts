// The bytes of Limitador's RPCs: RateLimitRequest in, RateLimitResponse out (Envoy's rls.proto,
// field numbers in research/limitador.md §1), decoded and encoded by hand because this is the
// mock's hot path. Decoding follows prost: unknown fields skipped, strings must be UTF-8, a
// uint32 varint keeps its low 32 bits. Encoding follows prost too: fields in number order,
// proto3 defaults omitted (so UNKNOWN and empty strings take no bytes).
import { isUtf8 } from "node:buffer";

export interface RlsRequest {
  domain: string;
  /** Each descriptor as a map (a key repeated in one descriptor keeps its last value). */
  descriptors: Array<Map<string, string>>;
  hitsAddend: number;
}

export class DecodeError extends Error {}


class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) { this.pos = start; }

  /** A varint's low 32 bits (as unsigned), consuming all of its bytes. */
  varint32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= this.end || shift >= 70) throw new DecodeError("invalid varint");
      const b = this.buf[this.pos++];
      if (shift < 32) result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
    }
  }

  /** A length-delimited field's bounds. */
  span(): [number, number] {
    const len = this.varint32();
    const start = this.pos;
    if (len > this.end - start) throw new DecodeError("buffer underflow");
    this.pos = start + len;
    return [start, start + len];
  }

  string(what: string): string {
    const [s, e] = this.span();
    if (e === s) return "";
    if (!isUtf8(this.buf.subarray(s, e))) throw new DecodeError(`${what}: invalid string value: data is not UTF-8 encoded`);
    return this.buf.toString("utf8", s, e);
  }

  skip(wireType: number, field: number): void {
    switch (wireType) {
      case 0: this.varint32(); return;
      case 1: this.advance(8); return;
      case 2: this.span(); return;
      case 5: this.advance(4); return;
      case 3: // a group: skip until its end tag
        for (;;) {
          const tag = this.varint32();
          if ((tag & 7) === 4) { if (tag >>> 3 !== field) throw new DecodeError("unexpected end group tag"); return; }
          this.skip(tag & 7, tag >>> 3);
        }
      default: throw new DecodeError(`invalid wire type value: ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw new DecodeError("buffer underflow");
    this.pos += n;
  }
}

function expectWire(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new DecodeError(`${what}: invalid wire type: ${wireName(actual)} (expected ${wireName(expected)})`);
}

function wireName(t: number): string {
  return ["Varint", "SixtyFourBit", "LengthDelimited", "StartGroup", "EndGroup", "ThirtyTwoBit"][t] ?? String(t);
}

export function decodeRateLimitRequest(buf: Buffer): RlsRequest {
  const r = new Reader(buf, 0, buf.length);
  const req: RlsRequest = { domain: "", descriptors: [], hitsAddend: 0 };
  while (r.pos < r.end) {
    const tag = r.varint32();
    const field = tag >>> 3, wire = tag & 7;
    if (field === 1) { expectWire(wire, 2, "RateLimitRequest.domain"); req.domain = r.string("RateLimitRequest.domain"); }
    else if (field === 2) { expectWire(wire, 2, "RateLimitRequest.descriptors"); req.descriptors.push(decodeDescriptor(r)); }
    else if (field === 3) { expectWire(wire, 0, "RateLimitRequest.hits_addend"); req.hitsAddend = r.varint32(); }
    else if (field === 0) throw new DecodeError("invalid tag value: 0");
    else r.skip(wire, field);
  }
  return req;
}

function decodeDescriptor(outer: Reader): Map<string, string> {
  const [start, end] = outer.span();
  const r = new Reader(outer.buf, start, end);
  const map = new Map<string, string>();
  while (r.pos < r.end) {
    const tag = r.varint32();
    const field = tag >>> 3, wire = tag & 7;
    if (field === 1) {
      expectWire(wire, 2, "RateLimitDescriptor.entries");
      const [es, ee] = r.span();
      const e = new Reader(r.buf, es, ee);
      let key = "", value = "";
      while (e.pos < e.end) {
        const t = e.varint32();
        if (t >>> 3 === 1) { expectWire(t & 7, 2, "Entry.key"); key = e.string("Entry.key"); }
        else if (t >>> 3 === 2) { expectWire(t & 7, 2, "Entry.value"); value = e.string("Entry.value"); }
        else e.skip(t & 7, t >>> 3);
      }
      map.set(key, value);
    } else r.skip(wire, field); // `limit` (RateLimitOverride): Limitador ignores it
  }
  return map;
}

export type OverallCode = 0 | 1 | 2; // UNKNOWN, OK, OVER_LIMIT

const encoder = new TextEncoder();

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); len++; }
  return len;
}

function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) { out[pos++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128); }
  out[pos++] = n;
  return pos;
}

function writeString(out: Buffer, pos: number, tag: number, s: string, len: number): number {
  if (len === 0) return pos;
  out[pos++] = tag;
  pos = writeVarint(out, pos, len);
  return pos + out.write(s, pos, len, "utf8");
}

/** A gRPC message frame (uncompressed) holding a RateLimitResponse. */
export function encodeRateLimitResponseFrame(code: OverallCode, headers: ReadonlyArray<{ key: string; value: string }>): Buffer {
  const lengths = new Array<number>(headers.length * 3);
  let size = code ? 2 : 0;
  for (let i = 0; i < headers.length; i++) {
    const k = Buffer.byteLength(headers[i].key), v = Buffer.byteLength(headers[i].value);
    const inner = (k ? 1 + varintLength(k) + k : 0) + (v ? 1 + varintLength(v) + v : 0);
    lengths[i * 3] = k; lengths[i * 3 + 1] = v; lengths[i * 3 + 2] = inner;
    size += 1 + varintLength(inner) + inner;
  }
  const out = Buffer.allocUnsafe(5 + size);
  out[0] = 0;
  out.writeUInt32BE(size, 1);
  let pos = 5;
  if (code) { out[pos++] = 0x08; out[pos++] = code; }
  for (let i = 0; i < headers.length; i++) {
    out[pos++] = 0x1a;
    pos = writeVarint(out, pos, lengths[i * 3 + 2]);
    pos = writeString(out, pos, 0x0a, headers[i].key, lengths[i * 3]);
    pos = writeString(out, pos, 0x12, headers[i].value, lengths[i * 3 + 1]);
  }
  return out;
}

/** grpc-message as tonic percent-encodes it: controls, non-ASCII, space and " # < > ` ? { } (not %). */
export function percentEncode(message: string): string {
  let out = "";
  for (const b of encoder.encode(message)) {
    const keep = b > 0x20 && b < 0x7f && !'"#<>`?{}'.includes(String.fromCharCode(b));
    out += keep ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
