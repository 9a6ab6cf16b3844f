// Typed wrappers over the raw imports. Every wrapper handles every status the host can return:
// a missing header or an unavailable map is a normal answer, never a trap.
import * as imp from "./imports";
import { WasmResult, LogLevel } from "./enums";
import { resetSlots, outPtr, outSize, takeReturnedBytes, takeReturnedString, releaseReturned, u32Slot, u64Slot, scratchBuffer, writeUtf8, utf8Size, expectTransient, endTransient } from "./memory";
import { HeaderMap } from "./header-map";
import { HeaderPair, encodePairs, decodePairs, pairsSize, writePairs } from "./pairs";
import { encodePropertyPath } from "./property";
import { callbackEpoch } from "./callbacks";

function ptr(bytes: ArrayBuffer): usize { return changetype<usize>(bytes); }
function len(bytes: ArrayBuffer): usize { return <usize>bytes.byteLength; }

// ---- logging ----------------------------------------------------------------------------

let cachedLogLevel: u32 = LogLevel.Trace;
let logLevelKnown = false;
let levelOverride: i32 = -1;

/** A plugin-chosen minimum level (e.g. Kuadrant's observability.defaultLevel); -1 follows Envoy. */
export function setLogLevelOverride(level: i32): void { levelOverride = level; }

/** Envoy's current wasm log level; read once per VM callback chain and cached. */
export function logLevel(): u32 {
  if (levelOverride >= 0) return <u32>levelOverride;
  if (!logLevelKnown) {
    resetSlots();
    if (imp.proxy_get_log_level(outPtr()) == WasmResult.Ok) cachedLogLevel = u32Slot();
    logLevelKnown = true;
  }
  return cachedLogLevel;
}

/** Forget the cached level (called at configure time, when operators change it). */
export function refreshLogLevel(): void { logLevelKnown = false; }

export function log(level: u32, message: string): void {
  if (level < logLevel()) return;
  const at = scratchBuffer(utf8Size(message));
  imp.proxy_log(level, at, writeUtf8(message, at));
}

export function logTrace(message: string): void { log(LogLevel.Trace, message); }
export function logDebug(message: string): void { log(LogLevel.Debug, message); }

/** Guards hot-path debug messages so their text is only built when it will be logged. */
export function debugEnabled(): bool { return logLevel() <= LogLevel.Debug; }
export function logInfo(message: string): void { log(LogLevel.Info, message); }
export function logWarn(message: string): void { log(LogLevel.Warn, message); }
export function logError(message: string): void { log(LogLevel.Error, message); }

// ---- buffers ----------------------------------------------------------------------------

/** Bytes of a buffer, or null when the host says it is not available in this phase. */
export function getBufferBytes(bufferType: u32, start: u32, maxSize: u32): ArrayBuffer | null {
  resetSlots();
  const status = imp.proxy_get_buffer_bytes(bufferType, start, maxSize, outPtr(), outSize());
  if (status != WasmResult.Ok) { releaseReturned(); return null; }
  return takeReturnedBytes();
}

export function setBufferBytes(bufferType: u32, start: u32, size: u32, data: ArrayBuffer): u32 {
  return imp.proxy_set_buffer_bytes(bufferType, start, size, ptr(data), len(data));
}

// ---- header maps ------------------------------------------------------------------------

export function getHeaderMapPairs(mapType: u32): Array<HeaderPair> {
  return getHeaderMap(mapType).pairs();
}

/** The whole map, read in place (an empty map when it is not available now). */
export function getHeaderMap(mapType: u32): HeaderMap {
  resetSlots();
  const status = imp.proxy_get_header_map_pairs(mapType, outPtr(), outSize());
  if (status != WasmResult.Ok) { releaseReturned(); return HeaderMap.empty(); }
  return new HeaderMap(takeReturnedBytes());
}

/** First value of a header, or null when absent or when the map is not available now. */
export function getHeaderMapValue(mapType: u32, key: string): string | null {
  const at = scratchBuffer(utf8Size(key));
  const keyLen = writeUtf8(key, at);
  resetSlots();
  const status = imp.proxy_get_header_map_value(mapType, at, keyLen, outPtr(), outSize());
  if (status != WasmResult.Ok) { releaseReturned(); return null; }
  return takeReturnedString();
}

export function setHeaderMapPairs(mapType: u32, pairs: Array<HeaderPair>): u32 {
  const bytes = encodePairs(pairs);
  return imp.proxy_set_header_map_pairs(mapType, ptr(bytes), len(bytes));
}

