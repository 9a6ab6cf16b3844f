// One wasm VM as Envoy runs it: link checks, start-up order, restricted host calls during
// _initialize/malloc, context ids, the effective context, deferred actions, gRPC calls answered
// on the root context, metrics, and a trap that fails the VM (research/proxy-wasm-abi.md §1–§2).
import {
  ABI_VERSION_EXPORTS, ALLOWED_DURING_INIT, ALLOWED_DURING_MALLOC, BufferType, ENVOY_ENV_IMPORTS,
  ENVOY_WASI_IMPORTS, WASI_MODULES, WasmResult,
} from "./envoy-abi.js";
import { readWasmSurface, sigToString, type WasmSurface } from "./wasm-binary.js";
import type { HeaderList } from "./pairs.js";
import type { PropMap } from "./properties.js";
import { GuestMemory } from "./guest-memory.js";
import { envImports } from "./env-imports.js";
import { wasiImports } from "./wasi.js";
import { MetricRegistry, type StatsStore } from "./stats.js";
import type { GrpcClusters, GrpcOutcome } from "./grpc-clusters.js";

export class WasmLoadError extends Error {}

/** Thrown to the caller of a guest callback that trapped; the VM is failed from then on. */
export class VmTrap extends Error {
  constructor(readonly fn: string, readonly causeText: string) {
    super(`Function: ${fn} failed: ${causeText}`);
  }
}

export interface LogEntry { level: number; message: string; contextId: number }

/** What a stream exposes to host calls made while it is the effective context. */
export interface StreamSide {
  readonly id: number;
  /** null = map not available in this phase; `inLog` tells NOT_FOUND from BAD_ARGUMENT. */
  headerMap(mapType: number): { pairs: HeaderList; writable: boolean } | null;
  readonly inLog: boolean;
  bodyBuffer(bufferType: number): { get(): Uint8Array; set(bytes: Uint8Array): void } | null;
  attributes(): PropMap;
  setFilterState(key: string, bytes: Uint8Array): void;
  continueStream(streamType: number): void;
  closeStream(streamType: number): void;
  requestLocalReply(reply: LocalReply): void;
  readonly alive: boolean;
}

export interface LocalReply { status: number; details: string; body: Uint8Array; headers: HeaderList; grpcStatus: number | null }

export interface VmOptions {
  pluginName: string;
  rootId: string;
  vmId: string;
  vmConfig: Uint8Array;
  pluginConfig: Uint8Array;
  clusters: GrpcClusters;
  stats: StatsStore;
  logLevel: number;
  log: (entry: LogEntry) => void;
  clockNs: () => bigint;
  sharedData: Map<string, { value: Uint8Array; cas: number }>;
}

type Phase = "init" | "malloc" | "callback" | "idle";

export interface HostCallStats { count: number; ns: bigint }

/** Envoy's link step: ABI marker, every import known with the exact signature, malloc present. */
export function checkModule(bytes: Uint8Array): WasmSurface {
  const surface = readWasmSurface(bytes);
  const exportNames = new Set(surface.exports.map((e) => e.name));
  if (!ABI_VERSION_EXPORTS.some((n) => exportNames.has(n))) {
    throw new WasmLoadError("Wasm module is missing or has an unknown Proxy-Wasm ABI version");
  }
  for (const imp of surface.imports) {
    const table = imp.module === "env" ? ENVOY_ENV_IMPORTS : WASI_MODULES.includes(imp.module) ? ENVOY_WASI_IMPORTS : undefined;
    const want = table && imp.kind === "function" ? table[imp.name] : undefined;
    if (!want) throw new WasmLoadError(`Failed to load Wasm module due to a missing import: ${imp.module}.${imp.name}`);
    const got = sigToString(imp.sig!);
    if (got !== want) {
      throw new WasmLoadError(`Failed to load Wasm module due to an import type mismatch: ${imp.module}.${imp.name}, want ${got}, but host exports ${want}`);
    }
  }
  if (!exportNames.has("memory")) throw new WasmLoadError("Wasm module is missing its memory export");
  if (!exportNames.has("malloc") && !exportNames.has("proxy_on_memory_allocate")) {
    throw new WasmLoadError("Wasm module is missing malloc function.");
  }
  return surface;
}

