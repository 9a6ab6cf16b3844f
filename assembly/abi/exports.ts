// The callbacks Envoy calls (research/proxy-wasm-abi.md §1.2), dispatched to the contexts.
// Re-exported by the entry module so they appear in the .wasm export section.
import { createContext, rootContext, httpContext, deleteContext, deliverGrpcReceive, deliverGrpcClose } from "./context";
import { HeadersStatus, DataStatus, TrailersStatus, BufferType } from "./enums";
import { getBufferBytes } from "./hostcalls";

export { malloc } from "./memory";

/** The ABI marker Envoy looks for in the export section; never called. */
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  createContext(contextId, parentContextId);
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): bool {
  const root = rootContext(rootContextId);
  if (root === null) return false;
  const config = vmConfigurationSize > 0 ? getBufferBytes(BufferType.VmConfiguration, 0, vmConfigurationSize) : null;
  return root.onVmStart(config !== null ? config : new ArrayBuffer(0));
}

export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): bool {
  const root = rootContext(rootContextId);
  if (root === null) return false;
  const config = pluginConfigurationSize > 0 ? getBufferBytes(BufferType.PluginConfiguration, 0, pluginConfigurationSize) : null;
  return root.onConfigure(config !== null ? config : new ArrayBuffer(0));
}

export function proxy_on_tick(rootContextId: u32): void {
  const root = rootContext(rootContextId);
  if (root !== null) root.onTick();
}

export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: bool): i32 {
  const stream = httpContext(contextId);
  return stream === null ? HeadersStatus.Continue : stream.onRequestHeaders(headerCount, endOfStream);
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  const stream = httpContext(contextId);
  return stream === null ? DataStatus.Continue : stream.onRequestBody(bodySize, endOfStream);
}

export function proxy_on_request_trailers(contextId: u32, trailerCount: u32): i32 {
  const stream = httpContext(contextId);
  return stream === null ? TrailersStatus.Continue : stream.onRequestTrailers(trailerCount);
}

export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: bool): i32 {
  const stream = httpContext(contextId);
  return stream === null ? HeadersStatus.Continue : stream.onResponseHeaders(headerCount, endOfStream);
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  const stream = httpContext(contextId);
  return stream === null ? DataStatus.Continue : stream.onResponseBody(bodySize, endOfStream);
}

export function proxy_on_response_trailers(contextId: u32, trailerCount: u32): i32 {
  const stream = httpContext(contextId);
  return stream === null ? TrailersStatus.Continue : stream.onResponseTrailers(trailerCount);
}

export function proxy_on_log(contextId: u32): void {
  const stream = httpContext(contextId);
  if (stream !== null) stream.onLog();
}

export function proxy_on_done(contextId: u32): bool {
  const stream = httpContext(contextId);
  if (stream !== null) { stream.onDone(); return true; }
  const root = rootContext(contextId);
  return root === null ? true : root.onDone();
}

export function proxy_on_delete(contextId: u32): void {
  deleteContext(contextId);
}

export function proxy_on_grpc_receive(rootContextId: u32, token: u32, messageSize: u32): void {
  deliverGrpcReceive(token, messageSize);
}

export function proxy_on_grpc_close(rootContextId: u32, token: u32, statusCode: u32): void {
  deliverGrpcClose(token, statusCode);
}
