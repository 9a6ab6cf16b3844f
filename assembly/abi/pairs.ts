// The "pairs" encoding used for header maps, gRPC metadata, local-reply headers and map/list
// property values (research/proxy-wasm-abi.md §1.6), all integers u32 little-endian:
//   u32 N, N × (u32 keyLen, u32 valueLen), N × (key bytes 0x00 value bytes 0x00)

import { encodeUtf8, utf8Size } from "./memory";

export class HeaderPair {
  constructor(public key: string, public value: string) {}
}

/** Raw byte pairs: values of map properties may be binary (8-byte ints, nested maps). */
export class BytePair {
  constructor(public key: ArrayBuffer, public value: ArrayBuffer) {}
}

export function encodePairs(pairs: Array<HeaderPair>): ArrayBuffer {
  const out = new ArrayBuffer(<i32>pairsSize(pairs));
  writePairs(pairs, changetype<usize>(out));
  return out;
}

/** The encoding of one pair, made without a pair object. */
export function encodePair(key: string, value: string): ArrayBuffer {
  const k = utf8Size(key), v = utf8Size(value);
  const out = new ArrayBuffer(<i32>(<usize>14 + k + v));
  const base = changetype<usize>(out);
  store<u32>(base, 1);
  store<u32>(base + 4, <u32>k);
  store<u32>(base + 8, <u32>v);
  encodeUtf8(changetype<usize>(key), key.length, base + 12);
  store<u8>(base + 12 + k, 0);
  encodeUtf8(changetype<usize>(value), value.length, base + 13 + k);
  store<u8>(base + 13 + k + v, 0);
  return out;
}

/** Bytes of the encoding of `pairs`. */
export function pairsSize(pairs: Array<HeaderPair>): usize {
  let size: usize = 4 + 8 * <usize>pairs.length;
  for (let i = 0; i < pairs.length; i++) {
    size += utf8Size(pairs[i].key) + utf8Size(pairs[i].value) + 2;
  }
  return size;
}

/** Encodes `pairs` at `base` (pairsSize(pairs) bytes). */
export function writePairs(pairs: Array<HeaderPair>, base: usize): void {
  store<u32>(base, <u32>pairs.length);
  let lengths = base + 4;
  let data = base + 4 + 8 * <usize>pairs.length;
  for (let i = 0; i < pairs.length; i++) {
    const key = pairs[i].key, value = pairs[i].value;
    const keyLen = encodeUtf8(changetype<usize>(key), key.length, data);
    data += keyLen;
    store<u8>(data++, 0);
    const valueLen = encodeUtf8(changetype<usize>(value), value.length, data);
    data += valueLen;
    store<u8>(data++, 0);
    store<u32>(lengths, <u32>keyLen);
    store<u32>(lengths + 4, <u32>valueLen);
    lengths += 8;
  }
}

/**
 * Walks the pairs in `size` bytes at `base`, calling `take(keyPtr, keyLen, valuePtr, valueLen)`;
 * a truncated or inconsistent buffer ends the walk after the pairs read so far (never traps).
 */
function walkPairs<T>(base: usize, size: usize, take: (key: usize, keyLen: usize, value: usize, valueLen: usize, into: T) => void, into: T): void {
  if (size < 4) return;
  const count = <usize>load<u32>(base);
  if (count > (size - 4) / 8) return;
  let lengths = base + 4;
  let data = base + 4 + 8 * count;
  const end = base + size;
  for (let i: usize = 0; i < count; i++) {
    const keyLen = <usize>load<u32>(lengths);
    const valueLen = <usize>load<u32>(lengths + 4);
    lengths += 8;
    // Overflow-safe bounds check: each part must fit in what remains.
    if (keyLen > end - data || keyLen + 1 > end - data) break;
    const key = data;
    data += keyLen + 1;
    if (valueLen > end - data || valueLen + 1 > end - data) break;
    take(key, keyLen, data, valueLen, into);
    data += valueLen + 1;
  }
}

/** Decodes raw pairs; a truncated or inconsistent buffer yields the pairs read so far (never traps). */
export function decodeBytePairs(bytes: ArrayBuffer): Array<BytePair> {
  const result = new Array<BytePair>();
  walkPairs<Array<BytePair>>(changetype<usize>(bytes), <usize>bytes.byteLength, (key: usize, keyLen: usize, value: usize, valueLen: usize, into: Array<BytePair>): void => {
    const k = new ArrayBuffer(<i32>keyLen);
    memory.copy(changetype<usize>(k), key, keyLen);
    const v = new ArrayBuffer(<i32>valueLen);
    memory.copy(changetype<usize>(v), value, valueLen);
    into.push(new BytePair(k, v));
  }, result);
  return result;
}

/** Decodes string pairs straight from the encoded bytes (UTF-8 → strings, no intermediate copies). */
export function decodePairs(bytes: ArrayBuffer): Array<HeaderPair> {
  const result = new Array<HeaderPair>();
  walkPairs<Array<HeaderPair>>(changetype<usize>(bytes), <usize>bytes.byteLength, (key: usize, keyLen: usize, value: usize, valueLen: usize, into: Array<HeaderPair>): void => {
    into.push(new HeaderPair(String.UTF8.decodeUnsafe(key, keyLen), String.UTF8.decodeUnsafe(value, valueLen)));
  }, result);
  return result;
}
