// A proxy-wasm host that behaves like Envoy for one plugin: loads and links the module, starts
// the root context with the plugin configuration, opens streams, applies the failure policy
// when the VM traps, and exposes logs and stats. Test-facing API; the gateway builds on it.
import { GrpcClusters, type DispatchedGrpcCall, type InProcessCluster } from "./grpc-clusters.js";
import { LogLevelNames } from "./envoy-abi.js";
import { HttpStream, type FailurePolicy, type StreamOptions } from "./stream.js";
import { StatsStore, type StatsTag } from "./stats.js";
import { PluginVm, type LogEntry } from "./vm.js";

export interface HostOptions {
  /** Plugin configuration bytes (what Envoy passes from `configuration`); strings are UTF-8. */
  pluginConfig?: string | Uint8Array;
  vmConfig?: string | Uint8Array;
  pluginName?: string;
  rootId?: string;
  vmId?: string;
  /** Envoy cluster name → "host:port" of an HTTP/2 gRPC server (or an in-process handler, for benchmarks). */
  clusters?: Record<string, string | InProcessCluster>;
  /** Observes every gRPC call the plugin dispatches to a known cluster (tests). */
  onGrpcCall?: (call: DispatchedGrpcCall) => void;
  failurePolicy?: FailurePolicy;
  /** trace 0 … critical 5; Envoy's wasm log level. */
  logLevel?: number;
  /** Echo logs (e.g. to the console) in addition to keeping them. */
  onLog?: (entry: LogEntry) => void;
  statsTags?: StatsTag[];
  /** Wall clock in ns (tests may pin it). */
  clockNs?: () => bigint;
  /** "envoy": on_log → on_done → on_delete (current Envoy); "spec": on_done first (older builds). */
  onLogOrder?: "envoy" | "spec";
  stats?: StatsStore;
}

/** The log lines a host keeps (the newest); older ones go, so a long-running gateway stays flat. */
const KEPT_LOGS = 20_000;

export class EnvoyHost {
  /** The filter's latest log lines (up to 20,000), oldest first; `onLog` sees every one. */
  readonly logs: LogEntry[] = [];
  readonly stats: StatsStore;
  vm!: PluginVm;
  configured = false;
  /** VM reloads done under FAIL_RELOAD. */
  reloads = 0;
  private readonly clusters: GrpcClusters;
  private readonly sharedData = new Map<string, { value: Uint8Array; cas: number }>();
  private readonly streams = new Set<HttpStream>();

  private constructor(private readonly wasm: Uint8Array, private readonly opts: HostOptions) {
    this.stats = opts.stats ?? new StatsStore();
    this.clusters = new GrpcClusters(opts.clusters ?? {}, opts.onGrpcCall);
  }

  /** Loads, links, initializes and configures; throws WasmLoadError when Envoy would refuse the module. */
  static async start(wasm: Uint8Array, opts: HostOptions = {}): Promise<EnvoyHost> {
    const host = new EnvoyHost(wasm, opts);
    await host.boot();
    return host;
  }

  /** Streams opened and not yet finished. */
  get activeStreams(): number { return this.streams.size; }

  get failurePolicy(): FailurePolicy { return this.opts.failurePolicy ?? "FAIL_CLOSED"; }

  private async boot(): Promise<void> {
    const bytes = (v: string | Uint8Array | undefined) => (typeof v === "string" ? Buffer.from(v, "utf8") : v ?? new Uint8Array(0));
    this.vm = await PluginVm.create(this.wasm, {
      pluginName: this.opts.pluginName ?? "llm-telemetry",
      rootId: this.opts.rootId ?? "",
      vmId: this.opts.vmId ?? "",
      vmConfig: bytes(this.opts.vmConfig),
      pluginConfig: bytes(this.opts.pluginConfig),
      clusters: this.clusters,
      stats: this.stats,
      logLevel: this.opts.logLevel ?? 1,
      log: (entry) => {
        if (this.logs.length >= KEPT_LOGS) this.logs.splice(0, KEPT_LOGS / 2);
        this.logs.push(entry);
        this.opts.onLog?.(entry);
      },
      clockNs: this.opts.clockNs ?? (() => BigInt(Date.now()) * 1_000_000n),
      sharedData: this.sharedData,
    });
    this.vm.onFailure = () => queueMicrotask(() => { for (const s of this.streams) s.notify(); });
    try {
      this.configured = this.vm.startRoot();
    } catch {
      this.configured = false;
    }
  }

  /**
   * A new HTTP stream. A failed VM is handled per failure policy: FAIL_CLOSED answers 503,
   * FAIL_OPEN skips the filter, FAIL_RELOAD starts a fresh VM first.
   */
  async newStream(options: StreamOptions = {}): Promise<HttpStream> {
    if (this.vm.failed && this.failurePolicy === "FAIL_RELOAD") {
      this.vm.shutdown();
      await this.boot();
      this.reloads++;
    }
    const usable = this.configured && !this.vm.failed;
    const stream = new HttpStream(usable ? this.vm : null, options, this.failurePolicy,
      this.opts.clockNs ?? (() => BigInt(Date.now()) * 1_000_000n), this.opts.onLogOrder ?? "envoy");
    this.streams.add(stream);
    stream.completion.then(() => this.streams.delete(stream));
    // A failed VM or a refused configuration: FAIL_CLOSED answers 503, FAIL_OPEN skips the filter.
    if (!usable) stream.startBypassed();
    return stream;
  }

  /** Drives a whole exchange: request in, upstream (or local reply) out. */
  async request(req: { headers: Array<[string, string]>; body?: string | Uint8Array; trailers?: Array<[string, string]> },
                options: StreamOptions = {}) {
    const stream = await this.newStream(options);
    const hasBody = req.body !== undefined && Buffer.from(req.body).length > 0;
    stream.sendRequestHeaders(req.headers, !hasBody && !req.trailers);
    if (hasBody) stream.sendRequestBody(req.body!, !req.trailers);
    if (req.trailers) stream.sendRequestTrailers(req.trailers);
    const response = await stream.completion;
    return { stream, response };
  }

  /**
   * Connects the gRPC clusters before the first request, as a warmed-up Envoy has them: a test's
   * first call is then not charged for connection set-up. Returns the clusters that are not READY
   * (nothing listens there); calls to them fail at once, as Envoy's do.
   */
  warmClusters(timeoutMs = 10000): Promise<string[]> { return this.clusters.warm(timeoutMs); }

  get grpcCallsInFlight(): number { return this.clusters.pending; }

  /** Resolves once no gRPC call is in flight: the Reports of finished streams have been answered. */
  grpcIdle(): Promise<void> { return this.clusters.idle(); }

  prometheus(): string { return this.stats.prometheus(this.opts.statsTags ?? []); }

  logText(minLevel = 0): string[] {
    return this.logs.filter((l) => l.level >= minLevel).map((l) => `[${LogLevelNames[l.level] ?? l.level}] ${l.message}`);
  }

  /** Tears down: in-flight gRPC calls are cancelled, the root gets on_done/on_delete. */
  close(): void {
    for (const s of this.streams) s.reset();
    this.vm.shutdown();
    this.clusters.close();
  }
}
