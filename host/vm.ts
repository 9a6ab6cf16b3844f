// One wasm VM as Envoy runs it: link checks, start-up order, restricted host calls during
// _initialize/malloc, context ids, the effective context, deferred actions, gRPC calls answered
// on the root context, metrics, and a trap that fails the VM (research/proxy-wasm-abi.md §1–§2).
import { randomFillSync } from "node:crypto";
import {
  ABI_VERSION_EXPORTS, ALLOWED_DURING_INIT, ALLOWED_DURING_MALLOC, BufferType, ENVOY_ENV_IMPORTS,
  ENVOY_WASI_IMPORTS, WASI_MODULES, WasmResult,
} from "./envoy-abi.js";
import { readWasmSurface, sigToString, type WasmSurface } from "./wasm-binary.js";
import { decodePairs, encodePairs, type HeaderList } from "./pairs.js";
import { resolveProperty, type PropMap } from "./properties.js";
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
  /** Time spent in host functions called by the guest, and how many calls, by name (benchmarks). */
  readonly hostCalls = new Map<string, { count: number; ns: bigint }>();

  private instance!: WebAssembly.Instance;
  private exportsTable!: Record<string, any>;
  private phase: Phase = "idle";
  private currentContext = 0;
  private effectiveContext: number | null = null;
  private nextContextId = 1;
  private nextGrpcToken = 5;
  private readonly callBuffers = new Map<number, Uint8Array>();
  private grpcStatus: { code: number; message: string } | null = null;
  private readonly deferred: Array<() => void> = [];
  /** Queues an action to run after the current guest callback returns (Envoy defers them). */
  defer(action: () => void): void { this.deferred.push(action); }
  private draining = false;
  private readonly pendingGrpc = new Map<number, { cancel(): void }>();
  private tickTimer: NodeJS.Timeout | null = null;
  /** Called when a trap fails the VM, so the owner can apply its failure policy. */
  onFailure: (trap: VmTrap) => void = () => {};

  private constructor(private readonly opts: VmOptions) {
    this.metrics = new MetricRegistry(opts.stats);
  }

  static async create(bytes: Uint8Array, opts: VmOptions): Promise<PluginVm> {
    checkModule(bytes);
    const vm = new PluginVm(opts);
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    vm.instance = await WebAssembly.instantiate(module, vm.buildImports());
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

  // ---- guest memory ---------------------------------------------------------------------

  private bytes(): Uint8Array { return new Uint8Array(this.memory.buffer); }

  private inBounds(ptr: number, len: number): boolean {
    return ptr >= 0 && len >= 0 && ptr + len <= this.memory.buffer.byteLength;
  }

  private read(ptr: number, len: number): Uint8Array | null {
    ptr >>>= 0; len >>>= 0;
    if (!this.inBounds(ptr, len)) return null;
    return this.bytes().slice(ptr, ptr + len);
  }

  private readString(ptr: number, len: number): string | null {
    const b = this.read(ptr, len);
    return b === null ? null : Buffer.from(b).toString("utf8");
  }

  private writeU32(ptr: number, value: number): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 4)) return false;
    new DataView(this.memory.buffer).setUint32(ptr, value >>> 0, true);
    return true;
  }

  private writeU64(ptr: number, value: bigint): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 8)) return false;
    new DataView(this.memory.buffer).setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  /** Allocates in the guest with its malloc (restricted phase) and copies bytes there. */
  private copyOut(bytes: Uint8Array, retPtrPtr: number, retSizePtr: number): number {
    if (bytes.length === 0) {
      return this.writeU32(retPtrPtr, 0) && this.writeU32(retSizePtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    }
    const malloc = this.exportsTable.malloc ?? this.exportsTable.proxy_on_memory_allocate;
    const saved = this.phase;
    this.phase = "malloc";
    let ptr: number;
    try { ptr = malloc(bytes.length) >>> 0; } finally { this.phase = saved; }
    if (ptr === 0 || !this.inBounds(ptr, bytes.length)) return WasmResult.InvalidMemoryAccess;
    // Views are re-derived after malloc: it may have grown (and detached) the memory.
    this.bytes().set(bytes, ptr);
    return this.writeU32(retPtrPtr, ptr) && this.writeU32(retSizePtr, bytes.length) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  }

  // ---- contexts -------------------------------------------------------------------------

  private targetId(): number { return this.effectiveContext ?? this.currentContext; }

  private targetStream(): StreamSide | null {
    return this.streams.get(this.targetId()) ?? null;
  }

  private pluginAttributes(): PropMap {
    return new Map<string, any>([
      ["plugin_name", this.opts.pluginName],
      ["plugin_root_id", this.opts.rootId],
      ["plugin_vm_id", this.opts.vmId],
    ]);
  }

  // ---- imports ---------------------------------------------------------------------------

  private buildImports(): WebAssembly.Imports {
    const env: Record<string, (...args: any[]) => any> = {};
    const impls = this.envImplementations();
    for (const name of Object.keys(ENVOY_ENV_IMPORTS)) env[name] = this.guard(name, impls[name] ?? (() => WasmResult.Unimplemented));
    const wasiImpls = this.wasiImplementations();
    const wasi: Record<string, (...args: any[]) => any> = {};
    for (const name of Object.keys(ENVOY_WASI_IMPORTS)) wasi[name] = this.guard(name, wasiImpls[name] ?? (() => 52));
    return { env, wasi_snapshot_preview1: wasi, wasi_unstable: wasi };
  }

  /** Envoy traps ("restricted_callback") when init or malloc calls a non-whitelisted function. */
  private guard(name: string, impl: (...args: any[]) => any): (...args: any[]) => any {
    return (...args: any[]) => {
      if ((this.phase === "init" && !ALLOWED_DURING_INIT.has(name)) || (this.phase === "malloc" && !ALLOWED_DURING_MALLOC.has(name))) {
        throw new Error(`restricted_callback: ${name} is not allowed during ${this.phase === "init" ? "VM start-up" : "malloc"}`);
      }
      const started = process.hrtime.bigint();
      try {
        return impl(...args);
      } finally {
        const entry = this.hostCalls.get(name) ?? { count: 0, ns: 0n };
        entry.count++;
        entry.ns += process.hrtime.bigint() - started;
        this.hostCalls.set(name, entry);
      }
    };
  }

  private envImplementations(): Record<string, (...args: any[]) => any> {
    const R = WasmResult;
    return {
      proxy_log: (level: number, ptr: number, len: number) => {
        if (level > 5 || level < 0) return R.BadArgument;
        const message = this.readString(ptr, len);
        if (message === null) return R.InvalidMemoryAccess;
        if (level >= this.opts.logLevel) this.opts.log({ level, message, contextId: this.targetId() });
        return R.Ok;
      },
      proxy_get_log_level: (ptr: number) => this.writeU32(ptr, this.opts.logLevel) ? R.Ok : R.InvalidMemoryAccess,

      proxy_get_property: (pathPtr: number, pathLen: number, retPtr: number, retSize: number) => {
        const raw = this.read(pathPtr, pathLen);
        if (raw === null) return R.InvalidMemoryAccess;
        const segments = Buffer.from(raw).toString("utf8").split("\0");
        if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
        const stream = this.targetStream();
        const attrs = stream ? stream.attributes() : this.pluginAttributes();
        let found = resolveProperty(attrs, segments);
        if (found.status === R.NotFound && !attrs.has(segments[0])) {
          // Filter-state entries written with proxy_set_property are readable by their own name.
          const fs = attrs.get("filter_state");
          if (fs instanceof Map && fs.has(`wasm.${segments[0]}`)) {
            found = resolveProperty(fs, [`wasm.${segments[0]}`, ...segments.slice(1)]);
          }
        }
        if (found.status !== R.Ok) return found.status;
        return this.copyOut(found.bytes!, retPtr, retSize);
      },
      proxy_set_property: (pathPtr: number, pathLen: number, valuePtr: number, valueLen: number) => {
        const path = this.readString(pathPtr, pathLen);
        const value = this.read(valuePtr, valueLen);
        if (path === null || value === null) return R.InvalidMemoryAccess;
        const stream = this.targetStream();
        if (!stream) return R.NotFound;
        stream.setFilterState(`wasm.${path}`, value);
        return R.Ok;
      },

      proxy_get_header_map_value: (type: number, keyPtr: number, keyLen: number, retPtr: number, retSize: number) => {
        if (type > 7 || type < 0) return R.BadArgument;
        const key = this.readString(keyPtr, keyLen);
        if (key === null) return R.InvalidMemoryAccess;
        const stream = this.targetStream();
        const map = stream?.headerMap(type) ?? null;
        if (!map) return stream?.inLog ? R.NotFound : R.BadArgument;
        const lower = key.toLowerCase();
        const hit = map.pairs.find(([k]) => k === lower);
        if (!hit) return R.NotFound;
        return this.copyOut(Buffer.from(hit[1], "utf8"), retPtr, retSize);
      },
      proxy_get_header_map_pairs: (type: number, retPtr: number, retSize: number) => {
        if (type > 7 || type < 0) return R.BadArgument;
        const map = this.targetStream()?.headerMap(type) ?? null;
        if (!map || map.pairs.length === 0) return this.copyOut(new Uint8Array(0), retPtr, retSize);
        return this.copyOut(encodePairs(map.pairs), retPtr, retSize);
      },
      proxy_set_header_map_pairs: (type: number, ptr: number, len: number) => {
        const map = this.writableMap(type);
        if (!map) return R.BadArgument;
        const raw = this.read(ptr, len);
        if (raw === null) return R.InvalidMemoryAccess;
        map.splice(0, map.length, ...decodePairs(raw).map(([k, v]) => [k.toLowerCase(), v] as [string, string]));
        return R.Ok;
      },
      proxy_add_header_map_value: (type: number, kPtr: number, kLen: number, vPtr: number, vLen: number) => {
        const map = this.writableMap(type);
        if (!map) return R.BadArgument;
        const k = this.readString(kPtr, kLen), v = this.readString(vPtr, vLen);
        if (k === null || v === null) return R.InvalidMemoryAccess;
        map.push([k.toLowerCase(), v]);
        return R.Ok;
      },
      proxy_replace_header_map_value: (type: number, kPtr: number, kLen: number, vPtr: number, vLen: number) => {
        const map = this.writableMap(type);
        if (!map) return R.BadArgument;
        const k = this.readString(kPtr, kLen), v = this.readString(vPtr, vLen);
        if (k === null || v === null) return R.InvalidMemoryAccess;
        const key = k.toLowerCase();
        const first = map.findIndex(([name]) => name === key);
        const rest = map.filter(([name], i) => name !== key || i === first);
        map.splice(0, map.length, ...rest);
        if (first >= 0) map[map.findIndex(([name]) => name === key)] = [key, v];
        else map.push([key, v]);
        return R.Ok;
      },
      proxy_remove_header_map_value: (type: number, kPtr: number, kLen: number) => {
        const map = this.writableMap(type);
        if (!map) return R.BadArgument;
        const k = this.readString(kPtr, kLen);
        if (k === null) return R.InvalidMemoryAccess;
        const key = k.toLowerCase();
        map.splice(0, map.length, ...map.filter(([name]) => name !== key));
        return R.Ok;
      },
      proxy_get_header_map_size: (type: number, retPtr: number) => {
        const map = this.targetStream()?.headerMap(type) ?? null;
        if (!map) return R.BadArgument;
        // Envoy answers with the byte size of the map, not the number of pairs.
        const size = map.pairs.reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
        return this.writeU32(retPtr, size) ? R.Ok : R.InvalidMemoryAccess;
      },

      proxy_get_buffer_bytes: (type: number, start: number, maxSize: number, retPtr: number, retSize: number) => {
        if (type > 8 || type < 0) return R.BadArgument;
        const buffer = this.buffer(type);
        if (buffer === null) return R.NotFound;
        start >>>= 0; maxSize >>>= 0;
        if (start > buffer.length) return this.copyOut(new Uint8Array(0), retPtr, retSize);
        const end = start + Math.min(maxSize, buffer.length - start);
        return this.copyOut(buffer.subarray(start, end), retPtr, retSize);
      },
      proxy_get_buffer_status: (type: number, retSize: number, retFlags: number) => {
        const buffer = this.buffer(type);
        if (buffer === null) return R.NotFound;
        return this.writeU32(retSize, buffer.length) && this.writeU32(retFlags, 0) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_set_buffer_bytes: (type: number, start: number, size: number, dataPtr: number, dataLen: number) => {
        const body = type === 0 || type === 1 ? this.targetStream()?.bodyBuffer(type) ?? null : null;
        if (!body) return R.NotFound;
        const data = this.read(dataPtr, dataLen);
        if (data === null) return R.InvalidMemoryAccess;
        const current = body.get();
        start >>>= 0; size >>>= 0;
        if (start === 0) body.set(Buffer.concat([data, current.subarray(Math.min(size, current.length))]));
        else if (start >= current.length) body.set(Buffer.concat([current, data]));
        else return R.BadArgument;
        return R.Ok;
      },

      proxy_continue_stream: (type: number) => {
        if (type > 3 || type < 0) return R.BadArgument;
        if (type === 3) return R.Unimplemented;
        const stream = this.targetStream();
        if (!stream) return R.Ok; // a root context has no stream: silently nothing
        this.deferred.push(() => stream.continueStream(type));
        return R.Ok;
      },
      proxy_close_stream: (type: number) => {
        if (type > 3 || type < 0) return R.BadArgument;
        const stream = this.targetStream();
        if (!stream) return R.Ok;
        this.deferred.push(() => stream.closeStream(type));
        return R.Ok;
      },
      proxy_send_local_response: (status: number, dPtr: number, dLen: number, bPtr: number, bLen: number, hPtr: number, hLen: number, grpc: number) => {
        const details = this.readString(dPtr, dLen), body = this.read(bPtr, bLen), headers = this.read(hPtr, hLen);
        if (details === null || body === null || headers === null) return R.InvalidMemoryAccess;
        const stream = this.targetStream();
        if (!stream) return R.Ok;
        const grpcStatus = grpc >>> 0 <= 16 ? grpc >>> 0 : null;
        stream.requestLocalReply({
          status: status >>> 0,
          details: details.replace(/\s/g, "_"),
          body,
          headers: decodePairs(headers).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
          grpcStatus,
        });
        return R.Ok;
      },

      proxy_grpc_call: (sPtr: number, sLen: number, snPtr: number, snLen: number, mPtr: number, mLen: number,
                        mdPtr: number, mdLen: number, msgPtr: number, msgLen: number, timeoutMs: number, retToken: number) => {
        const cluster = this.readString(sPtr, sLen), service = this.readString(snPtr, snLen), method = this.readString(mPtr, mLen);
        const md = this.read(mdPtr, mdLen), message = this.read(msgPtr, msgLen);
        if (cluster === null || service === null || method === null || md === null || message === null) return R.InvalidMemoryAccess;
        // Envoy tries a serialized GrpcService first, then a cluster name; unknown → PARSE_FAILURE.
        if (!this.opts.clusters.has(cluster)) return R.ParseFailure;
        const token = this.nextGrpcToken;
        this.nextGrpcToken += 4;
        if (!this.writeU32(retToken, token)) return R.InvalidMemoryAccess;
        const call = this.opts.clusters.call(cluster, service, method, decodePairs(md), message, timeoutMs >>> 0,
          (outcome) => this.grpcCompleted(token, outcome));
        this.pendingGrpc.set(token, call);
        return R.Ok;
      },
      proxy_grpc_cancel: (token: number) => this.cancelGrpc(token),
      proxy_grpc_close: (token: number) => this.cancelGrpc(token),
      proxy_get_status: (codePtr: number, msgPtr: number, msgSize: number) => {
        const status = this.grpcStatus ?? { code: 0, message: "" };
        if (!this.writeU32(codePtr, status.code)) return R.InvalidMemoryAccess;
        return this.copyOut(Buffer.from(status.message, "utf8"), msgPtr, msgSize);
      },
      proxy_set_effective_context: (id: number) => {
        if (id === this.rootContextId || this.streams.has(id)) { this.effectiveContext = id; return R.Ok; }
        return R.BadArgument;
      },
      proxy_done: () => {
        if (!this.rootDeletePending) return R.NotFound;
        this.rootDeletePending = false;
        const root = this.rootContextId;
        this.deferred.push(() => { try { this.callGuest("proxy_on_delete", root, [root]); } catch { /* failed */ } });
        return R.Ok;
      },
      proxy_set_tick_period_milliseconds: (period: number) => {
        this.tickPeriodMs = period >>> 0;
        if (this.tickTimer) clearInterval(this.tickTimer);
        this.tickTimer = this.tickPeriodMs > 0 ? setInterval(() => this.tick(), this.tickPeriodMs).unref() : null;
        return R.Ok;
      },
      proxy_get_current_time_nanoseconds: (ptr: number) => this.writeU64(ptr, this.opts.clockNs()) ? R.Ok : R.InvalidMemoryAccess,

      proxy_define_metric: (type: number, namePtr: number, nameLen: number, retId: number) => {
        const name = this.readString(namePtr, nameLen);
        if (name === null) return R.InvalidMemoryAccess;
        const defined = this.metrics.define(type, name);
        if (defined.status !== R.Ok) return defined.status;
        return this.writeU32(retId, defined.id!) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_increment_metric: (id: number, delta: bigint) => this.metrics.increment(id >>> 0, BigInt(delta)),
      proxy_record_metric: (id: number, value: bigint) => this.metrics.record(id >>> 0, BigInt.asUintN(64, BigInt(value))),
      proxy_get_metric: (id: number, retPtr: number) => {
        const got = this.metrics.get(id >>> 0);
        if (got.status !== R.Ok) return got.status;
        return this.writeU64(retPtr, got.value!) ? R.Ok : R.InvalidMemoryAccess;
      },

      proxy_get_shared_data: (kPtr: number, kLen: number, retPtr: number, retSize: number, retCas: number) => {
        const key = this.readString(kPtr, kLen);
        if (key === null) return R.InvalidMemoryAccess;
        const entry = this.opts.sharedData.get(key);
        if (!entry) return R.NotFound;
        if (!this.writeU32(retCas, entry.cas)) return R.InvalidMemoryAccess;
        return this.copyOut(entry.value, retPtr, retSize);
      },
      proxy_set_shared_data: (kPtr: number, kLen: number, vPtr: number, vLen: number, cas: number) => {
        const key = this.readString(kPtr, kLen), value = this.read(vPtr, vLen);
        if (key === null || value === null) return R.InvalidMemoryAccess;
        const entry = this.opts.sharedData.get(key);
        if (cas !== 0 && entry && entry.cas !== cas >>> 0) return R.CasMismatch;
        this.opts.sharedData.set(key, { value, cas: (entry?.cas ?? 0) + 1 });
        return R.Ok;
      },
      pthread_equal: (a: number, b: number) => (a === b ? 1 : 0),
      emscripten_notify_memory_growth: () => undefined,
    };
  }

  private wasiImplementations(): Record<string, (...args: any[]) => any> {
    return {
      fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number) => {
        if (fd !== 1 && fd !== 2) return 8;
        const view = new DataView(this.memory.buffer);
        const chunks: Uint8Array[] = [];
        for (let i = 0; i < iovsLen; i++) {
          const ptr = view.getUint32(iovs + i * 8, true), len = view.getUint32(iovs + i * 8 + 4, true);
          const b = this.read(ptr, len);
          if (b === null) return 21;
          chunks.push(b);
        }
        const text = Buffer.concat(chunks);
        this.writeU32(nwritten, text.length);
        this.opts.log({ level: fd === 1 ? 2 : 4, message: text.toString("utf8").replace(/\n$/, ""), contextId: this.targetId() });
        return 0;
      },
      fd_read: () => 52,
      fd_seek: () => 29,
      fd_close: () => 0,
      fd_fdstat_get: (fd: number, ptr: number) => {
        if (fd !== 1 && fd !== 2) return 8;
        const out = new Uint8Array(24); out[0] = 2; // character device
        if (!this.inBounds(ptr >>> 0, 24)) return 21;
        this.bytes().set(out, ptr >>> 0);
        return 0;
      },
      fd_fdstat_set_flags: () => 52,
      fd_prestat_get: () => 8,
      fd_prestat_dir_name: () => 52,
      fd_filestat_get: () => 52,
      path_open: () => 44,
      environ_get: () => 0,
      environ_sizes_get: (count: number, size: number) => (this.writeU32(count, 0) && this.writeU32(size, 0) ? 0 : 21),
      args_get: () => 0,
      args_sizes_get: (count: number, size: number) => (this.writeU32(count, 0) && this.writeU32(size, 0) ? 0 : 21),
      clock_time_get: (id: number, _precision: bigint, ret: number) => {
        if (id === 0) return this.writeU64(ret, this.opts.clockNs()) ? 0 : 21;
        if (id === 1) return this.writeU64(ret, process.hrtime.bigint()) ? 0 : 21;
        return 58;
      },
      clock_res_get: (_id: number, ret: number) => (this.writeU64(ret, 1n) ? 0 : 21),
      random_get: (ptr: number, len: number) => {
        if (!this.inBounds(ptr >>> 0, len >>> 0)) return 21;
        randomFillSync(this.bytes(), ptr >>> 0, len >>> 0);
        return 0;
      },
      // Envoy logs and returns: proc_exit does not stop the guest.
      proc_exit: () => { this.opts.log({ level: 4, message: "wasi_unstable proc_exit", contextId: this.targetId() }); },
      sched_yield: () => 0,
      poll_oneoff: () => 52,
    };
  }

  private writableMap(type: number): HeaderList | null {
    const map = this.targetStream()?.headerMap(type) ?? null;
    return map && map.writable ? map.pairs : null;
  }

  private buffer(type: number): Uint8Array | null {
    const fixed = this.callBuffers.get(type);
    if (fixed) return fixed;
    if (type === BufferType.RequestBody || type === BufferType.ResponseBody) {
      return this.targetStream()?.bodyBuffer(type)?.get() ?? null;
    }
    return null;
  }

  private cancelGrpc(token: number): number {
    const call = this.pendingGrpc.get(token >>> 0);
    if (!call) return WasmResult.NotFound;
    call.cancel();
    this.pendingGrpc.delete(token >>> 0);
    return WasmResult.Ok;
  }

  /** Exactly one of proxy_on_grpc_receive / proxy_on_grpc_close, on the root context. */
  private grpcCompleted(token: number, outcome: GrpcOutcome): void {
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