export class PluginVm {
  failed = false;
  failure: string | null = null;
  rootContextId = 0;
  rootDeletePending = false;
  readonly streams = new Map<number, StreamSide>();
  readonly metrics: MetricRegistry;
  tickPeriodMs = 0;
  /** Time spent inside guest callbacks (host calls they make included), for benchmarks. */
  guestNs = 0n;
  /** Calls to each host function by name (always counted); `ns` only while `timeImports` is on. */
  readonly hostCalls = new Map<string, HostCallStats>();
  /**
   * Benchmarks: time every host function. Off by default, since two clock reads per call are
   * a measurable share of a cheap call. The guest's malloc run from inside host calls (Envoy
   * handing data back) is guest work: it is timed apart, in `guestMallocInHostCalls`.
   */
  timeImports = false;
  readonly guestMallocInHostCalls: HostCallStats = { count: 0, ns: 0n };
  /** Tests: observes every proxy_get_property path (segments) the guest reads. */
  onPropertyRead: ((segments: string[]) => void) | null = null;

  readonly mem: GuestMemory;
  private instance!: WebAssembly.Instance;
  /** The import object the module was linked with (benchmarks calibrate their timers on it). */
  importObject!: WebAssembly.Imports;
  private exportsTable!: Record<string, any>;
  private phase: Phase = "idle";
  private currentContext = 0;
  private nextContextId = 1;
  private readonly callBuffers = new Map<number, Uint8Array>();
  private readonly deferred: Array<() => void> = [];
  // Host-internal state the env imports (env-imports.ts) work with.
  effectiveContext: number | null = null;
  nextGrpcToken = 5;
  grpcStatus: { code: number; message: string } | null = null;
  /** Queues an action to run after the current guest callback returns (Envoy defers them). */
  defer(action: () => void): void { this.deferred.push(action); }
  private draining = false;
  readonly pendingGrpc = new Map<number, { cancel(): void }>();
  tickTimer: NodeJS.Timeout | null = null;
  /** Called when a trap fails the VM, so the owner can apply its failure policy. */
  onFailure: (trap: VmTrap) => void = () => {};

  private constructor(readonly opts: VmOptions) {
    this.metrics = new MetricRegistry(opts.stats);
    this.mem = new GuestMemory(() => this.memory, (size) => this.allocateInGuest(size));
  }

  /** The guest's malloc (malloc first, as cpp-host), run as Envoy's restricted "malloc" phase. */
  private allocateInGuest(size: number): number {
    const malloc = this.exportsTable.malloc ?? this.exportsTable.proxy_on_memory_allocate;
    const saved = this.phase;
    this.phase = "malloc";
    const started = this.timeImports ? process.hrtime.bigint() : 0n;
    try { return malloc(size); } finally {
      this.phase = saved;
      if (this.timeImports) {
        this.guestMallocInHostCalls.count++;
        this.guestMallocInHostCalls.ns += process.hrtime.bigint() - started;
      }
    }
  }

  static async create(bytes: Uint8Array, opts: VmOptions): Promise<PluginVm> {
    checkModule(bytes);
    const vm = new PluginVm(opts);
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    vm.importObject = vm.buildImports();
    vm.instance = await WebAssembly.instantiate(module, vm.importObject);
    vm.exportsTable = vm.instance.exports as Record<string, any>;
    vm.phase = "init";
    try {
      if (vm.exportsTable._initialize) {
        vm.exportsTable._initialize();
        if (vm.exportsTable.main) vm.exportsTable.main(0, 0);
        else if (vm.exportsTable.__main_void) vm.exportsTable.__main_void();
      } else if (vm.exportsTable._start) {
        vm.exportsTable._start();
      }
    } catch (err) {
      throw new WasmLoadError(`Plugin failed to initialize: ${errorText(err)}`);
    } finally {
      vm.phase = "idle";
    }
    return vm;
  }

  get memory(): WebAssembly.Memory { return this.exportsTable.memory as WebAssembly.Memory; }

  /** The value of an exported i32/i64 global (benchmarks read counters this way); null if absent. */
  exportedGlobal(name: string): number | null {
    const g = this.exportsTable[name];
    return g instanceof WebAssembly.Global ? Number(g.value) : null;
  }

