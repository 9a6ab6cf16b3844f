import { encodePropertyPath, decodeI64, decodeF64, decodeBool } from "../../assembly/abi/property";

function toArray(buffer: ArrayBuffer): Array<u8> {
  const out = new Array<u8>(buffer.byteLength);
  for (let i = 0; i < buffer.byteLength; i++) out[i] = load<u8>(changetype<usize>(buffer) + i);
  return out;
}

describe("property paths", () => {
  it("joins segments with one NUL and keeps dots literal", () => {
    const path = encodePropertyPath(["metadata", "filter_metadata", "envoy.filters.http.ext_authz"]);
    expect(String.UTF8.decode(path)).toBe("metadata\0filter_metadata\0envoy.filters.http.ext_authz");
  });

  it("encodes a single segment without a terminator", () => {
    expect(toArray(encodePropertyPath(["ab"]))).toStrictEqual([0x61, 0x62]);
  });
});

describe("property values", () => {
  it("decodes int64 little-endian (source.port 45000)", () => {
    const b = new ArrayBuffer(8);
    store<u64>(changetype<usize>(b), 45000);
    expect(decodeI64(b)).toBe(45000);
  });

  it("decodes a double (JSON numbers in Struct metadata)", () => {
    const b = new ArrayBuffer(8);
    store<f64>(changetype<usize>(b), 3.0);
    expect(decodeF64(b)).toBe(3.0);
  });

  it("decodes a bool from its low bit", () => {
    const t = new ArrayBuffer(1);
    store<u8>(changetype<usize>(t), 1);
    expect(decodeBool(t)).toBe(true);
    expect(decodeBool(new ArrayBuffer(0))).toBe(false);
  });
});
