// Bounds-checked access to a guest's linear memory, and Envoy's way of returning data to the
// guest: allocate with the guest's own malloc (a restricted phase), copy, write pointer and size.
import { WasmResult } from "./envoy-abi.js";

export class GuestMemory {
  /** `allocate` runs the guest's malloc; views are re-derived after it (it may grow memory). */
  constructor(private readonly memory: () => WebAssembly.Memory, private readonly allocate: (size: number) => number) {}

  bytes(): Uint8Array { return new Uint8Array(this.memory().buffer); }

  inBounds(ptr: number, len: number): boolean {
    return ptr >= 0 && len >= 0 && ptr + len <= this.memory().buffer.byteLength;
  }

  read(ptr: number, len: number): Uint8Array | null {
    ptr >>>= 0; len >>>= 0;
    if (!this.inBounds(ptr, len)) return null;
    return this.bytes().slice(ptr, ptr + len);
  }

  readString(ptr: number, len: number): string | null {
    const b = this.read(ptr, len);
    return b === null ? null : Buffer.from(b).toString("utf8");
  }

  writeU32(ptr: number, value: number): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 4)) return false;
    new DataView(this.memory().buffer).setUint32(ptr, value >>> 0, true);
    return true;
  }

  writeU64(ptr: number, value: bigint): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 8)) return false;
    new DataView(this.memory().buffer).setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  /** Copies bytes into a fresh guest allocation and writes (ptr, size); empty → (0, 0) with no malloc. */
  copyOut(bytes: Uint8Array, retPtrPtr: number, retSizePtr: number): number {
    if (bytes.length === 0) {
      return this.writeU32(retPtrPtr, 0) && this.writeU32(retSizePtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    }
    const ptr = this.allocate(bytes.length) >>> 0;
    if (ptr === 0 || !this.inBounds(ptr, bytes.length)) return WasmResult.InvalidMemoryAccess;
    this.bytes().set(bytes, ptr);
    return this.writeU32(retPtrPtr, ptr) && this.writeU32(retSizePtr, bytes.length) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  }
}
