// Protobuf wire format: a writer for the messages we send and a bounds-checked reader for the
// replies (a malformed reply is reported, never a trap).
import { encodeUtf8, utf8Size } from "../abi/memory";

export const WIRE_VARINT: u32 = 0;
export const WIRE_I64: u32 = 1;
export const WIRE_LEN: u32 = 2;
export const WIRE_I32: u32 = 5;

/**
 * A growable buffer the messages we send are written into. Nested messages are written in place:
 * begin() writes the tag and a one-byte length slot, end() fills the length in (moving the body
 * when the length needs more than one byte), so a whole message is one buffer and no copies.
 * Encoders share one writer (sharedWriter(): the VM runs one callback at a time and no encoder
 * calls another while it writes), so a request allocates only the finished message.
 */
export class ProtoWriter {
  private buf: ArrayBuffer = new ArrayBuffer(256);
  private len: i32 = 0;

  get length(): i32 { return this.len; }

  reset(): ProtoWriter { this.len = 0; return this; }

  private reserve(extra: i32): usize {
    const need = this.len + extra;
    if (need > this.buf.byteLength) {
      let cap = this.buf.byteLength << 1;
      while (cap < need) cap <<= 1;
      const next = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.len);
      this.buf = next;
    }
    return changetype<usize>(this.buf) + <usize>this.len;
  }

  varint(v: u64): void {
    let p = this.reserve(10);
    const start = p;
    while (v >= 0x80) { store<u8>(p++, <u8>((v & 0x7f) | 0x80)); v >>= 7; }
    store<u8>(p++, <u8>v);
    this.len += <i32>(p - start);
  }

  tag(field: u32, wire: u32): void {
    const t = (field << 3) | wire;
    if (t < 0x80) { store<u8>(this.reserve(1), <u8>t); this.len += 1; }
    else this.varint(<u64>t);
  }

  fixed32(v: u32): void { store<u32>(this.reserve(4), v); this.len += 4; }
  fixed64(v: u64): void { store<u64>(this.reserve(8), v); this.len += 8; }

  uint32Field(field: u32, v: u32): void {
    if (v == 0) return; // proto3: defaults are not written
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  bytesField(field: u32, data: ArrayBuffer): void {
    this.bytesFieldRaw(field, changetype<usize>(data), data.byteLength);
  }

  bytesFieldRaw(field: u32, data: usize, size: i32): void {
    this.tag(field, WIRE_LEN);
    this.varint(<u64>size);
    this.raw(data, size);
  }

  /** Bytes already encoded (a pre-encoded fragment of a message). */
  raw(data: usize, size: i32): void {
    const at = this.reserve(size);
    memory.copy(at, data, <usize>size);
    this.len += size;
  }

  rawBuffer(data: ArrayBuffer): void { this.raw(changetype<usize>(data), data.byteLength); }

  stringField(field: u32, s: string): void {
    if (s.length == 0) return;
    this.stringFieldAlways(field, s);
  }

  /** Writes a string even when empty (for repeated/map entries where presence matters). */
  stringFieldAlways(field: u32, s: string): void {
    this.tag(field, WIRE_LEN);
    const n = s.length;
    if (n < 0x80 / 3) {
      // At most 3 UTF-8 bytes per UTF-16 unit: the length fits one byte, written after the text.
      const at = this.reserve(1 + 3 * n);
      const size = encodeUtf8(changetype<usize>(s), n, at + 1);
      store<u8>(at, <u8>size);
      this.len += 1 + <i32>size;
      return;
    }
    const size = <i32>utf8Size(s);
    this.varint(<u64>size);
    const at = this.reserve(size);
    encodeUtf8(changetype<usize>(s), n, at);
    this.len += size;
  }

  /** Starts a nested message (or any length-delimited field) written in place; pass the mark to end(). */
  begin(field: u32): i32 {
    this.tag(field, WIRE_LEN);
    const mark = this.len;
    this.reserve(1);
    this.len += 1;
    return mark;
  }

  /** Ends the field begun at `mark`: its length goes in the slot begin() left. */
  end(mark: i32): void {
    const size = this.len - mark - 1;
    const base = changetype<usize>(this.buf);
    if (size < 0x80) { store<u8>(base + <usize>mark, <u8>size); return; }
    let extra = 0;
    for (let v = size >>> 7; v != 0; v >>>= 7) extra++;
    this.reserve(extra);
    const moved = changetype<usize>(this.buf); // reserve may have moved the buffer
    memory.copy(moved + <usize>(mark + 1 + extra), moved + <usize>(mark + 1), <usize>size);
    let p = moved + <usize>mark;
    let v = <u32>size;
    while (v >= 0x80) { store<u8>(p++, <u8>((v & 0x7f) | 0x80)); v >>>= 7; }
    store<u8>(p, <u8>v);
    this.len += extra;
  }

  /** The bytes written since `from` (a length() taken earlier), as a new buffer. */
  copyFrom(from: i32): ArrayBuffer {
    const out = new ArrayBuffer(this.len - from);
    memory.copy(changetype<usize>(out), changetype<usize>(this.buf) + <usize>from, <usize>(this.len - from));
    return out;
  }

  /** The message, as a new buffer; the writer is reset. */
  finish(): ArrayBuffer {
    const out = this.copyFrom(0);
    this.len = 0;
    return out;
  }
}

