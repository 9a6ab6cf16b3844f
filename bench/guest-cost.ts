// The cost of one request per scenario, every scenario on its own VM, measured in interleaved
// rounds so a change in machine load hits all of them alike. Two passes per round:
//   A, host functions untimed: time inside guest callbacks (host calls included) and wall time;
//   B, every host function timed: the split into guest self-time and host-function time.
// The timers' own cost is measured on the same wrapper (calibrate) and taken out of B.
import { EnvoyHost } from "../host/index.js";
import type { PluginVm } from "../host/vm.js";
import { inProcessClusters, upstreamChat, type Scenario } from "./scenarios.js";

export interface CostFigures {
  requests: number;
  /** Pass A: inside guest callbacks, host functions included (the figure of the ratio goal). */
  callbacksUs: number;
  /** Pass A: the whole request through the Node host (its stream machinery included). */
  wallUs: number;
  /** Pass B: callbacks minus host functions; the guest malloc Envoy-style hosts call is guest work. */
  guestSelfUs: number;
  /** Pass B: inside host functions (guest malloc excluded). */
  hostFunctionsUs: number;
  /** Pass B: guest malloc run by the host to hand data back, inside host functions. */
  guestMallocUs: number;
  hostCalls: number;
  hostCallsByKind: Record<string, { perRequest: number; us: number }>;
}

interface Totals { requests: number; callbacksNs: number; wallNs: number; callsNs: number; mallocNs: number; calls: Map<string, { count: number; ns: number }> }

/** Timer cost per timed host call: the part recorded as host time, and the part left in the guest's. */
export interface TimerCost { recordedNs: number; unrecordedNs: number }

export class CostRun {
  private readonly a: Totals = totals();
  private readonly b: Totals = totals();

  private constructor(readonly scenario: Scenario, readonly host: EnvoyHost) {}

  static async start(scenario: Scenario, wasm: Uint8Array, pluginConfig: string): Promise<CostRun> {
    const host = await EnvoyHost.start(wasm, { pluginConfig, clusters: inProcessClusters(), logLevel: 3 });
    if (!host.configured) throw new Error(`${scenario.id}: configuration refused: ${host.logText(3).join("; ")}`);
    return new CostRun(scenario, host);
  }

  /** n requests, nothing measured (warm-up, profiling). */
  async send(n: number): Promise<void> { await this.requests(n); }

  /** One round: n requests untimed (pass A), n requests timed (pass B). */
  async round(n: number): Promise<void> {
    const vm = this.host.vm;
    vm.timeImports = false;
    vm.resetCounters();
    let started = process.hrtime.bigint();
    await this.requests(n);
    this.a.wallNs += Number(process.hrtime.bigint() - started);
    this.a.callbacksNs += Number(vm.guestNs);
    this.a.requests += n;

    vm.timeImports = true;
    vm.resetCounters();
    started = process.hrtime.bigint();
    await this.requests(n);
    this.b.wallNs += Number(process.hrtime.bigint() - started);
    vm.timeImports = false;
    this.b.callbacksNs += Number(vm.guestNs);
    this.b.requests += n;
    this.b.mallocNs += Number(vm.guestMallocInHostCalls.ns);
    for (const [name, stats] of vm.hostCalls) {
      if (stats.count === 0) continue;
      const t = this.b.calls.get(name) ?? { count: 0, ns: 0 };
      t.count += stats.count;
      t.ns += Number(stats.ns);
      this.b.calls.set(name, t);
      this.b.callsNs += Number(stats.ns);
    }
  }

  figures(timer: TimerCost): CostFigures {
    const { a, b } = this;
    const per = (ns: number, n: number) => ns / n / 1000;
    let calls = 0;
    const byKind: CostFigures["hostCallsByKind"] = {};
    for (const [name, t] of [...b.calls].sort((x, y) => y[1].count - x[1].count)) {
      calls += t.count;
      byKind[name.replace(/^proxy_/, "")] = { perRequest: t.count / b.requests, us: per(t.ns - t.count * timer.recordedNs, b.requests) };
    }
    const hostNs = b.callsNs - b.mallocNs - calls * timer.recordedNs;
    const guestNs = b.callbacksNs - hostNs - calls * (timer.recordedNs + timer.unrecordedNs);
    return {
      requests: a.requests,
      callbacksUs: per(a.callbacksNs, a.requests),
      wallUs: per(a.wallNs, a.requests),
      guestSelfUs: per(guestNs, b.requests),
      hostFunctionsUs: per(hostNs, b.requests),
      guestMallocUs: per(b.mallocNs, b.requests),
      hostCalls: calls / b.requests,
      hostCallsByKind: byKind,
    };
  }

  close(): void { this.host.close(); }

  private async requests(n: number): Promise<void> {
    const { request } = this.scenario;
    for (let i = 0; i < n; i++) {
      const { response } = await this.host.request(request, { upstream: upstreamChat });
      if (response.status !== 200) throw new Error(`${this.scenario.id}: unexpected status ${response.status}`);
    }
    // Let the last fire-and-forget Report reply land inside this pass.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function totals(): Totals { return { requests: 0, callbacksNs: 0, wallNs: 0, callsNs: 0, mallocNs: 0, calls: new Map() }; }

/**
 * Calls a trivial host function (pthread_equal) through the VM's own timed wrapper: what the
 * timers record beyond the function, and what the wrapper costs outside the recorded window.
 */
export function calibrateTimer(vm: PluginVm, n = 200_000): TimerCost {
  const wrapped = (vm.importObject.env as Record<string, (a: number, b: number) => number>).pthread_equal;
  const plain = (a: number, b: number) => (a === b ? 1 : 0);
  const loop = (f: (a: number, b: number) => number) => {
    let sink = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += f(i, 1);
    return { ns: Number(process.hrtime.bigint() - started), sink };
  };
  const wasTiming = vm.timeImports;
  const stats = vm.hostCalls.get("pthread_equal")!;
  let best: TimerCost = { recordedNs: Infinity, unrecordedNs: Infinity };
  for (let attempt = 0; attempt < 5; attempt++) {
    const base = loop(plain).ns;
    vm.timeImports = false;
    const untimed = loop(wrapped).ns;
    vm.timeImports = true;
    stats.ns = 0n;
    const timed = loop(wrapped).ns;
    const recorded = Number(stats.ns);
    const cost = { recordedNs: Math.max(0, recorded - base) / n, unrecordedNs: Math.max(0, timed - recorded - untimed) / n };
    if (cost.recordedNs + cost.unrecordedNs < best.recordedNs + best.unrecordedNs) best = cost;
  }
  vm.timeImports = wasTiming;
  vm.resetCounters();
  return best;
}
