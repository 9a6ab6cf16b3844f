// Guest memory the host writes into. Envoy calls the exported `malloc` from inside host calls
// (e.g. proxy_get_header_map_pairs) and hands the block to us; we copy it into managed memory
// and free the raw block at once, so no host allocation outlives the call that made it.

/** Exported as `malloc`: raw, unmanaged memory the GC never moves or collects. */
export function malloc(size: usize): usize {
  return heap.alloc(size);
}

// Out-slots for host calls that return (pointer, size) or a scalar. Static, so reading them
// never allocates. Single-threaded VM: a slot is read right after the call that filled it.
const slotA: usize = memory.data(8);
const slotB: usize = memory.data(8);

export function outPtr(): usize { return slotA; }
export function outSize(): usize { return slotB; }

/** Clears both slots; Envoy writes 0/0 (and calls no malloc) for empty results. */
export function resetSlots(): void {
  store<u64>(slotA, 0);
  store<u64>(slotB, 0);
}

/**
 * Takes ownership of the block the host returned through the slots: copies it into a managed
 * ArrayBuffer and frees the raw block.
 */
export function takeReturnedBytes(): ArrayBuffer {
  const ptr = load<usize>(slotA);
  const size = load<u32>(slotB);
  const out = new ArrayBuffer(<i32>size);
  if (ptr != 0) {
    if (size > 0) memory.copy(changetype<usize>(out), ptr, size);
    heap.free(ptr);
  }
  return out;
}

export function u32Slot(): u32 { return load<u32>(slotA); }
export function u64Slot(): u64 { return load<u64>(slotA); }

/** UTF-8 bytes of an AssemblyScript (UTF-16) string. */
export function utf8(text: string): ArrayBuffer {
  return String.UTF8.encode(text);
}

export function fromUtf8(bytes: ArrayBuffer): string {
  return String.UTF8.decode(bytes);
}

export function bufferPtr(bytes: ArrayBuffer): usize {
  return changetype<usize>(bytes);
}