  /** proxy_on_context_create(root, 0) → proxy_on_vm_start → proxy_on_configure. */
  startRoot(): boolean {
    this.rootContextId = this.nextContextId++;
    this.callGuest("proxy_on_context_create", this.rootContextId, [this.rootContextId, 0]);
    const vmStarted = this.withBuffer(BufferType.VmConfiguration, this.opts.vmConfig,
      () => this.callGuest("proxy_on_vm_start", this.rootContextId, [this.rootContextId, this.opts.vmConfig.length]));
    if (vmStarted === 0) return false;
    const configured = this.withBuffer(BufferType.PluginConfiguration, this.opts.pluginConfig,
      () => this.callGuest("proxy_on_configure", this.rootContextId, [this.rootContextId, this.opts.pluginConfig.length]));
    this.drain();
    return configured !== 0;
  }

  /** A new stream context id, created in the guest lazily by the stream. */
  newContextId(): number { return this.nextContextId++; }

  registerStream(stream: StreamSide): void { this.streams.set(stream.id, stream); }
  unregisterStream(id: number): void { this.streams.delete(id); }

  /**
   * Calls a guest export as Envoy does: a missing export is a no-op (undefined); a trap fails the
   * VM and throws VmTrap. The effective context is reset for every call.
   */
  callGuest(fn: string, contextId: number, args: number[]): number | undefined {
    if (this.failed) throw new VmTrap(fn, this.failure ?? "VM failed");
    const f = this.exportsTable[fn];
    if (typeof f !== "function") return undefined;
    const prev = { phase: this.phase, current: this.currentContext, effective: this.effectiveContext };
    const started = process.hrtime.bigint();
    this.phase = "callback";
    this.currentContext = contextId;
    this.effectiveContext = null;
    try {
      const result = f(...args);
      return typeof result === "number" ? result : undefined;
    } catch (err) {
      const trap = new VmTrap(fn, `Uncaught ${errorText(err)}`);
      this.fail(trap);
      throw trap;
    } finally {
      this.phase = prev.phase;
      this.currentContext = prev.current;
      this.effectiveContext = prev.effective;
      if (prev.phase !== "callback") this.guestNs += process.hrtime.bigint() - started;
    }
  }

