// Guest memory the host writes into. Envoy calls the exported `malloc` from inside host calls
// (e.g. proxy_get_property) and hands the block back through two out-slots. The block is a
// managed ArrayBuffer, pinned until the wrapper that made the call takes it: bytes are then
// used in place (no copy, no second allocation), strings and pairs decoded straight from it.

/** Exported as `malloc`: a pinned ArrayBuffer of `size` bytes (see takeReturnedBytes). */
export function malloc(size: usize): usize {
  if (transientNext) {
    transientNext = false;
    return transientBlock(size);
  }
  return __pin(__new(size, idof<ArrayBuffer>()));
}

// Data the caller reads at once and keeps nothing of (a property value decoded into a CEL value)
// is returned into one reused unmanaged block: no object, no pin, nothing to collect.
let transientNext = false;
let transient: usize = 0;
let transientSize: usize = 0;

function transientBlock(size: usize): usize {
  if (size > transientSize) {
    if (transient != 0) heap.free(transient);
    transientSize = max<usize>(size, 256);
    transient = heap.alloc(transientSize);
  }
  return transient;
}

/** The next host call returns transient data: its first malloc gets the reused block. */
export function expectTransient(): void { transientNext = true; }

/** After that host call: a malloc it did not make is not given to a later one. */
export function endTransient(): void { transientNext = false; }

/** Pointer and size of what the last transient call returned (valid until the next one). */
export function returnedPtr(): usize { return load<usize>(slotA); }
export function returnedSize(): usize { return <usize>load<u32>(slotB); }

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

const EMPTY = new ArrayBuffer(0);

/** The block the host returned through the slots, unpinned and owned by the caller. */
export function takeReturnedBytes(): ArrayBuffer {
  const ptr = load<usize>(slotA);
  if (ptr == 0) return EMPTY;
  __unpin(ptr);
  const block = changetype<ArrayBuffer>(ptr);
  const size = load<u32>(slotB);
  if (<u32>block.byteLength == size) return block;
  // A host that reports fewer bytes than it allocated: keep only what it reported.
  return block.slice(0, min<i32>(<i32>size, block.byteLength));
}

/** The returned block as UTF-8 text. */
export function takeReturnedString(): string {
  const bytes = takeReturnedBytes();
  return decodeUtf8(changetype<usize>(bytes), <usize>bytes.byteLength);
}

/**
 * UTF-8 bytes as a string, exactly as String.UTF8.decodeUnsafe reads them; ASCII (headers,
 * attribute values, JSON keys) is widened straight into a string of the final size.
 */
export function decodeUtf8(ptr: usize, len: usize): string {
  if (len == 0) return "";
  for (let i: usize = 0; i < len; i++) {
    if (load<u8>(ptr + i) >= 0x80) return String.UTF8.decodeUnsafe(ptr, len);
  }
  const out = __new(len << 1, idof<String>());
  for (let i: usize = 0; i < len; i++) store<u16>(out + (i << 1), <u16>load<u8>(ptr + i));
  return changetype<string>(out);
}

/** True when every byte is ASCII: such bytes compare, and encode back, as the string they decode to. */
export function isAscii(ptr: usize, len: usize): bool {
  for (let i: usize = 0; i < len; i++) if (load<u8>(ptr + i) >= 0x80) return false;
  return true;
}

/** ASCII bytes equal to `s` (false when `s` is not ASCII). */
export function asciiEquals(ptr: usize, len: usize, s: string): bool {
  if (<usize>s.length != len) return false;
  const p = changetype<usize>(s);
  for (let i: usize = 0; i < len; i++) if (<u16>load<u8>(ptr + i) != load<u16>(p + (i << 1))) return false;
  return true;
}

/** After a failed call: a block the host may have allocated anyway becomes garbage. */
export function releaseReturned(): void {
  const ptr = load<usize>(slotA);
  if (ptr != 0) __unpin(ptr);
  store<u64>(slotA, 0);
}

// Strings going out to a host call are encoded into one reused buffer (unmanaged, never
// collected): the host copies what it keeps before the call returns.
let scratch: usize = 0;
let scratchSize: usize = 0;

/** At least `size` bytes, valid until the next scratchBuffer call. */
export function scratchBuffer(size: usize): usize {
  if (size > scratchSize) {
    if (scratch != 0) heap.free(scratch);
    scratchSize = max<usize>(size, 512);
    scratch = heap.alloc(scratchSize);
  }
  return scratch;
}

/** Encodes `text` as UTF-8 at `at`; returns the byte count. */
export function writeUtf8(text: string, at: usize): usize {
  return encodeUtf8(changetype<usize>(text), text.length, at);
}

/**
 * `len` UTF-16 units at `ptr` as UTF-8 at `at`, exactly as String.UTF8.encodeUnsafe writes them;
 * the ASCII run (nearly everything a filter sends) is narrowed in a plain loop.
 */
export function encodeUtf8(ptr: usize, len: i32, at: usize): usize {
  for (let i = 0; i < len; i++) {
    const c = load<u16>(ptr + (<usize>i << 1));
    if (c >= 0x80) return <usize>i + String.UTF8.encodeUnsafe(ptr + (<usize>i << 1), len - i, at + <usize>i);
    store<u8>(at + <usize>i, <u8>c);
  }
  return <usize>len;
}

export function utf8Size(text: string): usize {
  const p = changetype<usize>(text);
  const n = text.length;
  for (let i = 0; i < n; i++) if (load<u16>(p + (<usize>i << 1)) >= 0x80) return <usize>String.UTF8.byteLength(text);
  return <usize>n;
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
