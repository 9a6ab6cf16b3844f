// Allocation and collection counts per request: a build with function names (the release flags
// plus the name section) gets a counter at the entry of the runtime's allocator and collector
// functions (Binaryen), exported as globals the bench reads after a run of requests.
import binaryen from "binaryen";
import { EnvoyHost } from "../host/index.js";
import { inProcessClusters, upstreamChat, type Scenario } from "./scenarios.js";

/** Counted function → what it means. A function the optimiser inlined away is reported as absent. */
export const COUNTED: Record<string, string> = {
  "~lib/rt/tlsf/allocateBlock": "blocks", // every allocation from the heap (objects, buffers, host malloc)
  "assembly/rt/allocator/__alloc": "blocks", // the same, with the filter's own runtime (assembly/rt)
  "~lib/rt/tcms/__new": "objects",
  "~lib/rt/itcms/__new": "objects",
  "~lib/rt/stub/__new": "objects",
  "~lib/rt/tcms/__collect": "collections",
  "~lib/rt/itcms/step": "incrementalSteps",
};

export type AllocationCounts = Record<string, number>;

export function instrumentAllocations(wasm: Uint8Array): { wasm: Uint8Array; counted: string[] } {
  const m = binaryen.readBinary(wasm);
  const counted: string[] = [];
  for (const [name, kind] of Object.entries(COUNTED)) {
    const ref = m.getFunction(name);
    if (!ref) continue;
    const info = binaryen.getFunctionInfo(ref);
    const global = `bench_count_${kind}`;
    if (!counted.includes(kind)) {
      m.addGlobal(global, binaryen.i32, true, m.i32.const(0));
      m.addGlobalExport(global, global);
      counted.push(kind);
    }
    const bump = m.global.set(global, m.i32.add(m.global.get(global, binaryen.i32), m.i32.const(1)));
    m.removeFunction(name);
    m.addFunction(name, info.params, info.results, info.vars, m.block(null, [bump, info.body], info.results));
  }
  const out = m.emitBinary();
  m.dispose();
  return { wasm: out, counted };
}

/** Runs n requests of a scenario on an instrumented build; counts per request. */
export async function allocationsPerRequest(scenario: Scenario, namesWasm: Uint8Array, pluginConfig: string, n: number): Promise<AllocationCounts> {
  const { wasm, counted } = instrumentAllocations(namesWasm);
  const host = await EnvoyHost.start(wasm, { pluginConfig, clusters: inProcessClusters(), logLevel: 3 });
  const perRequest = await countersPerRequest(host, scenario, n, () => counted.map((k) => host.vm.exportedGlobal(`bench_count_${k}`) ?? 0));
  host.close();
  return Object.fromEntries(counted.map((k, i) => [k, perRequest[i]]));
}

/**
 * How much each of `read()`'s counters grows per request of `scenario`, after 200 warm-up
 * requests (metric definitions and other one-off work), Reports' replies included.
 */
export async function countersPerRequest(host: EnvoyHost, scenario: Scenario, n: number, read: () => number[]): Promise<number[]> {
  for (let i = 0; i < 200; i++) await host.request(scenario.request, { upstream: upstreamChat });
  await new Promise((resolve) => setImmediate(resolve));
  const before = read();
  for (let i = 0; i < n; i++) await host.request(scenario.request, { upstream: upstreamChat });
  await new Promise((resolve) => setImmediate(resolve));
  const after = read();
  return after.map((a, i) => (a - before[i]) / n);
}
