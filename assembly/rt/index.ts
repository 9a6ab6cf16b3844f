// The filter's runtime (asconfig.json "runtime"): AssemblyScript's two-colour mark & sweep
// collector (~lib/rt/tcms) over a size-class allocator (allocator.ts) instead of TLSF. A request
// allocates and frees the same few object sizes by the hundred; a free list per size makes both
// a handful of instructions and leaves nothing to coalesce or search.
import "./allocator";
import "~lib/rt/tcms";

/** Tells abi/callbacks.ts that nothing collects on its own: it collects between callbacks. */
// @ts-ignore: decorator
@global const FILTER_COLLECTS_BETWEEN_CALLBACKS = true;
