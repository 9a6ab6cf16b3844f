// The cost of one request per scenario, every scenario on its own VM, measured in interleaved
// rounds so a change in machine load hits all of them alike, and reported as the median over
// the rounds (a busy moment spoils a round, not the figure). Two passes per round:
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
  /** Answers other than 200, by status (none expected: the services answer in process). */
  errors: Record<string, number>;
}

/** One round's totals: pass A (untimed host functions) and pass B (every host function timed). */
interface Round {
  requests: number;
  aCallbacksNs: number; aWallNs: number;
  bCallbacksNs: number; bCallsNs: number; bMallocNs: number; bCalls: number;
}

/** Timer cost per timed host call: the part recorded as host time, and the part left in the guest's. */
export interface TimerCost { recordedNs: number; unrecordedNs: number }

/** The median of per-round figures: a round hit by a load spike or a Node GC pause does not count. */
function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export class CostRun {
  private readonly rounds: Round[] = [];
  private readonly calls = new Map<string, { count: number; ns: number }>();
  private requestsB = 0;
  /** Answers other than 200, by status: counted beside the figures, never fatal. */
  readonly errors = new Map<string, number>();

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
    const round: Round = { requests: n, aCallbacksNs: 0, aWallNs: 0, bCallbacksNs: 0, bCallsNs: 0, bMallocNs: 0, bCalls: 0 };
    vm.timeImports = false;
    vm.resetCounters();
    let started = process.hrtime.bigint();
    await this.requests(n);
    round.aWallNs = Number(process.hrtime.bigint() - started);
    round.aCallbacksNs = Number(vm.guestNs);

    vm.timeImports = true;
    vm.resetCounters();
    await this.requests(n);
    vm.timeImports = false;
    round.bCallbacksNs = Number(vm.guestNs);
    round.bMallocNs = Number(vm.guestMallocInHostCalls.ns);
    for (const [name, stats] of vm.hostCalls) {
      if (stats.count === 0) continue;
      const t = this.calls.get(name) ?? { count: 0, ns: 0 };
      t.count += stats.count;
      t.ns += Number(stats.ns);
      this.calls.set(name, t);
      round.bCallsNs += Number(stats.ns);
      round.bCalls += stats.count;
    }
    this.requestsB += n;
    this.rounds.push(round);
  }

  /** Per request: medians over the rounds; host calls by kind summed over all of them. */
  figures(timer: TimerCost): CostFigures {
    const us = (f: (r: Round) => number) => median(this.rounds.map((r) => f(r) / r.requests / 1000));
    const hostNs = (r: Round) => r.bCallsNs - r.bMallocNs - r.bCalls * timer.recordedNs;
    const byKind: CostFigures["hostCallsByKind"] = {};
    let calls = 0;
    for (const [name, t] of [...this.calls].sort((x, y) => y[1].count - x[1].count)) {
      calls += t.count;
      byKind[name.replace(/^proxy_/, "")] = { perRequest: t.count / this.requestsB, us: Math.max(0, t.ns - t.count * timer.recordedNs) / this.requestsB / 1000 };
    }
    return {
      requests: this.rounds.reduce((n, r) => n + r.requests, 0),
      callbacksUs: us((r) => r.aCallbacksNs),
      wallUs: us((r) => r.aWallNs),
      guestSelfUs: us((r) => r.bCallbacksNs - hostNs(r) - r.bCalls * (timer.recordedNs + timer.unrecordedNs)),
      hostFunctionsUs: us(hostNs),
      guestMallocUs: us((r) => r.bMallocNs),
      hostCalls: calls / this.requestsB,
      hostCallsByKind: byKind,
      errors: Object.fromEntries(this.errors),
    };
  }

  close(): void { this.host.close(); }

  private async requests(n: number): Promise<void> {
    const { request } = this.scenario;
    for (let i = 0; i < n; i++) {
      const { response } = await this.host.request(request, { upstream: upstreamChat });
      if (response.status !== 200) this.errors.set(`status ${response.status}`, (this.errors.get(`status ${response.status}`) ?? 0) + 1);
    }
    // Let the last fire-and-forget Report reply land inside this pass.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

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
