// Typed wrappers over the raw imports. Every wrapper handles every status the host can return:
// a missing header or an unavailable map is a normal answer, never a trap.
import * as imp from "./imports";
import { WasmResult, LogLevel } from "./enums";
import { resetSlots, outPtr, outSize, takeReturnedBytes, u32Slot, u64Slot } from "./memory";
import { HeaderPair, encodePairs, decodePairs } from "./pairs";
import { encodePropertyPath } from "./property";

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
  const bytes = String.UTF8.encode(message);
  imp.proxy_log(level, ptr(bytes), len(bytes));
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
  if (status != WasmResult.Ok) return null;
  return takeReturnedBytes();
}

export function setBufferBytes(bufferType: u32, start: u32, size: u32, data: ArrayBuffer): u32 {
  return imp.proxy_set_buffer_bytes(bufferType, start, size, ptr(data), len(data));
}

// ---- header maps ------------------------------------------------------------------------

export function getHeaderMapPairs(mapType: u32): Array<HeaderPair> {
  resetSlots();
  const status = imp.proxy_get_header_map_pairs(mapType, outPtr(), outSize());
  if (status != WasmResult.Ok) return new Array<HeaderPair>();
  return decodePairs(takeReturnedBytes());
}

/** First value of a header, or null when absent or when the map is not available now. */
export function getHeaderMapValue(mapType: u32, key: string): string | null {
  const keyBytes = String.UTF8.encode(key);
  resetSlots();
  const status = imp.proxy_get_header_map_value(mapType, ptr(keyBytes), len(keyBytes), outPtr(), outSize());
  if (status != WasmResult.Ok) return null;
  return String.UTF8.decode(takeReturnedBytes());
}

export function setHeaderMapPairs(mapType: u32, pairs: Array<HeaderPair>): u32 {
  const bytes = encodePairs(pairs);
  return imp.proxy_set_header_map_pairs(mapType, ptr(bytes), len(bytes));
}

export function addHeaderMapValue(mapType: u32, key: string, value: string): u32 {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  return imp.proxy_add_header_map_value(mapType, ptr(k), len(k), ptr(v), len(v));
}

export function replaceHeaderMapValue(mapType: u32, key: string, value: string): u32 {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  return imp.proxy_replace_header_map_value(mapType, ptr(k), len(k), ptr(v), len(v));
}

export function removeHeaderMapValue(mapType: u32, key: string): u32 {
  const k = String.UTF8.encode(key);
  return imp.proxy_remove_header_map_value(mapType, ptr(k), len(k));
}

// ---- properties -------------------------------------------------------------------------

/** Outcome of a property read: the status tells "absent" (NotFound) from "not now" (BadArgument). */
export class PropertyResult {
  constructor(public status: u32, public bytes: ArrayBuffer) {}
  get found(): bool { return this.status == WasmResult.Ok; }
}

// Encoded paths are reused: the same few attribute paths are read on every request.
const encodedPaths = new Map<string, ArrayBuffer>();

function encodedPath(path: Array<string>, key: string): ArrayBuffer {
  if (encodedPaths.has(key)) return encodedPaths.get(key);
  const bytes = encodePropertyPath(path);
  if (encodedPaths.size < 1024) encodedPaths.set(key, bytes);
  return bytes;
}

export function getProperty(path: Array<string>): PropertyResult {
  return getPropertyKeyed(path, path.join("\0"));
}

/** getProperty with the path's NUL-joined key precomputed (it is also the encoded-path cache key). */
export function getPropertyKeyed(path: Array<string>, key: string): PropertyResult {
  const pathBytes = encodedPath(path, key);
  resetSlots();
  const status = imp.proxy_get_property(ptr(pathBytes), len(pathBytes), outPtr(), outSize());
  if (status != WasmResult.Ok) return new PropertyResult(status, new ArrayBuffer(0));
  return new PropertyResult(status, takeReturnedBytes());
}

export function setProperty(path: Array<string>, value: ArrayBuffer): u32 {
  const pathBytes = encodePropertyPath(path);
  return imp.proxy_set_property(ptr(pathBytes), len(pathBytes), ptr(value), len(value));
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

/** Wall-clock time in nanoseconds since the epoch (0 if the host refuses). */
export function currentTimeNanoseconds(): u64 {
  resetSlots();
  if (imp.proxy_get_current_time_nanoseconds(outPtr()) != WasmResult.Ok) return 0;
  return u64Slot();
}

// ---- gRPC -------------------------------------------------------------------------------

/** The outcome of dispatching a call: a token when status is Ok. */
export class GrpcDispatch {
  constructor(public status: u32, public token: u32) {}
}

export function grpcCall(cluster: string, service: string, method: string,
                         initialMetadata: Array<HeaderPair>, message: ArrayBuffer,
                         timeoutMs: u32): GrpcDispatch {
  const c = String.UTF8.encode(cluster);
  const s = String.UTF8.encode(service);
  const m = String.UTF8.encode(method);
  const md = encodePairs(initialMetadata);
  resetSlots();
  const status = imp.proxy_grpc_call(ptr(c), len(c), ptr(s), len(s), ptr(m), len(m),
    ptr(md), len(md), ptr(message), len(message), timeoutMs, outPtr());
  return new GrpcDispatch(status, status == WasmResult.Ok ? u32Slot() : 0);
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
  if (status != WasmResult.Ok) return new HostStatus(2, "");
  return new HostStatus(load<u32>(codeSlot), String.UTF8.decode(takeReturnedBytes()));
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