  /** Runs deferred actions (continue, local reply, ...) queued by the callback that just returned. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.deferred.length) this.deferred.shift()!();
    } finally {
      this.draining = false;
    }
  }

  withBuffer<T>(type: number, bytes: Uint8Array, run: () => T): T {
    this.callBuffers.set(type, bytes);
    try { return run(); } finally { this.callBuffers.delete(type); }
  }

  tick(): void {
    if (this.failed || !this.rootContextId) return;
    try { this.callGuest("proxy_on_tick", this.rootContextId, [this.rootContextId]); } catch { return; }
    this.drain();
  }

  /** Root teardown: outstanding calls are cancelled, then on_done/on_delete. */
  shutdown(): void {
    for (const call of this.pendingGrpc.values()) call.cancel();
    this.pendingGrpc.clear();
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.failed || !this.rootContextId) return;
    try {
      const done = this.callGuest("proxy_on_done", this.rootContextId, [this.rootContextId]);
      if (done !== 0) this.callGuest("proxy_on_delete", this.rootContextId, [this.rootContextId]);
      else this.rootDeletePending = true;
    } catch { /* failed VM: nothing more to call */ }
  }

  private fail(trap: VmTrap): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = trap.causeText;
    this.opts.log({ level: 4, message: trap.message, contextId: this.currentContext });
    for (const call of this.pendingGrpc.values()) call.cancel();
    this.pendingGrpc.clear();
    this.deferred.length = 0;
    this.onFailure(trap);
  }

  // ---- contexts -------------------------------------------------------------------------

  targetId(): number { return this.effectiveContext ?? this.currentContext; }

  targetStream(): StreamSide | null {
    return this.streams.get(this.targetId()) ?? null;
  }

  private pluginAttributeMap: PropMap | null = null;

  pluginAttributes(): PropMap {
    this.pluginAttributeMap ??= new Map<string, any>([
      ["plugin_name", this.opts.pluginName],
      ["plugin_root_id", this.opts.rootId],
      ["plugin_vm_id", this.opts.vmId],
    ]);
    return this.pluginAttributeMap;
  }

  // ---- imports ---------------------------------------------------------------------------

  private buildImports(): WebAssembly.Imports {
    const env: Record<string, (...args: any[]) => any> = {};
    const impls = envImports(this);
    for (const name of Object.keys(ENVOY_ENV_IMPORTS)) env[name] = this.guard(name, impls[name] ?? (() => WasmResult.Unimplemented));
    const wasiImpls = wasiImports(this.mem, (level, message) => this.opts.log({ level, message, contextId: this.targetId() }), this.opts.clockNs);
    const wasi: Record<string, (...args: any[]) => any> = {};
    for (const name of Object.keys(ENVOY_WASI_IMPORTS)) wasi[name] = this.guard(name, wasiImpls[name] ?? (() => 52));
    return { env, wasi_snapshot_preview1: wasi, wasi_unstable: wasi };
  }

  /** Zeroes the benchmark counters (guest time, host calls, guest malloc from host calls). */
  resetCounters(): void {
    this.guestNs = 0n;
    for (const stats of this.hostCalls.values()) { stats.count = 0; stats.ns = 0n; }
    this.guestMallocInHostCalls.count = 0;
    this.guestMallocInHostCalls.ns = 0n;
  }

  /**
   * Envoy traps ("restricted_callback") when init or malloc calls a non-whitelisted function.
   * Fixed arity (no rest array per call): no host function takes more than 12 parameters.
   */
  private guard(name: string, impl: (...args: any[]) => any): (...args: any[]) => any {
    const stats: HostCallStats = { count: 0, ns: 0n };
    this.hostCalls.set(name, stats);
    const allowedInit = ALLOWED_DURING_INIT.has(name), allowedMalloc = ALLOWED_DURING_MALLOC.has(name);
    return (a?: any, b?: any, c?: any, d?: any, e?: any, f?: any, g?: any, h?: any, i?: any, j?: any, k?: any, l?: any) => {
      if ((this.phase === "init" && !allowedInit) || (this.phase === "malloc" && !allowedMalloc)) {
        throw new Error(`restricted_callback: ${name} is not allowed during ${this.phase === "init" ? "VM start-up" : "malloc"}`);
      }
      stats.count++;
      if (!this.timeImports) return impl(a, b, c, d, e, f, g, h, i, j, k, l);
      const started = process.hrtime.bigint();
      try {
        return impl(a, b, c, d, e, f, g, h, i, j, k, l);
      } finally {
        stats.ns += process.hrtime.bigint() - started;
      }
    };
  }

  writableMap(type: number): HeaderList | null {
    const map = this.targetStream()?.headerMap(type) ?? null;
    return map && map.writable ? map.pairs : null;
  }

  buffer(type: number): Uint8Array | null {
    const fixed = this.callBuffers.get(type);
    if (fixed) return fixed;
    if (type === BufferType.RequestBody || type === BufferType.ResponseBody) {
      return this.targetStream()?.bodyBuffer(type)?.get() ?? null;
    }
    return null;
  }

  cancelGrpc(token: number): number {
    const call = this.pendingGrpc.get(token >>> 0);
    if (!call) return WasmResult.NotFound;
    call.cancel();
    this.pendingGrpc.delete(token >>> 0);
    return WasmResult.Ok;
  }

  /** Exactly one of proxy_on_grpc_receive / proxy_on_grpc_close, on the root context. */
  grpcCompleted(token: number, outcome: GrpcOutcome): void {
    if (!this.pendingGrpc.delete(token) || this.failed) return;
    const root = this.rootContextId;
    try {
      if (outcome.status === 0) {
        const message = outcome.response ?? new Uint8Array(0);
        this.withBuffer(BufferType.GrpcCallMessage, message,
          () => this.callGuest("proxy_on_grpc_receive", root, [root, token, message.length]));
      } else {
        this.grpcStatus = { code: outcome.status, message: outcome.message };
        try { this.callGuest("proxy_on_grpc_close", root, [root, token, outcome.status]); } finally { this.grpcStatus = null; }
      }
    } catch (err) {
      if (!(err instanceof VmTrap)) throw err;
      return;
    }
    this.drain();
  }
}

function errorText(err: unknown): string {
  if (err instanceof WebAssembly.RuntimeError) return `RuntimeError: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