const shared = new ProtoWriter();

/** The encoders' one writer, reset. Not re-entrant: finish() before another encoder takes it. */
export function sharedWriter(): ProtoWriter { return shared.reset(); }

/**
 * Reads a message in place: a nested message is entered (enter() narrows the reader to it and
 * returns the enclosing end) and left (leave() moves past it), so decoding allocates only the
 * values it keeps. `failed` is sticky: a malformed field ends every enclosing loop.
 */
export class ProtoReader {
  pos: usize = 0;
  end: usize = 0;
  failed: bool = false;
  /** The wire type of the last tag(). */
  wire: u32 = 0;

  /** Keeps the bytes alive while they are read. */
  constructor(private data: ArrayBuffer) {
    this.pos = changetype<usize>(data);
    this.end = this.pos + <usize>data.byteLength;
  }

  get done(): bool { return this.failed || this.pos >= this.end; }

  varint(): u64 {
    let result: u64 = 0;
    let shift: u64 = 0;
    let p = this.pos;
    const end = this.end;
    while (true) {
      if (p >= end || shift > 63) { this.failed = true; this.pos = p; return 0; }
      const b = load<u8>(p++);
      result |= (<u64>(b & 0x7f)) << shift;
      if ((b & 0x80) == 0) { this.pos = p; return result; }
      shift += 7;
    }
  }

  /** Returns the field number and sets `wire`; 0 on failure. */
  tag(): u32 {
    const t = this.varint();
    if (this.failed) return 0;
    this.wire = <u32>(t & 7);
    const field = <u32>(t >> 3);
    if (field == 0) this.failed = true;
    return field;
  }

  /** The length of a length-delimited field, checked against what remains; 0 (and failed) when it does not fit. */
  private length(): usize {
    const len = this.varint();
    if (this.failed || len > <u64>(this.end - this.pos)) { this.failed = true; return 0; }
    return <usize>len;
  }

  /** Narrows the reader to the length-delimited field at pos; returns the end to restore with leave(). */
  enter(): usize {
    const outer = this.end;
    const len = this.length();
    if (!this.failed) this.end = this.pos + len;
    return outer;
  }

  /**
   * Leaves a field entered with enter(), moving past it. With `keepFailure` false a malformed
   * inner field is forgotten (callers that ignore a bad sub-message and read on).
   */
  leave(outer: usize, keepFailure: bool = true): void {
    if (this.failed && keepFailure) { this.end = outer; return; }
    this.failed = false;
    this.pos = this.end;
    this.end = outer;
  }

  /** A length-delimited field as a new buffer. */
  bytes(): ArrayBuffer {
    const len = this.length();
    if (this.failed) return new ArrayBuffer(0);
    const out = new ArrayBuffer(<i32>len);
    memory.copy(changetype<usize>(out), this.pos, len);
    this.pos += len;
    return out;
  }

  /** A length-delimited field as text (UTF-8 decoded straight from the message). */
  string(): string {
    const len = this.length();
    if (this.failed) return "";
    const s = String.UTF8.decodeUnsafe(this.pos, len);
    this.pos += len;
    return s;
  }

  double(): f64 { return reinterpret<f64>(this.fixed64()); }

  fixed64(): u64 {
    if (this.pos + 8 > this.end) { this.failed = true; return 0; }
    const v = load<u64>(this.pos);
    this.pos += 8;
    return v;
  }

  fixed32(): u32 {
    if (this.pos + 4 > this.end) { this.failed = true; return 0; }
    const v = load<u32>(this.pos);
    this.pos += 4;
    return v;
  }

  skip(): void {
    if (this.wire == WIRE_VARINT) this.varint();
    else if (this.wire == WIRE_I64) this.advance(8);
    else if (this.wire == WIRE_LEN) { const len = this.length(); this.pos += len; }
    else if (this.wire == WIRE_I32) this.advance(4);
    else this.failed = true; // groups (3, 4) and unknown wire types
  }

  private advance(n: usize): void {
    if (this.pos + n > this.end) { this.failed = true; return; }
    this.pos += n;
  }
}
