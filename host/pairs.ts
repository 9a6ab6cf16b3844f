// The proxy-wasm "pairs" encoding (research/proxy-wasm-abi.md §1.6), host side.

export type HeaderList = Array<[string, string]>;

export function encodePairs(pairs: Array<[Uint8Array | string, Uint8Array | string]>): Uint8Array {
  const bytes = pairs.map(([k, v]) => [toBytes(k), toBytes(v)] as const);
  const size = 4 + bytes.reduce((sum, [k, v]) => sum + 8 + k.length + 1 + v.length + 1, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, bytes.length, true);
  let lengths = 4;
  let data = 4 + 8 * bytes.length;
  for (const [k, v] of bytes) {
    view.setUint32(lengths, k.length, true);
    view.setUint32(lengths + 4, v.length, true);
    lengths += 8;
    out.set(k, data); data += k.length + 1;
    out.set(v, data); data += v.length + 1;
  }
  return out;
}

/** Envoy treats short or inconsistent input as "no pairs" and caps at 1 MiB / 1024 pairs. */
export function decodePairs(bytes: Uint8Array): HeaderList {
  const raw = decodeRawPairs(bytes);
  return raw.map(([k, v]) => [Buffer.from(k).toString("utf8"), Buffer.from(v).toString("utf8")]);
}

export function decodeRawPairs(bytes: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  if (bytes.length < 4 || bytes.length > 1 << 20) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (count > 1024 || 4 + count * 8 > bytes.length) return [];
  const out: Array<[Uint8Array, Uint8Array]> = [];
  let data = 4 + count * 8;
  for (let i = 0; i < count; i++) {
    const kl = view.getUint32(4 + i * 8, true);
    const vl = view.getUint32(8 + i * 8, true);
    if (data + kl + 1 + vl + 1 > bytes.length) return [];
    const k = bytes.subarray(data, data + kl); data += kl + 1;
    const v = bytes.subarray(data, data + vl); data += vl + 1;
    out.push([k, v]);
  }
  return out;
}

function toBytes(x: Uint8Array | string): Uint8Array {
  return typeof x === "string" ? Buffer.from(x, "utf8") : x;
}
