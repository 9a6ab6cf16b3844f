// A size-class allocator: __alloc, __realloc and __free for the collector (~lib/rt/tcms) and
// heap.*. Sizes up to 1 KiB come in 16-byte steps, larger ones in powers of two; each class has a
// free list, and fresh blocks are carved from the top of the heap (memory.grow when it runs out).
// Freed blocks stay in their class: memory is bounded by the most ever live per class, and a
// request's garbage is reused by the next request's allocations of the same sizes.
//
// Block layout, as the collector expects (~lib/rt/common.ts): a u32 header (the usable size;
// low two bits zero) right before a 16-byte aligned payload. Memory comes back zeroed: with a
// custom runtime the standard library assumes __new and __renew zero what they hand out.
import { BLOCK_MAXSIZE } from "~lib/rt/common";
import { E_ALLOCATION_TOO_LARGE } from "~lib/util/error";
import { proxy_log } from "../abi/imports";
import { LogLevel } from "../abi/enums";

/** Said before trapping when linear memory cannot grow: static UTF-8 bytes, since nothing can be allocated then. */
const OUT_OF_MEMORY = "filter: out of memory (linear memory cannot grow)";
const OUT_OF_MEMORY_BYTES = memory.data<u8>([102, 105, 108, 116, 101, 114, 58, 32, 111, 117, 116, 32, 111, 102, 32, 109, 101, 109, 111, 114, 121, 32, 40, 108, 105, 110, 101, 97, 114, 32, 109, 101, 109, 111, 114, 121, 32, 99, 97, 110, 110, 111, 116, 32, 103, 114, 111, 119, 41]);

// @ts-ignore: decorator
@inline const SMALL_STEP_BITS: usize = 4;
// @ts-ignore: decorator
@inline const SMALL_LIMIT: usize = 1024;
// @ts-ignore: decorator
@inline const SMALL_CLASSES: usize = SMALL_LIMIT >> SMALL_STEP_BITS; // 64: sizes 16 … 1024
// @ts-ignore: decorator
@inline const CLASSES: usize = SMALL_CLASSES + 21; // then 2 KiB … 1 GiB

/** Bytes handed out so far (block sizes, never decreases): abi/callbacks.ts collects by it. */
let allocated: usize = 0;

// @ts-ignore: decorator
@global @inline
export function filterAllocatedBytes(): usize { return allocated; }

/** Free list heads by class (payload pointers; a free block's first word links to the next). */
const heads: usize = memory.data(<i32>(CLASSES << alignof<usize>()));
/** The next block's payload address when carving fresh memory (0: not started). */
let top: usize = 0;

function classOf(size: usize): usize {
  if (size <= SMALL_LIMIT) return size <= 16 ? 0 : ((size + 15) >> SMALL_STEP_BITS) - 1;
  return SMALL_CLASSES + (<usize>(31 - clz<u32>(<u32>(size - 1))) - 10); // 2^11 → SMALL_CLASSES + 0
}

function classSize(cls: usize): usize {
  return cls < SMALL_CLASSES ? (cls + 1) << SMALL_STEP_BITS : <usize>1 << (cls - SMALL_CLASSES + 11);
}

/** A fresh block of `size` usable bytes from the top of the heap. */
function carve(size: usize): usize {
  let p = top;
  if (p == 0) p = ((__heap_base + 4 + 15) & ~15); // room for the first header below a 16-aligned payload
  const next = p + size + 16; // the next payload, its header in the last 4 bytes before it
  const needed = (next + 0xFFFF) >>> 16;
  const pages = <usize>memory.size();
  if (needed > pages) {
    const grow = max(needed - pages, pages); // at least double, as TLSF does
    if (memory.grow(<i32>grow) < 0 && memory.grow(<i32>(needed - pages)) < 0) {
      proxy_log(LogLevel.Critical, OUT_OF_MEMORY_BYTES, <usize>OUT_OF_MEMORY.length);
      unreachable();
    }
  }
  top = next;
  store<u32>(p - 4, <u32>size);
  return p;
}

// @ts-ignore: decorator
@global @unsafe
export function __alloc(size: usize): usize {
  if (size > BLOCK_MAXSIZE) throw new Error(E_ALLOCATION_TOO_LARGE);
  const cls = classOf(size);
  const head = heads + (cls << alignof<usize>());
  const p = load<usize>(head);
  const usable = classSize(cls);
  allocated += usable;
  if (p == 0) return carve(usable); // fresh memory is zero
  store<usize>(head, load<usize>(p));
  memory.fill(p, 0, usable);
  return p;
}

// @ts-ignore: decorator
@global @unsafe
export function __realloc(ptr: usize, size: usize): usize {
  const usable = <usize>load<u32>(ptr - 4);
  if (size <= usable) return ptr; // shrinking or within the block: in place (the tail is already zero or live data)
  const next = __alloc(size);
  memory.copy(next, ptr, usable);
  __free(ptr);
  return next;
}

// @ts-ignore: decorator
@global @unsafe
export function __free(ptr: usize): void {
  if (ptr < __heap_base) return;
  const head = heads + (classOf(<usize>load<u32>(ptr - 4)) << alignof<usize>());
  store<usize>(ptr, load<usize>(head));
  store<usize>(head, ptr);
}
