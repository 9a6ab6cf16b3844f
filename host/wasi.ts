// The WASI functions Envoy registers (research/proxy-wasm-abi.md §1.4): stdout/stderr become
// log lines, clocks and randomness work, files do not, and proc_exit returns instead of exiting.
import { randomFillSync } from "node:crypto";
import type { GuestMemory } from "./guest-memory.js";

export function wasiImports(mem: GuestMemory, log: (level: number, message: string) => void, clockNs: () => bigint): Record<string, (...args: any[]) => any> {
  return {
    fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number) => {
      if (fd !== 1 && fd !== 2) return 8;
      const view = new DataView(mem.bytes().buffer);
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < iovsLen; i++) {
        const ptr = view.getUint32(iovs + i * 8, true), len = view.getUint32(iovs + i * 8 + 4, true);
        const b = mem.read(ptr, len);
        if (b === null) return 21;
        chunks.push(b);
      }
      const text = Buffer.concat(chunks);
      mem.writeU32(nwritten, text.length);
      log(fd === 1 ? 2 : 4, text.toString("utf8").replace(/\n$/, ""));
      return 0;
    },
    fd_read: () => 52,
    fd_seek: () => 29,
    fd_close: () => 0,
    fd_fdstat_get: (fd: number, ptr: number) => {
      if (fd !== 1 && fd !== 2) return 8;
      const out = new Uint8Array(24); out[0] = 2; // character device
      if (!mem.inBounds(ptr >>> 0, 24)) return 21;
      mem.bytes().set(out, ptr >>> 0);
      return 0;
    },
    fd_fdstat_set_flags: () => 52,
    fd_prestat_get: () => 8,
    fd_prestat_dir_name: () => 52,
    fd_filestat_get: () => 52,
    path_open: () => 44,
    environ_get: () => 0,
    environ_sizes_get: (count: number, size: number) => (mem.writeU32(count, 0) && mem.writeU32(size, 0) ? 0 : 21),
    args_get: () => 0,
    args_sizes_get: (count: number, size: number) => (mem.writeU32(count, 0) && mem.writeU32(size, 0) ? 0 : 21),
    clock_time_get: (id: number, _precision: bigint, ret: number) => {
      if (id === 0) return mem.writeU64(ret, clockNs()) ? 0 : 21;
      if (id === 1) return mem.writeU64(ret, process.hrtime.bigint()) ? 0 : 21;
      return 58;
    },
    clock_res_get: (_id: number, ret: number) => (mem.writeU64(ret, 1n) ? 0 : 21),
    random_get: (ptr: number, len: number) => {
      if (!mem.inBounds(ptr >>> 0, len >>> 0)) return 21;
      randomFillSync(mem.bytes(), ptr >>> 0, len >>> 0);
      return 0;
    },
    // Envoy logs and returns: proc_exit does not stop the guest.
    proc_exit: () => { log(4, "wasi_unstable proc_exit"); },
    sched_yield: () => 0,
    poll_oneoff: () => 52,
  };
}
