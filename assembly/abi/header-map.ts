// A header map as Envoy returns it (the pairs encoding of pairs.ts), read in place: lookups
// compare bytes, and strings are made only for what is read. When every byte is ASCII (nearly
// always), bytes compare and encode exactly as the strings they decode to; otherwise callers use
// pairs(), the decoded strings, so the outcome never depends on which way was taken.
import { HeaderPair } from "./pairs";
import { decodeUtf8, isAscii, asciiEquals } from "./memory";

const EMPTY = new ArrayBuffer(0);

export class HeaderMap {
  /** Offsets from the start of `bytes`, 4 per pair: key, key length, value, value length. */
  private index: StaticArray<u32>;
  readonly count: i32;
  /** Every key and value byte is ASCII. */
  readonly ascii: bool;
  private decoded: Array<HeaderPair> | null = null;

  static empty(): HeaderMap { return new HeaderMap(EMPTY); }

  constructor(readonly bytes: ArrayBuffer) {
    const base = changetype<usize>(bytes);
    const size = <usize>bytes.byteLength;
    // A truncated or inconsistent buffer yields the pairs read so far (never traps), as decodePairs.
    let count: usize = 0;
    if (size >= 4) {
      count = <usize>load<u32>(base);
      if (count > (size - 4) / 8) count = 0;
    }
    const index = new StaticArray<u32>(<i32>count * 4);
    let lengths = base + 4;
    let data = base + 4 + 8 * count;
    const end = base + size;
    let valid: usize = 0;
    let ascii = true;
    for (let i: usize = 0; i < count; i++) {
      const keyLen = <usize>load<u32>(lengths);
      const valueLen = <usize>load<u32>(lengths + 4);
      lengths += 8;
      if (keyLen > end - data || keyLen + 1 > end - data) break;
      const key = data;
      data += keyLen + 1;
      if (valueLen > end - data || valueLen + 1 > end - data) break;
      unchecked(index[<i32>valid * 4] = <u32>(key - base));
      unchecked(index[<i32>valid * 4 + 1] = <u32>keyLen);
      unchecked(index[<i32>valid * 4 + 2] = <u32>(data - base));
      unchecked(index[<i32>valid * 4 + 3] = <u32>valueLen);
      if (ascii && !(isAscii(key, keyLen) && isAscii(data, valueLen))) ascii = false;
      data += valueLen + 1;
      valid++;
    }
    this.index = index;
    this.count = <i32>valid;
    this.ascii = ascii;
  }

  keyPtr(i: i32): usize { return changetype<usize>(this.bytes) + <usize>unchecked(this.index[i * 4]); }
  keyLength(i: i32): usize { return <usize>unchecked(this.index[i * 4 + 1]); }
  valuePtr(i: i32): usize { return changetype<usize>(this.bytes) + <usize>unchecked(this.index[i * 4 + 2]); }
  valueLength(i: i32): usize { return <usize>unchecked(this.index[i * 4 + 3]); }

  key(i: i32): string { return decodeUtf8(this.keyPtr(i), this.keyLength(i)); }
  value(i: i32): string { return decodeUtf8(this.valuePtr(i), this.valueLength(i)); }

  /** Whether pair i's key is `name` (exactly, as decoded). */
  keyIs(i: i32, name: string): bool {
    if (this.ascii) return asciiEquals(this.keyPtr(i), this.keyLength(i), name);
    return this.key(i) == name;
  }

  /** Whether pairs i and j have the same key (exactly, as decoded). */
  sameKey(i: i32, j: i32): bool {
    if (!this.ascii) return this.key(i) == this.key(j);
    const n = this.keyLength(i);
    return n == this.keyLength(j) && memory.compare(this.keyPtr(i), this.keyPtr(j), n) == 0;
  }

  /** The first value of `name`, or "" when absent (as a header lookup by exact name). */
  get(name: string): string {
    for (let i = 0; i < this.count; i++) if (this.keyIs(i, name)) return this.value(i);
    return "";
  }

  /** Every pair, decoded (made once). */
  pairs(): Array<HeaderPair> {
    let out = this.decoded;
    if (out === null) {
      out = new Array<HeaderPair>(this.count);
      for (let i = 0; i < this.count; i++) unchecked(out[i] = new HeaderPair(this.key(i), this.value(i)));
      this.decoded = out;
    }
    return out;
  }

  /**
   * The values of every header whose lowercased key is `lowercaseName`, joined with "," in order
   * (a CEL `request.headers[name]`), or null when none; ASCII maps only.
   */
  lowercaseJoined(lowercaseName: string): string | null {
    const n = <usize>lowercaseName.length;
    const name = changetype<usize>(lowercaseName);
    let out: string | null = null;
    for (let i = 0; i < this.count; i++) {
      if (this.keyLength(i) != n) continue;
      const key = this.keyPtr(i);
      let same = true;
      for (let k: usize = 0; k < n; k++) {
        let c = <u16>load<u8>(key + k);
        if (c >= 65 && c <= 90) c += 32;
        if (c != load<u16>(name + (k << 1))) { same = false; break; }
      }
      if (!same) continue;
      const v = this.value(i);
      out = out === null ? v : out + "," + v;
    }
    return out;
  }
}
