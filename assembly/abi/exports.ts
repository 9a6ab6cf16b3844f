// The callbacks Envoy calls (research/proxy-wasm-abi.md §1.2), dispatched to the contexts.
// Re-exported by the entry module so they appear in the .wasm export section. Every callback
// is bracketed by enterCallback/leaveCallback (callbacks.ts: clock cache, garbage collection).
import { createContext, rootContext, httpContext, deleteContext, deliverGrpcReceive, deliverGrpcClose } from "./context";
import { HeadersStatus, DataStatus, TrailersStatus, BufferType } from "./enums";
import { getBufferBytes } from "./hostcalls";
import { enterCallback, leaveCallback } from "./callbacks";

export { malloc } from "./memory";

/** The ABI marker Envoy looks for in the export section; never called. */
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enterCallback();
  onContextCreate(contextId, parentContextId);
  leaveCallback();
}

function onContextCreate(contextId: u32, parentContextId: u32): void {
  createContext(contextId, parentContextId);
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): bool {
  enterCallback();
  const result = onVmStart(rootContextId, vmConfigurationSize);
  leaveCallback();
  return result;
}

function onVmStart(rootContextId: u32, vmConfigurationSize: u32): bool {
  const root = rootContext(rootContextId);
  if (root === null) return false;
  const config = vmConfigurationSize > 0 ? getBufferBytes(BufferType.VmConfiguration, 0, vmConfigurationSize) : null;
  return root.onVmStart(config !== null ? config : new ArrayBuffer(0));
}

export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): bool {
  enterCallback();
  const result = onConfigure(rootContextId, pluginConfigurationSize);
  leaveCallback();
  return result;
}

function onConfigure(rootContextId: u32, pluginConfigurationSize: u32): bool {
  const root = rootContext(rootContextId);
  if (root === null) return false;
  const config = pluginConfigurationSize > 0 ? getBufferBytes(BufferType.PluginConfiguration, 0, pluginConfigurationSize) : null;
  return root.onConfigure(config !== null ? config : new ArrayBuffer(0));
}

export function proxy_on_tick(rootContextId: u32): void {
  enterCallback();
  onTick(rootContextId);
  leaveCallback();
}

function onTick(rootContextId: u32): void {
  const root = rootContext(rootContextId);
  if (root !== null) root.onTick();
}

export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: bool): i32 {
  enterCallback();
  const result = onRequestHeaders(contextId, headerCount, endOfStream);
  leaveCallback();
  return result;
}

function onRequestHeaders(contextId: u32, headerCount: u32, endOfStream: bool): i32 {
  const stream = httpContext(contextId);
  return stream === null ? HeadersStatus.Continue : stream.onRequestHeaders(headerCount, endOfStream);
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  enterCallback();
  const result = onRequestBody(contextId, bodySize, endOfStream);
  leaveCallback();
  return result;
}

function onRequestBody(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  const stream = httpContext(contextId);
  return stream === null ? DataStatus.Continue : stream.onRequestBody(bodySize, endOfStream);
}

export function proxy_on_request_trailers(contextId: u32, trailerCount: u32): i32 {
  enterCallback();
  const result = onRequestTrailers(contextId, trailerCount);
  leaveCallback();
  return result;
}

function onRequestTrailers(contextId: u32, trailerCount: u32): i32 {
  const stream = httpContext(contextId);
  return stream === null ? TrailersStatus.Continue : stream.onRequestTrailers(trailerCount);
}

export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: bool): i32 {
  enterCallback();
  const result = onResponseHeaders(contextId, headerCount, endOfStream);
  leaveCallback();
  return result;
}

function onResponseHeaders(contextId: u32, headerCount: u32, endOfStream: bool): i32 {
  const stream = httpContext(contextId);
  return stream === null ? HeadersStatus.Continue : stream.onResponseHeaders(headerCount, endOfStream);
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  enterCallback();
  const result = onResponseBody(contextId, bodySize, endOfStream);
  leaveCallback();
  return result;
}

function onResponseBody(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  const stream = httpContext(contextId);
  return stream === null ? DataStatus.Continue : stream.onResponseBody(bodySize, endOfStream);
}

export function proxy_on_response_trailers(contextId: u32, trailerCount: u32): i32 {
  enterCallback();
  const result = onResponseTrailers(contextId, trailerCount);
  leaveCallback();
  return result;
}

function onResponseTrailers(contextId: u32, trailerCount: u32): i32 {
  const stream = httpContext(contextId);
  return stream === null ? TrailersStatus.Continue : stream.onResponseTrailers(trailerCount);
}

export function proxy_on_log(contextId: u32): void {
  enterCallback();
  onLog(contextId);
  leaveCallback();
}

function onLog(contextId: u32): void {
  const stream = httpContext(contextId);
  if (stream !== null) stream.onLog();
}

export function proxy_on_done(contextId: u32): bool {
  enterCallback();
  const result = onDone(contextId);
  leaveCallback();
  return result;
}

function onDone(contextId: u32): bool {
  const stream = httpContext(contextId);
  if (stream !== null) { stream.onDone(); return true; }
  const root = rootContext(contextId);
  return root === null ? true : root.onDone();
}

export function proxy_on_delete(contextId: u32): void {
  enterCallback();
  onDelete(contextId);
  leaveCallback();
}

function onDelete(contextId: u32): void {
  deleteContext(contextId);
}

export function proxy_on_grpc_receive(rootContextId: u32, token: u32, messageSize: u32): void {
  enterCallback();
  onGrpcReceive(rootContextId, token, messageSize);
  leaveCallback();
}

function onGrpcReceive(rootContextId: u32, token: u32, messageSize: u32): void {
  deliverGrpcReceive(token, messageSize);
}

export function proxy_on_grpc_close(rootContextId: u32, token: u32, statusCode: u32): void {
  enterCallback();
  onGrpcClose(rootContextId, token, statusCode);
  leaveCallback();
}

function onGrpcClose(rootContextId: u32, token: u32, statusCode: u32): void {
  deliverGrpcClose(token, statusCode);
}
