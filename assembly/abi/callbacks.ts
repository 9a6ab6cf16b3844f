// What happens around every callback Envoy makes into the filter (exports.ts brackets each one):
// a top-level callback starts a new epoch (hostcalls.ts reads the clock once per epoch: a
// callback takes microseconds, the filter's timings are milliseconds), and with `--runtime minimal`
// (two-colour mark & sweep, no shadow stack, no write barriers) garbage is collected once every
// COLLECT_EVERY top-level callbacks, as one returns to the host. The wasm stack is empty there,
// so every live object is reachable from globals (contexts, configuration). A callback the host
// makes from inside a host call (depth > 1) never collects. With `--runtime incremental` the
// runtime collects on its own; `stub` never frees.
import { Runtime } from "shared/runtime";

/** Top-level callbacks between two collections (~20 MaaS requests): bench:variants chose it. */
// @ts-ignore: decorator
@inline const COLLECT_EVERY: u32 = isDefined(FILTER_GC_EVERY) ? FILTER_GC_EVERY : 256;

/** The runtime leaves collection to us: `minimal`, or the filter's own (assembly/rt). */
// @ts-ignore: decorator
@inline const COLLECTS: bool = ASC_RUNTIME == Runtime.Minimal || isDefined(FILTER_COLLECTS_BETWEEN_CALLBACKS);

let depth: u32 = 0;
let sinceCollect: u32 = 0;
/** Counts top-level callbacks; what is cached "for this callback" is keyed by it. */
export let callbackEpoch: u32 = 0;

// @ts-ignore: decorator
@inline export function enterCallback(): void {
  if (depth++ == 0) callbackEpoch++;
}

// @ts-ignore: decorator
@inline export function leaveCallback(): void {
  if (--depth == 0 && COLLECTS && ++sinceCollect >= COLLECT_EVERY) {
    sinceCollect = 0;
    __collect();
  }
}