export function addHeaderMapValue(mapType: u32, key: string, value: string): u32 {
  const k = scratchBuffer(utf8Size(key) + utf8Size(value));
  const kLen = writeUtf8(key, k);
  const v = k + kLen;
  return imp.proxy_add_header_map_value(mapType, k, kLen, v, writeUtf8(value, v));
}

export function replaceHeaderMapValue(mapType: u32, key: string, value: string): u32 {
  const k = scratchBuffer(utf8Size(key) + utf8Size(value));
  const kLen = writeUtf8(key, k);
  const v = k + kLen;
  return imp.proxy_replace_header_map_value(mapType, k, kLen, v, writeUtf8(value, v));
}

export function removeHeaderMapValue(mapType: u32, key: string): u32 {
  const k = scratchBuffer(utf8Size(key));
  return imp.proxy_remove_header_map_value(mapType, k, writeUtf8(key, k));
}

// ---- properties -------------------------------------------------------------------------

/** Outcome of a property read: the status tells "absent" (NotFound) from "not now" (BadArgument). */
export class PropertyResult {
  constructor(public status: u32, public bytes: ArrayBuffer) {}
  get found(): bool { return this.status == WasmResult.Ok; }
}

export function getProperty(path: Array<string>): PropertyResult {
  const pathBytes = encodePropertyPath(path);
  resetSlots();
  const status = imp.proxy_get_property(ptr(pathBytes), len(pathBytes), outPtr(), outSize());
  if (status != WasmResult.Ok) { releaseReturned(); return new PropertyResult(status, new ArrayBuffer(0)); }
  const bytes = takeReturnedBytes();
  return new PropertyResult(status, bytes);
}

/**
 * Reads a property (path already encoded) for immediate use: the value is at returnedPtr() /
 * returnedSize() (memory.ts), valid until the next such read; nothing is allocated for it.
 */
export function readPropertyTransient(encodedPath: ArrayBuffer): u32 {
  resetSlots();
  expectTransient();
  const status = imp.proxy_get_property(ptr(encodedPath), len(encodedPath), outPtr(), outSize());
  endTransient();
  return status;
}

export function setProperty(path: Array<string>, value: ArrayBuffer): u32 {
  const pathBytes = encodePropertyPath(path);
  return imp.proxy_set_property(ptr(pathBytes), len(pathBytes), ptr(value), len(value));
}

// Filter-state names a plugin writes are few and the same on every request: encoded once.
const filterStatePaths = new Map<string, ArrayBuffer>();

/** setProperty([name], value) for a filter-state name. */
export function setFilterState(name: string, value: ArrayBuffer): u32 {
  let path: ArrayBuffer;
  if (filterStatePaths.has(name)) path = filterStatePaths.get(name);
  else {
    path = encodePropertyPath([name]);
    if (filterStatePaths.size < 256) filterStatePaths.set(name, path);
  }
  return imp.proxy_set_property(ptr(path), len(path), ptr(value), len(value));
}

// ---- stream control ---------------------------------------------------------------------

export function continueStream(streamType: u32): u32 {
  return imp.proxy_continue_stream(streamType);
}

export function sendLocalResponse(status: u32, details: string, body: ArrayBuffer,
                                  headers: Array<HeaderPair>, grpcStatus: i32): u32 {
  const d = String.UTF8.encode(details);
  const h = encodePairs(headers);
  return imp.proxy_send_local_response(status, ptr(d), len(d), ptr(body), len(body), ptr(h), len(h), grpcStatus);
}

export function setEffectiveContext(contextId: u32): u32 {
  return imp.proxy_set_effective_context(contextId);
}

export function setTickPeriodMilliseconds(periodMs: u32): u32 {
  return imp.proxy_set_tick_period_milliseconds(periodMs);
}

let clockEpoch: u32 = 0;
let clockNs: u64 = 0;

/** Wall-clock time in nanoseconds since the epoch (0 if the host refuses), read once per callback. */
export function currentTimeNanoseconds(): u64 {
  if (clockEpoch == callbackEpoch && clockNs != 0) return clockNs;
  resetSlots();
  clockNs = imp.proxy_get_current_time_nanoseconds(outPtr()) == WasmResult.Ok ? u64Slot() : 0;
  clockEpoch = callbackEpoch;
  return clockNs;
}

// ---- gRPC -------------------------------------------------------------------------------

