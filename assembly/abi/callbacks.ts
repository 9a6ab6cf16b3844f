// What happens around every callback Envoy makes into the filter (exports.ts brackets each one):
// a top-level callback starts a new epoch (hostcalls.ts reads the clock once per epoch: a
// callback takes microseconds, the filter's timings are milliseconds), and garbage is collected
// as a top-level callback returns to the host, when nothing collects on its own: with the
// filter's runtime (assembly/rt) once COLLECT_AFTER_BYTES have been allocated since the last
// collection, with `--runtime minimal` every COLLECT_EVERY top-level callbacks. The wasm stack is
// empty there, so every live object is reachable from globals (contexts, configuration). A
// callback the host makes from inside a host call (depth > 1) never collects. With
// `--runtime incremental` the runtime collects on its own; `stub` never frees.
import { Runtime } from "shared/runtime";

/** Top-level callbacks between two collections with `--runtime minimal` (~20 MaaS requests). */
// @ts-ignore: decorator
@inline const COLLECT_EVERY: u32 = isDefined(FILTER_GC_EVERY) ? FILTER_GC_EVERY : 256;

/**
 * Bytes allocated between two collections with the filter's runtime: a collection marks the whole
 * configuration, so it is worth doing once enough garbage is there, not after a number of
 * callbacks that allocated little. bench:variants chose it; memory stays flat (live + this).
 */
// @ts-ignore: decorator
@inline const COLLECT_AFTER_BYTES: usize = isDefined(FILTER_GC_BYTES) ? FILTER_GC_BYTES : 512 << 10;

/** The filter's runtime counts the bytes it hands out (FILTER_GC_EVERY forces the callback count, for comparisons). */
// @ts-ignore: decorator
@inline const BY_BYTES: bool = isDefined(filterAllocatedBytes) && !isDefined(FILTER_GC_EVERY);

/** The runtime leaves collection to us: `minimal`, or the filter's own (assembly/rt). */
// @ts-ignore: decorator
@inline const COLLECTS: bool = ASC_RUNTIME == Runtime.Minimal || isDefined(FILTER_COLLECTS_BETWEEN_CALLBACKS);

let depth: u32 = 0;
let sinceCollect: u32 = 0;
let allocatedAtCollect: usize = 0;
/** Counts top-level callbacks; what is cached "for this callback" is keyed by it. */
export let callbackEpoch: u32 = 0;

// @ts-ignore: decorator
@inline export function enterCallback(): void {
  if (depth++ == 0) callbackEpoch++;
}

// @ts-ignore: decorator
@inline export function leaveCallback(): void {
  if (--depth != 0 || !COLLECTS) return;
  if (BY_BYTES) {
    const allocated = filterAllocatedBytes();
    if (allocated - allocatedAtCollect < COLLECT_AFTER_BYTES) return;
    allocatedAtCollect = allocated;
    __collect();
  } else if (++sinceCollect >= COLLECT_EVERY) {
    sinceCollect = 0;
    __collect();
  }
}
