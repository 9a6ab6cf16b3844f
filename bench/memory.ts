// Linear memory and host RSS over a long run of one scenario: the guest must not grow with the
// number of requests (a leak in the filter, or a collector that cannot keep up).
import { EnvoyHost } from "../host/index.js";
import { inProcessClusters, upstreamChat, type Scenario } from "./scenarios.js";

export interface MemorySample { requests: number; linearMemoryPages: number; hostRssMiB: number }
export interface MemoryFigures { requests: number; samples: MemorySample[]; flat: boolean }

export async function memoryOverRequests(scenario: Scenario, wasm: Uint8Array, pluginConfig: string, n: number,
                                         progress: (line: string) => void): Promise<MemoryFigures> {
  const host = await EnvoyHost.start(wasm, { pluginConfig, clusters: inProcessClusters(), logLevel: 3 });
  const sample = (requests: number): MemorySample => ({
    requests,
    linearMemoryPages: host.vm.memory.buffer.byteLength / 65536,
    hostRssMiB: process.memoryUsage().rss / 2 ** 20,
  });
  const checkpoints = new Set([1000, Math.floor(n / 10), Math.floor(n / 2), n].filter((c) => c > 0 && c <= n));
  const samples: MemorySample[] = [];
  const started = Date.now();
  for (let i = 1; i <= n; i++) {
    const { response } = await host.request(scenario.request, { upstream: upstreamChat });
    if (response.status !== 200) throw new Error(`unexpected status ${response.status}`);
    if (checkpoints.has(i)) {
      samples.push(sample(i));
      progress(`    ${i} requests, ${((Date.now() - started) / 1000).toFixed(0)} s, ${samples[samples.length - 1].linearMemoryPages} pages`);
    }
  }
  host.close();
  // Flat: no growth after the first checkpoint (the warm-up reaches the steady state).
  const flat = samples.every((s) => s.linearMemoryPages === samples[0].linearMemoryPages);
  return { requests: n, samples, flat };
}
