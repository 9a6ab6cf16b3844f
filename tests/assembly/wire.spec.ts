import { ProtoWriter, ProtoReader, WIRE_LEN, WIRE_VARINT } from "../../assembly/proto/wire";

function hex(b: ArrayBuffer): string {
  let out = "";
  const p = changetype<usize>(b);
  for (let i = 0; i < b.byteLength; i++) {
    const v = load<u8>(p + i);
    out += (v < 16 ? "0" : "") + v.toString(16);
  }
  return out;
}

/** The same message written the long way: the body first, then tag, varint length, body. */
function lengthDelimited(field: u32, body: ArrayBuffer): ArrayBuffer {
  const w = new ProtoWriter();
  w.bytesField(field, body);
  return w.finish();
}

describe("ProtoWriter: nested messages in place", () => {
  it("a short body gets a one-byte length", () => {
    const w = new ProtoWriter();
    const m = w.begin(2);
    w.stringField(1, "abc");
    w.end(m);
    expect(hex(w.finish())).toBe("12050a03616263");
  });
  it("bodies of 127, 128, 300 and 20000 bytes: the length grows to 2 and 3 bytes, the body moves", () => {
    const sizes: Array<i32> = [127, 128, 300, 20000];
    for (let s = 0; s < sizes.length; s++) {
      const text = "x".repeat(sizes[s] - 3); // tag, and a 2-byte length for the string itself when ≥ 128
      const inner = new ProtoWriter();
      inner.stringField(1, text);
      const body = inner.finish();
      const w = new ProtoWriter();
      w.uint32Field(1, 7);
      const m = w.begin(5);
      w.stringField(1, text);
      w.end(m);
      w.uint32Field(3, 9);
      const expected = new ProtoWriter();
      expected.uint32Field(1, 7);
      expected.rawBuffer(lengthDelimited(5, body));
      expected.uint32Field(3, 9);
      expect(hex(w.finish())).toBe(hex(expected.finish()));
    }
  });
  it("nesting three deep with a long innermost body", () => {
    const w = new ProtoWriter();
    const a = w.begin(1);
    const b = w.begin(1);
    const c = w.begin(1);
    w.stringField(2, "y".repeat(200));
    w.end(c);
    w.end(b);
    w.end(a);
    const r = new ProtoReader(w.finish());
    let depth = 0;
    while (!r.done && depth < 3) {
      expect(r.tag()).toBe(1);
      expect(r.wire).toBe(WIRE_LEN);
      r.enter();
      depth++;
    }
    expect(r.tag()).toBe(2);
    expect(r.string().length).toBe(200);
    expect(r.failed).toBe(false);
  });
  it("strings of every length band encode as UTF-8 with the right length", () => {
    const w = new ProtoWriter();
    w.stringFieldAlways(1, "");
    w.stringFieldAlways(2, "é😀");
    w.stringFieldAlways(3, "é".repeat(50));
    const r = new ProtoReader(w.finish());
    expect(r.tag()).toBe(1);
    expect(r.string()).toBe("");
    expect(r.tag()).toBe(2);
    expect(r.string()).toBe("é😀");
    expect(r.tag()).toBe(3);
    expect(r.string()).toBe("é".repeat(50));
    expect(r.done).toBe(true);
  });
});

describe("ProtoReader: ranges", () => {
  it("leave() moves past the rest of an entered field; a forgiven failure reads on", () => {
    const w = new ProtoWriter();
    const m = w.begin(1);
    w.uint32Field(1, 5);
    w.uint32Field(2, 6);
    w.end(m);
    const bad = w.begin(2);
    w.tag(15, 7); // wire type 7 does not exist
    w.end(bad);
    w.uint32Field(3, 8);
    const r = new ProtoReader(w.finish());
    expect(r.tag()).toBe(1);
    let outer = r.enter();
    expect(r.tag()).toBe(1);
    expect(<i32>r.varint()).toBe(5);
    r.leave(outer);
    expect(r.tag()).toBe(2);
    outer = r.enter();
    r.tag();
    r.skip();
    expect(r.failed).toBe(true);
    r.leave(outer, false);
    expect(r.failed).toBe(false);
    expect(r.tag()).toBe(3);
    expect(r.wire).toBe(WIRE_VARINT);
    expect(<i32>r.varint()).toBe(8);
    expect(r.done).toBe(true);
  });
  it("a length past the end fails, never reads outside", () => {
    const b = new ArrayBuffer(3);
    store<u8>(changetype<usize>(b), 0x0a);
    store<u8>(changetype<usize>(b) + 1, 0x7f);
    const r = new ProtoReader(b);
    expect(r.tag()).toBe(1);
    r.enter();
    expect(r.failed).toBe(true);
    const r2 = new ProtoReader(b);
    r2.tag();
    expect(r2.string()).toBe("");
    expect(r2.failed).toBe(true);
  });
});
