// Root and HTTP contexts, the registry that maps Envoy's context ids to them, and the routing of
// gRPC replies. Envoy delivers every gRPC reply to the root context (research §2.6); the
// registry maps the token back to the stream that made the call and makes it the effective
// context, or drops the reply when that stream is already gone.
import { HeadersStatus, DataStatus, TrailersStatus, WasmResult, BufferType } from "./enums";
import { HeaderPair } from "./pairs";
import * as host from "./hostcalls";

const NO_TOKENS = new Array<u32>(0);

export class RootContext {
  constructor(public readonly contextId: u32) {}

  /** proxy_on_vm_start: return false to fail the plugin start. */
  onVmStart(vmConfiguration: ArrayBuffer): bool { return true; }

  /** proxy_on_configure: return false to reject the configuration. */
  onConfigure(pluginConfiguration: ArrayBuffer): bool { return true; }

  onTick(): void {}

  /** Replies to calls this root context dispatched itself (dispatchGrpcCall below). */
  onGrpcReply(token: u32, message: ArrayBuffer): void {}
  onGrpcFailure(token: u32, status: u32, message: string): void {}

  /** A unary call owned by the plugin, not by a stream (e.g. fetching descriptors at configure time). */
  dispatchGrpcCall(cluster: string, service: string, method: string,
                   initialMetadata: Array<HeaderPair>, message: ArrayBuffer, timeoutMs: u32): host.GrpcDispatch {
    const dispatch = host.grpcCall(cluster, service, method, initialMetadata, message, timeoutMs);
    if (dispatch.status == WasmResult.Ok) rootCallOwners.set(dispatch.token, this.contextId);
    return dispatch;
  }

  /** Returns the per-request context; the default passes every request through. */
  createHttpContext(contextId: u32): HttpContext { return new HttpContext(contextId, this); }

  /** proxy_on_done: true lets Envoy delete the root context now. */
  onDone(): bool { return true; }

  onDelete(): void {}
}

/**
 * A call that outlives the stream that made it (a Report sent as the response ends): its answer
 * arrives after the stream is deleted, and still has to be counted somewhere.
 */
export class LateCall {
  /** The call succeeded (the reply itself is not read). */
  onReply(): void {}
  /** The call failed: non-OK status, timeout (4), unreachable service (14), ... */
  onFailure(status: u32, message: string): void {}
}

/**
 * One HTTP stream. Override the callbacks you need; the defaults continue.
 * gRPC replies for calls made with `dispatchGrpcCall` arrive in `onGrpcReply`/`onGrpcFailure`
 * with this context already effective.
 */
export class HttpContext {
  /** Set once a local reply was sent: a second one would hang the stream in Envoy. */
  localReplySent: bool = false;
  /** Tokens of calls in flight, cancelled-by-forgetting when the stream is deleted (made on the first call). */
  pendingTokens: Array<u32> = NO_TOKENS;

  constructor(public readonly contextId: u32, public readonly root: RootContext) {}

  onRequestHeaders(headerCount: u32, endOfStream: bool): i32 { return HeadersStatus.Continue; }
  onRequestBody(bodySize: u32, endOfStream: bool): i32 { return DataStatus.Continue; }
  onRequestTrailers(trailerCount: u32): i32 { return TrailersStatus.Continue; }
  onResponseHeaders(headerCount: u32, endOfStream: bool): i32 { return HeadersStatus.Continue; }
  onResponseBody(bodySize: u32, endOfStream: bool): i32 { return DataStatus.Continue; }
  onResponseTrailers(trailerCount: u32): i32 { return TrailersStatus.Continue; }
  onLog(): void {}
  onDone(): void {}
  onDelete(): void {}

  /** A successful unary reply (gRPC OK); `message` is the bare protobuf response. */
  onGrpcReply(token: u32, message: ArrayBuffer): void {}
  /** A failed unary call: non-OK status, timeout (4), unreachable service (14), ... */
  onGrpcFailure(token: u32, status: u32, message: string): void {}

  /** What takes the answer of a call still in flight when this stream is deleted (null: dropped). */
  outliving(token: u32): LateCall | null { return null; }

  /**
   * Dispatches a unary gRPC call owned by this stream. Returns the host status; on Ok the
   * reply will reach onGrpcReply/onGrpcFailure.
   */
  dispatchGrpcCall(cluster: string, service: string, method: string,
                   initialMetadata: Array<HeaderPair>, message: ArrayBuffer, timeoutMs: u32): host.GrpcDispatch {
    const dispatch = host.grpcCall(cluster, service, method, initialMetadata, message, timeoutMs);
    if (dispatch.status == WasmResult.Ok) {
      grpcCallOwners.set(dispatch.token, this.contextId);
      if (this.pendingTokens === NO_TOKENS) this.pendingTokens = new Array<u32>();
      this.pendingTokens.push(dispatch.token);
    }
    return dispatch;
  }

  /** dispatchGrpcCall with the target and metadata already encoded (hostcalls.ts). */
  dispatchGrpcCallTo(target: host.GrpcTarget, metadata: ArrayBuffer, message: ArrayBuffer, timeoutMs: u32): host.GrpcDispatch {
    const dispatch = host.grpcCallEncoded(target, metadata, message, timeoutMs);
    if (dispatch.status == WasmResult.Ok) {
      grpcCallOwners.set(dispatch.token, this.contextId);
      if (this.pendingTokens === NO_TOKENS) this.pendingTokens = new Array<u32>();
      this.pendingTokens.push(dispatch.token);
    }
    return dispatch;
  }