/** The outcome of dispatching a call: a token when status is Ok. One reused object: read it before the next call. */
export class GrpcDispatch {
  constructor(public status: u32, public token: u32) {}
}

const lastDispatch = new GrpcDispatch(0, 0);

export function grpcCall(cluster: string, service: string, method: string,
                         initialMetadata: Array<HeaderPair>, message: ArrayBuffer,
                         timeoutMs: u32): GrpcDispatch {
  const mdLen = pairsSize(initialMetadata);
  const c = scratchBuffer(utf8Size(cluster) + utf8Size(service) + utf8Size(method) + mdLen);
  const cLen = writeUtf8(cluster, c);
  const s = c + cLen, sLen = writeUtf8(service, s);
  const m = s + sLen, mLen = writeUtf8(method, m);
  const md = m + mLen;
  writePairs(initialMetadata, md);
  resetSlots();
  const status = imp.proxy_grpc_call(c, cLen, s, sLen, m, mLen, md, mdLen, ptr(message), len(message), timeoutMs, outPtr());
  lastDispatch.status = status;
  lastDispatch.token = status == WasmResult.Ok ? u32Slot() : 0;
  return lastDispatch;
}

/** A call's cluster, service and method, encoded once for every call to them. */
export class GrpcTarget {
  readonly bytes: ArrayBuffer;
  readonly clusterLen: usize;
  readonly serviceLen: usize;
  readonly methodLen: usize;

  constructor(cluster: string, service: string, method: string) {
    const c = utf8Size(cluster), s = utf8Size(service), m = utf8Size(method);
    const bytes = new ArrayBuffer(<i32>(c + s + m));
    const p = changetype<usize>(bytes);
    writeUtf8(cluster, p);
    writeUtf8(service, p + c);
    writeUtf8(method, p + c + s);
    this.bytes = bytes;
    this.clusterLen = c;
    this.serviceLen = s;
    this.methodLen = m;
  }
}

/** grpcCall with the target and the initial metadata (pairs) already encoded. */
export function grpcCallEncoded(target: GrpcTarget, metadata: ArrayBuffer, message: ArrayBuffer, timeoutMs: u32): GrpcDispatch {
  const c = changetype<usize>(target.bytes);
  const s = c + target.clusterLen, m = s + target.serviceLen;
  resetSlots();
  const status = imp.proxy_grpc_call(c, target.clusterLen, s, target.serviceLen, m, target.methodLen, ptr(metadata), len(metadata), ptr(message), len(message), timeoutMs, outPtr());
  lastDispatch.status = status;
  lastDispatch.token = status == WasmResult.Ok ? u32Slot() : 0;
  return lastDispatch;
}

export function grpcCancel(token: u32): u32 {
  return imp.proxy_grpc_cancel(token);
}

export class HostStatus {
  constructor(public code: u32, public message: string) {}
}

/** The gRPC status and message of the call being closed (valid inside proxy_on_grpc_close). */
const statusCodeSlot: usize = memory.data(8);

export function getStatus(): HostStatus {
  resetSlots();
  const codeSlot = statusCodeSlot;
  store<u64>(codeSlot, 0);
  const status = imp.proxy_get_status(codeSlot, outPtr(), outSize());
  if (status != WasmResult.Ok) { releaseReturned(); return new HostStatus(2, ""); }
  const message = takeReturnedString();
  return new HostStatus(load<u32>(codeSlot), message);
}

// ---- metrics ----------------------------------------------------------------------------

/** Defines a metric; returns its id, or 0 when the host refuses (callers then skip it). */
export function defineMetric(metricType: u32, name: string): u32 {
  const n = String.UTF8.encode(name);
  resetSlots();
  if (imp.proxy_define_metric(metricType, ptr(n), len(n), outPtr()) != WasmResult.Ok) return 0;
  return u32Slot();
}

/** Envoy refuses a counter delta of 0; callers need not check. */
export function incrementMetric(metricId: u32, delta: i64): u32 {
  if (metricId == 0 || delta == 0) return WasmResult.Ok;
  return imp.proxy_increment_metric(metricId, delta);
}

export function recordMetric(metricId: u32, value: u64): u32 {
  if (metricId == 0) return WasmResult.Ok;
  return imp.proxy_record_metric(metricId, value);
}

export function getMetric(metricId: u32): u64 {
  resetSlots();
  if (imp.proxy_get_metric(metricId, outPtr()) != WasmResult.Ok) return 0;
  return u64Slot();
}
