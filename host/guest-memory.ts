// Bounds-checked access to a guest's linear memory, and Envoy's way of returning data to the
// guest: allocate with the guest's own malloc (a restricted phase), copy, write pointer and size.
// Views are cached: memory.grow detaches the old buffer, and a view of a detached buffer has
// length 0, which is the signal to re-derive them (cheaper than reading memory.buffer per call).
import { WasmResult } from "./envoy-abi.js";

export class GuestMemory {
  private u8 = new Uint8Array(0);
  private view = new DataView(new ArrayBuffer(0));
  private buf = Buffer.alloc(0);

  /** `allocate` runs the guest's malloc; views are re-derived after it (it may grow memory). */
  constructor(private readonly memory: () => WebAssembly.Memory, private readonly allocate: (size: number) => number) {}

  private refresh(): void {
    if (this.u8.length !== 0) return;
    const buffer = this.memory().buffer;
    this.u8 = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.buf = Buffer.from(buffer);
  }

  bytes(): Uint8Array { this.refresh(); return this.u8; }

  inBounds(ptr: number, len: number): boolean {
    this.refresh();
    return ptr >= 0 && len >= 0 && ptr + len <= this.u8.length;
  }

  /** A copy of guest bytes (the guest may reuse its memory as soon as the call returns). */
  read(ptr: number, len: number): Uint8Array | null {
    ptr >>>= 0; len >>>= 0;
    if (!this.inBounds(ptr, len)) return null;
    return this.u8.slice(ptr, ptr + len);
  }

  readString(ptr: number, len: number): string | null {
    ptr >>>= 0; len >>>= 0;
    if (!this.inBounds(ptr, len)) return null;
    return this.buf.toString("utf8", ptr, ptr + len);
  }

  writeU32(ptr: number, value: number): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 4)) return false;
    this.view.setUint32(ptr, value >>> 0, true);
    return true;
  }

  writeU64(ptr: number, value: bigint): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 8)) return false;
    this.view.setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  /** Copies bytes into a fresh guest allocation and writes (ptr, size); empty → (0, 0) with no malloc. */
  copyOut(bytes: Uint8Array, retPtrPtr: number, retSizePtr: number): number {
    if (bytes.length === 0) return this.returnEmpty(retPtrPtr, retSizePtr);
    const ptr = this.allocateFor(bytes.length);
    if (ptr === 0) return WasmResult.InvalidMemoryAccess;
    this.u8.set(bytes, ptr);
    return this.returnBlock(ptr, bytes.length, retPtrPtr, retSizePtr);
  }

  /** copyOut of a string, encoded as UTF-8 straight into the guest allocation. */
  copyOutString(text: string, retPtrPtr: number, retSizePtr: number): number {
    const size = Buffer.byteLength(text, "utf8");
    if (size === 0) return this.returnEmpty(retPtrPtr, retSizePtr);
    const ptr = this.allocateFor(size);
    if (ptr === 0) return WasmResult.InvalidMemoryAccess;
    this.buf.write(text, ptr, size, "utf8");
    return this.returnBlock(ptr, size, retPtrPtr, retSizePtr);
  }

  /** copyOut of string pairs in the proxy-wasm pairs encoding, written straight into the guest. */
  copyOutPairs(pairs: Array<[string, string]>, retPtrPtr: number, retSizePtr: number): number {
    if (pairs.length === 0) return this.returnEmpty(retPtrPtr, retSizePtr);
    const lengths = new Array<number>(pairs.length * 2);
    let size = 4 + 8 * pairs.length;
    for (let i = 0; i < pairs.length; i++) {
      lengths[2 * i] = utf8Length(pairs[i][0]);
      lengths[2 * i + 1] = utf8Length(pairs[i][1]);
      size += lengths[2 * i] + lengths[2 * i + 1] + 2;
    }
    const ptr = this.allocateFor(size);
    if (ptr === 0) return WasmResult.InvalidMemoryAccess;
    const { view, buf } = this;
    view.setUint32(ptr, pairs.length, true);
    let data = ptr + 4 + 8 * pairs.length;
    for (let i = 0; i < pairs.length; i++) {
      const kl = lengths[2 * i], vl = lengths[2 * i + 1];
      view.setUint32(ptr + 4 + 8 * i, kl, true);
      view.setUint32(ptr + 8 + 8 * i, vl, true);
      writeUtf8(buf, pairs[i][0], data, kl); data += kl; buf[data++] = 0;
      writeUtf8(buf, pairs[i][1], data, vl); data += vl; buf[data++] = 0;
    }
    return this.returnBlock(ptr, size, retPtrPtr, retSizePtr);
  }

  private returnEmpty(retPtrPtr: number, retSizePtr: number): number {
    return this.writeU32(retPtrPtr, 0) && this.writeU32(retSizePtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  }

  /** Guest malloc; 0 when it fails or hands back memory out of bounds. Views are fresh after it. */
  private allocateFor(size: number): number {
    const ptr = this.allocate(size) >>> 0;
    return ptr !== 0 && this.inBounds(ptr, size) ? ptr : 0;
  }

  private returnBlock(ptr: number, size: number, retPtrPtr: number, retSizePtr: number): number {
    return this.writeU32(retPtrPtr, ptr) && this.writeU32(retSizePtr, size) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  }
}

// Header names and values are short and almost always ASCII: a loop beats a native call per string.
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text, "utf8");
  return text.length;
}

function writeUtf8(buf: Buffer, text: string, at: number, size: number): void {
  if (size !== text.length) { buf.write(text, at, size, "utf8"); return; }
  for (let i = 0; i < size; i++) buf[at + i] = text.charCodeAt(i);
}
