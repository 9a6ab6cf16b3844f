import { HeaderPair, encodePairs, encodePair, decodePairs, decodeBytePairs } from "../../assembly/abi/pairs";

function bytes(values: Array<u8>): ArrayBuffer {
  const out = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(out) + i, values[i]);
  return out;
}

function toArray(buffer: ArrayBuffer): Array<u8> {
  const out = new Array<u8>(buffer.byteLength);
  for (let i = 0; i < buffer.byteLength; i++) out[i] = load<u8>(changetype<usize>(buffer) + i);
  return out;
}

describe("pairs codec", () => {
  it("encodes the spec's example byte for byte", () => {
    const encoded = encodePairs([new HeaderPair("a", "1"), new HeaderPair("b", "22")]);
    expect(toArray(encoded)).toStrictEqual([
      2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
      0x61, 0, 0x31, 0, 0x62, 0, 0x32, 0x32, 0,
    ]);
  });

  it("round-trips UTF-8 and empty values", () => {
    const decoded = decodePairs(encodePairs([new HeaderPair("x-user", "zoë"), new HeaderPair("empty", "")]));
    expect(decoded.length).toBe(2);
    expect(decoded[0].key).toBe("x-user");
    expect(decoded[0].value).toBe("zoë");
    expect(decoded[1].value).toBe("");
  });

  it("encodes an empty list as a zero count", () => {
    expect(toArray(encodePairs([]))).toStrictEqual([0, 0, 0, 0]);
  });

  it("never reads past a truncated buffer", () => {
    const full = encodePairs([new HeaderPair("key", "value")]);
    const cut = full.slice(0, full.byteLength - 3);
    expect(decodeBytePairs(cut).length).toBe(0);
  });

  it("rejects a count larger than the buffer could hold", () => {
    expect(decodeBytePairs(bytes([255, 255, 255, 127, 0, 0, 0, 0])).length).toBe(0);
  });

  it("survives lengths that would overflow a pointer", () => {
    expect(decodeBytePairs(bytes([1, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0])).length).toBe(0);
  });

  it("keeps binary values intact (map properties carry 8-byte ints)", () => {
    const raw = bytes([1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x6b, 0, 0xff, 0x00, 0]);
    const pairs = decodeBytePairs(raw);
    expect(pairs.length).toBe(1);
    expect(toArray(pairs[0].value)).toStrictEqual([0xff, 0x00]);
  });
});

describe("encodePair", () => {
  it("is encodePairs of one pair", () => {
    expect(toArray(encodePair("x-request-id", "zoë-1"))).toStrictEqual(toArray(encodePairs([new HeaderPair("x-request-id", "zoë-1")])));
    expect(toArray(encodePair("", ""))).toStrictEqual(toArray(encodePairs([new HeaderPair("", "")])));
  });
});