  /** Sends a local reply once; later attempts are ignored and reported as false. */
  sendLocalReply(status: u32, details: string, body: string, headers: Array<HeaderPair>): bool {
    if (this.localReplySent) return false;
    this.localReplySent = true;
    host.sendLocalResponse(status, details, String.UTF8.encode(body), headers, -1);
    return true;
  }

  continueRequest(): void { host.continueStream(0); }
  continueResponse(): void { host.continueStream(1); }

  forgetToken(token: u32): void {
    const tokens = this.pendingTokens;
    const index = tokens.indexOf(token);
    if (index >= 0) {
      for (let i = index + 1; i < tokens.length; i++) tokens[i - 1] = tokens[i];
      tokens.length = tokens.length - 1;
    }
    grpcCallOwners.delete(token);
  }
}

// ---- registry ---------------------------------------------------------------------------

export type RootContextFactory = (contextId: u32) => RootContext;

let rootFactory: RootContextFactory = (id: u32): RootContext => new RootContext(id);
const roots = new Map<u32, RootContext>();
const streams = new Map<u32, HttpContext>();
const grpcCallOwners = new Map<u32, u32>();
const rootCallOwners = new Map<u32, u32>();

/** The entry module calls this once, at top level, to install its root context class. */
export function setRootContextFactory(factory: RootContextFactory): void {
  rootFactory = factory;
}

export function createContext(contextId: u32, parentId: u32): void {
  if (parentId == 0) {
    host.refreshLogLevel();
    roots.set(contextId, rootFactory(contextId));
    return;
  }
  if (!roots.has(parentId)) return;
  host.refreshLogLevel();
  streams.set(contextId, roots.get(parentId).createHttpContext(contextId));
}

export function rootContext(contextId: u32): RootContext | null {
  return roots.has(contextId) ? roots.get(contextId) : null;
}

export function httpContext(contextId: u32): HttpContext | null {
  return streams.has(contextId) ? streams.get(contextId) : null;
}

export function deleteContext(contextId: u32): void {
  if (streams.has(contextId)) {
    const stream = streams.get(contextId);
    stream.onDelete();
    // Replies that arrive later go to what the stream left for them, or are dropped.
    for (let i = 0; i < stream.pendingTokens.length; i++) {
      const token = stream.pendingTokens[i];
      grpcCallOwners.delete(token);
      const late = stream.outliving(token);
      if (late !== null) lateCalls.set(token, late);
    }
    streams.delete(contextId);
    return;
  }
  if (roots.has(contextId)) {
    roots.get(contextId).onDelete();
    roots.delete(contextId);
  }
}

/** The stream that owns a call, made effective; null when it died while the call was in flight. */
function takeCallOwner(token: u32): HttpContext | null {
  if (!grpcCallOwners.has(token)) return null;
  const streamId = grpcCallOwners.get(token);
  const stream = httpContext(streamId);
  if (stream === null) { grpcCallOwners.delete(token); return null; }
  stream.forgetToken(token);
  if (host.setEffectiveContext(streamId) != WasmResult.Ok) return null;
  return stream;
}

/** The root context that made a call itself (replies arrive on it: it is already effective). */
function takeRootCaller(token: u32): RootContext | null {
  const rootId = rootCallOwners.get(token);
  rootCallOwners.delete(token);
  return rootContext(rootId);
}

/** Calls that outlived their stream, by token, until their answer arrives. */
const lateCalls = new Map<u32, LateCall>();

/** The late call waiting for this token, taken out; null when the token is not one. */
function takeLateCall(token: u32): LateCall | null {
  if (!lateCalls.has(token)) return null;
  const late = lateCalls.get(token);
  lateCalls.delete(token);
  return late;
}

export function deliverGrpcReceive(token: u32, messageSize: u32): void {
  const late = takeLateCall(token);
  if (late !== null) { late.onReply(); return; }
  if (rootCallOwners.has(token)) {
    const root = takeRootCaller(token);
    if (root === null) return;
    const message = host.getBufferBytes(BufferType.GrpcCallMessage, 0, messageSize);
    root.onGrpcReply(token, message !== null ? message : new ArrayBuffer(0));
    return;
  }
  const stream = takeCallOwner(token);
  if (stream === null) {
    if (host.debugEnabled()) host.logDebug("grpc reply for token " + token.toString() + " dropped: its stream is gone");
    return;
  }
  const message = host.getBufferBytes(BufferType.GrpcCallMessage, 0, messageSize);
  stream.onGrpcReply(token, message !== null ? message : new ArrayBuffer(0));
}

export function deliverGrpcClose(token: u32, statusCode: u32): void {
  const status = host.getStatus();
  const late = takeLateCall(token);
  if (late !== null) { late.onFailure(statusCode, status.message); return; }
  if (rootCallOwners.has(token)) {
    const root = takeRootCaller(token);
    if (root !== null) root.onGrpcFailure(token, statusCode, status.message);
    return;
  }
  const stream = takeCallOwner(token);
  if (stream === null) {
    if (host.debugEnabled()) host.logDebug("grpc close for token " + token.toString() + " dropped: its stream is gone");
    return;
  }
  stream.onGrpcFailure(token, statusCode, status.message);
}
