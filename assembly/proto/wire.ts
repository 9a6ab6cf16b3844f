// Protobuf wire format: a writer for the messages we send and a bounds-checked reader for the
// replies (a malformed reply is reported, never a trap).

export const WIRE_VARINT: u32 = 0;
export const WIRE_I64: u32 = 1;
export const WIRE_LEN: u32 = 2;
export const WIRE_I32: u32 = 5;

export class ProtoWriter {
  // A growable raw buffer: bytes are stored directly, nested messages copied once with memory.copy.
  private buf: ArrayBuffer = new ArrayBuffer(64);
  private len: i32 = 0;

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

  tag(field: u32, wire: u32): void { this.varint((<u64>field << 3) | wire); }

  fixed32(v: u32): void { store<u32>(this.reserve(4), v); this.len += 4; }
  fixed64(v: u64): void { store<u64>(this.reserve(8), v); this.len += 8; }

  uint32Field(field: u32, v: u32): void {
    if (v == 0) return; // proto3: defaults are not written
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  bytesField(field: u32, data: ArrayBuffer): void {
    this.tag(field, WIRE_LEN);
    this.varint(<u64>data.byteLength);
    const at = this.reserve(data.byteLength);
    memory.copy(at, changetype<usize>(data), <usize>data.byteLength);
    this.len += data.byteLength;
  }

  stringField(field: u32, s: string): void {
    if (s.length == 0) return;
    this.stringFieldAlways(field, s);
  }

  /** Writes a string even when empty (for repeated/map entries where presence matters). */
  stringFieldAlways(field: u32, s: string): void {
    const size = String.UTF8.byteLength(s);
    this.tag(field, WIRE_LEN);
    this.varint(<u64>size);
    const at = this.reserve(size);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, at);
    this.len += size;
  }

  messageField(field: u32, message: ProtoWriter): void {
    this.tag(field, WIRE_LEN);
    this.varint(<u64>message.len);
    const at = this.reserve(message.len);
    memory.copy(at, changetype<usize>(message.buf), <usize>message.len);
    this.len += message.len;
  }

  finish(): ArrayBuffer {
    const out = new ArrayBuffer(this.len);
    memory.copy(changetype<usize>(out), changetype<usize>(this.buf), <usize>this.len);
    return out;
  }
}

export class ProtoReader {
  pos: i32 = 0;
  failed: bool = false;
  private view: Uint8Array;

  constructor(data: ArrayBuffer) { this.view = Uint8Array.wrap(data); }

  get done(): bool { return this.failed || this.pos >= this.view.length; }

  varint(): u64 {
    let result: u64 = 0;
    let shift: u64 = 0;
    while (true) {
      if (this.pos >= this.view.length || shift > 63) { this.failed = true; return 0; }
      const b = this.view[this.pos++];
      result |= (<u64>(b & 0x7f)) << shift;
      if ((b & 0x80) == 0) return result;
      shift += 7;
    }
  }

  /** Returns the field number and sets `wire`; 0 on failure. */
  wire: u32 = 0;
  tag(): u32 {
    const t = this.varint();
    if (this.failed) return 0;
    this.wire = <u32>(t & 7);
    const field = <u32>(t >> 3);
    if (field == 0) this.failed = true;
    return field;
  }

  bytes(): ArrayBuffer {
    const len = this.varint();
    if (this.failed || len > <u64>(this.view.length - this.pos)) { this.failed = true; return new ArrayBuffer(0); }
    const out = this.view.slice(this.pos, this.pos + <i32>len).buffer;
    this.pos += <i32>len;
    return out;
  }

  string(): string { return String.UTF8.decode(this.bytes()); }

  double(): f64 { return reinterpret<f64>(this.fixed64()); }

  fixed64(): u64 {
    if (this.pos + 8 > this.view.length) { this.failed = true; return 0; }
    const v = load<u64>(this.view.dataStart + <usize>this.pos);
    this.pos += 8;
    return v;
  }

  fixed32(): u32 {
    if (this.pos + 4 > this.view.length) { this.failed = true; return 0; }
    const v = load<u32>(this.view.dataStart + <usize>this.pos);
    this.pos += 4;
    return v;
  }

  skip(): void {
    if (this.wire == WIRE_VARINT) this.varint();
    else if (this.wire == WIRE_I64) this.advance(8);
    else if (this.wire == WIRE_LEN) this.bytes();
    else if (this.wire == WIRE_I32) this.advance(4);
    else this.failed = true; // groups (3, 4) and unknown wire types
  }

  private advance(n: i32): void {
    if (this.pos + n > this.view.length) { this.failed = true; return; }
    this.pos += n;
  }
}
