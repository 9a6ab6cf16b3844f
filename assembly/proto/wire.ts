// Protobuf wire format: a writer for the messages we send and a bounds-checked reader for the
// replies (a malformed reply is reported, never a trap).

export const WIRE_VARINT: u32 = 0;
export const WIRE_I64: u32 = 1;
export const WIRE_LEN: u32 = 2;
export const WIRE_I32: u32 = 5;

export class ProtoWriter {
  private bytes: Array<u8> = [];

  varint(v: u64): void {
    while (v >= 0x80) { this.bytes.push(<u8>((v & 0x7f) | 0x80)); v >>= 7; }
    this.bytes.push(<u8>v);
  }

  tag(field: u32, wire: u32): void { this.varint((<u64>field << 3) | wire); }

  uint32Field(field: u32, v: u32): void {
    if (v == 0) return; // proto3: defaults are not written
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  boolField(field: u32, v: bool): void { if (v) { this.tag(field, WIRE_VARINT); this.varint(1); } }

  bytesField(field: u32, data: ArrayBuffer): void {
    this.tag(field, WIRE_LEN);
    this.varint(<u64>data.byteLength);
    const view = Uint8Array.wrap(data);
    for (let i = 0; i < view.length; i++) this.bytes.push(view[i]);
  }

  stringField(field: u32, s: string): void {
    if (s.length == 0) return;
    this.bytesField(field, String.UTF8.encode(s));
  }

  /** Writes a string even when empty (for repeated/map entries where presence matters). */
  stringFieldAlways(field: u32, s: string): void { this.bytesField(field, String.UTF8.encode(s)); }

  messageField(field: u32, message: ProtoWriter): void { this.bytesField(field, message.finish()); }

  finish(): ArrayBuffer {
    const out = new ArrayBuffer(this.bytes.length);
    const view = Uint8Array.wrap(out);
    for (let i = 0; i < this.bytes.length; i++) view[i] = this.bytes[i];
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

  double(): f64 {
    if (this.pos + 8 > this.view.length) { this.failed = true; return 0; }
    const v = load<f64>(this.view.dataStart + <usize>this.pos);
    this.pos += 8;
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
