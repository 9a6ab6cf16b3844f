// The "pairs" encoding used for header maps, gRPC metadata, local-reply headers and map/list
// property values (research/proxy-wasm-abi.md §1.6), all integers u32 little-endian:
//   u32 N, N × (u32 keyLen, u32 valueLen), N × (key bytes 0x00 value bytes 0x00)

export class HeaderPair {
  constructor(public key: string, public value: string) {}
}

/** Raw byte pairs: values of map properties may be binary (8-byte ints, nested maps). */
export class BytePair {
  constructor(public key: ArrayBuffer, public value: ArrayBuffer) {}
}

export function encodePairs(pairs: Array<HeaderPair>): ArrayBuffer {
  const keys = new Array<ArrayBuffer>(pairs.length);
  const values = new Array<ArrayBuffer>(pairs.length);
  let size = 4;
  for (let i = 0; i < pairs.length; i++) {
    keys[i] = String.UTF8.encode(pairs[i].key);
    values[i] = String.UTF8.encode(pairs[i].value);
    size += 8 + keys[i].byteLength + 1 + values[i].byteLength + 1;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>pairs.length);
  let lengths = base + 4;
  let data = base + 4 + 8 * <usize>pairs.length;
  for (let i = 0; i < pairs.length; i++) {
    const keyLen = <usize>keys[i].byteLength;
    const valueLen = <usize>values[i].byteLength;
    store<u32>(lengths, <u32>keyLen);
    store<u32>(lengths + 4, <u32>valueLen);
    lengths += 8;
    memory.copy(data, changetype<usize>(keys[i]), keyLen);
    data += keyLen;
    store<u8>(data++, 0);
    memory.copy(data, changetype<usize>(values[i]), valueLen);
    data += valueLen;
    store<u8>(data++, 0);
  }
  return out;
}

/** Decodes raw pairs; a truncated or inconsistent buffer yields the pairs read so far (never traps). */
export function decodeBytePairs(bytes: ArrayBuffer): Array<BytePair> {
  const result = new Array<BytePair>();
  const size = <usize>bytes.byteLength;
  if (size < 4) return result;
  const base = changetype<usize>(bytes);
  const count = <usize>load<u32>(base);
  if (count > (size - 4) / 8) return result;
  let lengths = base + 4;
  let data = base + 4 + 8 * count;
  const end = base + size;
  for (let i: usize = 0; i < count; i++) {
    const keyLen = <usize>load<u32>(lengths);
    const valueLen = <usize>load<u32>(lengths + 4);
    lengths += 8;
    // Overflow-safe bounds check: each part must fit in what remains.
    if (keyLen > end - data || keyLen + 1 > end - data) break;
    const key = new ArrayBuffer(<i32>keyLen);
    memory.copy(changetype<usize>(key), data, keyLen);
    data += keyLen + 1;
    if (valueLen > end - data || valueLen + 1 > end - data) break;
    const value = new ArrayBuffer(<i32>valueLen);
    memory.copy(changetype<usize>(value), data, valueLen);
    data += valueLen + 1;
    result.push(new BytePair(key, value));
  }
  return result;
}

export function decodePairs(bytes: ArrayBuffer): Array<HeaderPair> {
  const raw = decodeBytePairs(bytes);
  const result = new Array<HeaderPair>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    result[i] = new HeaderPair(String.UTF8.decode(raw[i].key), String.UTF8.decode(raw[i].value));
  }
  return result;
}
