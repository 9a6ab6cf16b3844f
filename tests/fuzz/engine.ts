// Runs fuzz cases through the Envoy-like host with in-process gRPC clusters (no network, so a
// case costs what the filter costs). A case is a pure function of (seed, index): a hostile
// request against one of the valid configurations, or (1 in `configOneIn`) a mutated configuration with
// a few requests through it when accepted. A trap, an Envoy-level hang (second local reply) or a
// stream that never completes is a failure, reported with everything needed to replay it.
import { EnvoyHost } from "../../host/index.js";
import type { GrpcOutcome, InProcessCluster } from "../../host/grpc-clusters.js";
import { Gen, caseRng, genConfig, genRequest, shapes, type RequestCase } from "./generators.js";

export interface FuzzFailure {
  kind: "trap" | "hang" | "stuck";
  seed: number; index: number;
  detail: string;
  config: unknown;
  requests: RequestCase[];
}

export interface FuzzStats { cases: number; configCases: number; configsAccepted: number; requests: number; failures: FuzzFailure[] }

const REQUESTS_PER_NEW_CONFIG = 3;

export class FuzzEngine {
  private replies: RequestCase["replies"] = {};
  private readonly baseHosts = new Map<unknown, EnvoyHost>();
  readonly stats: FuzzStats = { cases: 0, configCases: 0, configsAccepted: 0, requests: 0, failures: [] };

  /** configOneIn: a new VM per configuration case costs ~30 ms, a request case ~1 ms. */
  constructor(private readonly wasm: Uint8Array, private readonly seed: number, private readonly configOneIn = 64, private readonly stuckMs = 10000) {}

  private readonly cluster: InProcessCluster = (_service, method) => {
    const next = this.replies[method]?.shift();
    if (!next) return { status: 0, message: "", response: new Uint8Array(0) }; // an empty message decodes as OK / defaults
    const outcome: GrpcOutcome = { status: next.status, message: next.status ? "fuzzed failure" : "" };
    if (next.response !== undefined) outcome.response = Buffer.from(next.response, "base64");
    return outcome;
  };

  private start(config: unknown): Promise<EnvoyHost> {
    const c = this.cluster;
    return EnvoyHost.start(this.wasm, {
      pluginConfig: typeof config === "string" ? config : JSON.stringify(config),
      clusters: { "kuadrant-ratelimit-service": c, limitador: c, "kuadrant-auth-service": c, authorino: c },
      logLevel: 5,
    });
  }

  private async baseHost(config: unknown): Promise<EnvoyHost> {
    let host = this.baseHosts.get(config);
    if (!host || host.vm.failed) {
      host?.close();
      host = await this.start(config);
      this.baseHosts.set(config, host);
    }
    return host;
  }

  async runCase(index: number): Promise<void> {
    const g = new Gen(caseRng(this.seed, index));
    this.stats.cases++;
    if (g.int(this.configOneIn) === 0) return this.configCase(g, index);
    const [, corpus] = g.pick(shapes());
    const config = g.pick(corpus);
    const host = await this.baseHost(config);
    const req = genRequest(g);
    await this.request(host, req, index, config, [req]);
  }

  private async configCase(g: Gen, index: number): Promise<void> {
    this.stats.configCases++;
    const { config } = genConfig(g);
    let host: EnvoyHost;
    try {
      host = await this.start(config);
    } catch (err) {
      return this.fail({ kind: "trap", seed: this.seed, index, detail: `start: ${(err as Error).message}`, config, requests: [] });
    }
    try {
      if (host.vm.failed) return this.fail({ kind: "trap", seed: this.seed, index, detail: `on configure: ${host.vm.failure}`, config, requests: [] });
      if (!host.configured) return;
      this.stats.configsAccepted++;
      const reqs: RequestCase[] = [];
      for (let i = 0; i < REQUESTS_PER_NEW_CONFIG; i++) {
        const req = genRequest(g);
        reqs.push(req);
        if (!(await this.request(host, req, index, config, reqs))) return;
      }
    } finally {
      host.close();
    }
  }

  /** One request; false when it failed (the failure is recorded). */
  private async request(host: EnvoyHost, req: RequestCase, index: number, config: unknown, trail: RequestCase[]): Promise<boolean> {
    this.stats.requests++;
    this.replies = structuredClone(req.replies);
    const stream = await host.newStream({
      dynamicMetadata: req.dynamicMetadata,
      filterState: req.filterState,
      upstream: () => ({ status: req.upstream.status, headers: req.upstream.contentType ? [["content-type", req.upstream.contentType]] : [], body: req.upstream.chunks }),
    });
    const hasBody = req.body !== undefined && req.body.length > 0;
    stream.sendRequestHeaders(req.headers, !hasBody);
    if (hasBody) stream.sendRequestBody(req.body!, true);
    let timer: NodeJS.Timeout | undefined;
    const stuck = await Promise.race([
      stream.completion.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), this.stuckMs); }),
    ]);
    clearTimeout(timer);
    await host.grpcIdle(); // fire-and-forget Reports are part of this case, not the next
    if (host.logs.length > 1000) host.logs.length = 0;
    const base = { seed: this.seed, index, config, requests: trail };
    if (host.vm.failed) { this.fail({ ...base, kind: "trap", detail: String(host.vm.failure) }); return false; }
    if (stream.hung) { this.fail({ ...base, kind: "hang", detail: stream.errors.join("; ") }); stream.reset(); return false; }
    if (stuck) { this.fail({ ...base, kind: "stuck", detail: `the stream did not complete within ${this.stuckMs} ms` }); stream.reset(); return false; }
    return true;
  }

  /**
   * Replays a reproducer's own inputs (its configuration and requests) on a fresh VM, so a
   * failure file stays replayable after the generators change.
   */
  async replay(f: Pick<FuzzFailure, "config" | "requests" | "index">): Promise<FuzzFailure | null> {
    const before = this.stats.failures.length;
    const host = await this.start(f.config);
    try {
      if (host.vm.failed) this.fail({ kind: "trap", seed: this.seed, index: f.index, detail: `on configure: ${host.vm.failure}`, config: f.config, requests: [] });
      else for (const [i, req] of f.requests.entries()) if (!(await this.request(host, req, f.index, f.config, f.requests.slice(0, i + 1)))) break;
    } finally {
      host.close();
    }
    return this.stats.failures[before] ?? null;
  }

  private fail(f: FuzzFailure): void { this.stats.failures.push(f); }

  close(): void { for (const h of this.baseHosts.values()) h.close(); this.baseHosts.clear(); }
}
