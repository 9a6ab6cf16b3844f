// One request through the plugin, as Envoy drives it: route to an action set, then turn each
// callback into an executor event (executor.ts) and the executor's state into Envoy's answer —
// hold the request while a request-phase guard is unfinished, hold the body while an action that
// reads it decides, hold the response headers for a response-phase guard, never hold the
// response body (usage is read as it passes). The host side of the tasks is FlowEffects.
import { HttpContext, RootContext, LateCall } from "../abi/context";
import { HeaderPair, encodePairs, encodePair } from "../abi/pairs";
import { MapType, BufferType, HeadersStatus, DataStatus, TrailersStatus, WasmResult } from "../abi/enums";
import {
  getHeaderMap, getHeaderMapValue, getBufferBytes, replaceHeaderMapValue, addHeaderMapValue, setFilterState,
  currentTimeNanoseconds, logDebug, debugEnabled, logWarn, logInfo, GrpcTarget,
} from "../abi/hostcalls";
import { ServiceConfig } from "./config";
import { StreamAttributes } from "./attributes";
import { allHold } from "./descriptors";
import { BodyCapture, BodyMode } from "./body-capture";
import { Plugin } from "./plugin";
import { RequestStats, LabelSet } from "./metrics";
import { Executor } from "./executor";
import { Phase } from "./plan";
import { StreamEffects, TaskContext } from "./tasks/context";
import { kuadrantCounters } from "./kuadrant-counters";

const INTERNAL_ERROR = "Internal Server Error.\n";

export class RequestFlow extends HttpContext {
  readonly attrs: StreamAttributes = new StreamAttributes();
  readonly stats: RequestStats = new RequestStats();
  private executor: Executor | null = null;
  /** The label set onLog recorded this request under: Reports answered later count there too. */
  private recordedLabels: LabelSet | null = null;
  private ctx: TaskContext | null = null;
  requestId: string = "";
  private metadata: ArrayBuffer | null = null;
  private hostMatched: bool = false;
  /** Where the stream is held: request headers, request body, response headers. */
  private pausedHeaders: bool = false;
  private pausedBody: bool = false;
  private pausedResponse: bool = false;
  /** Request headers can still change (Envoy drops the map once the request continues). */
  requestHeadersWritable: bool = false;
  responseHeadersWritable: bool = false;
  responseStarted: bool = false;
  private requestBody: BodyCapture | null = null;
  private requestBodyComplete: bool = true;
  private requestBodySeen: u32 = 0;
  private capture: BodyCapture | null = null;
  private responseDone: bool = false;
  private status: u32 = 0;

  constructor(contextId: u32, root: RootContext, readonly plugin: Plugin) {
    super(contextId, root);
  }

  // ---- request phase ---------------------------------------------------------------------

  onRequestHeaders(headerCount: u32, endOfStream: bool): i32 {
    const headers = getHeaderMap(MapType.RequestHeaders);
    this.attrs.captureRequestHeaders(headers);
    const id = headers.get("x-request-id");
    this.requestId = isHeaderValue(id) ? id : "";
    let authority = headers.get(":authority");
    if (authority.length == 0) authority = headers.get("host");
    const candidates = this.plugin.hosts.candidates(authority);
    if (candidates.length == 0) {
      if (debugEnabled()) logDebug("no action set for host '" + authority + "'");
      kuadrantCounters.bump(kuadrantCounters.misses);
      return HeadersStatus.Continue;
    }
    this.hostMatched = true;
    // Request attributes vanish once the request continues: read all the config needs now.
    const paths = this.plugin.requestAttributePaths;
    for (let i = 0; i < paths.length; i++) this.attrs.warm(paths[i]);
    let chosen = -1;
    for (let i = 0; i < candidates.length; i++) {
      const err = allHold(candidates[i].predicates, this.attrs, holds);
      if (err !== null) {
        logWarn("action set '" + candidates[i].name + "': route " + err);
        this.stats.error("route");
        kuadrantCounters.bump(kuadrantCounters.errors);
        this.reply(500, "route_predicate_error", INTERNAL_ERROR, []);
        return HeadersStatus.StopIteration;
      }
      if (holds[0]) { chosen = candidates[i].index; break; }
    }
    if (chosen < 0) { kuadrantCounters.bump(kuadrantCounters.misses); return HeadersStatus.Continue; }
    kuadrantCounters.bump(kuadrantCounters.hits);
    const plan = this.plugin.plans[chosen];
    if (debugEnabled()) logDebug("request " + this.requestId + " matched action set '" + plan.set.name + "'");
    this.attrs.storeRoots = plan.storeRoots;
    if (plan.readsRequestBody || this.plugin.labelsReadRequestBody) {
      // wasm-shim parses a request body as JSON whatever its content-type says.
      const body = new BodyCapture(endOfStream ? BodyMode.Ignore : BodyMode.Json, this.plugin.requestBodyPointers, this.plugin.requestBodySelection);
      this.requestBody = body;
      this.attrs.requestBody = body;
      this.requestBodyComplete = endOfStream;
      if (endOfStream) body.finish();
    }
    const ctx = new TaskContext(this.attrs, new FlowEffects(this), this.plugin.config, this.stats, headers);
    const executor = new Executor(plan, ctx);
    this.ctx = ctx;
    this.executor = executor;
    this.requestHeadersWritable = true;
    executor.reach(Phase.RequestHeaders);
    if (this.requestBodyComplete) executor.reach(Phase.RequestBody);
    if (this.localReplySent) return HeadersStatus.StopIteration;
    if (this.requestHeld()) { this.pausedHeaders = true; return HeadersStatus.StopIteration; }
    this.requestHeadersWritable = false;
    return HeadersStatus.Continue;
  }

  /** Reads the request body for requestBodyJSON; holds it while the actions that need it decide. */
  onRequestBody(bodySize: u32, endOfStream: bool): i32 {
    // Bytes received (request sizes metric): after StopIterationAndBuffer the buffer still holds what was counted.
    this.stats.requestBytes += bodySize >= this.requestBodySeen ? bodySize - this.requestBodySeen : bodySize;
    const executor = this.executor;
    if (executor === null || this.localReplySent) { this.requestBodySeen = 0; return DataStatus.Continue; }
    const body = this.requestBody;
    if (body !== null && !this.requestBodyComplete) {
      // After StopIterationAndBuffer the buffer keeps what we already read: read only what is new.
      if (bodySize > this.requestBodySeen) {
        const chunk = getBufferBytes(BufferType.RequestBody, this.requestBodySeen, bodySize - this.requestBodySeen);
        if (chunk !== null) body.push(chunk);
      }
      if (endOfStream) { body.finish(); this.requestBodyComplete = true; }
    }
    if (endOfStream) executor.reach(Phase.RequestBody);
    if (this.localReplySent) return DataStatus.StopIterationAndBuffer;
    if (executor.holds(Phase.RequestBody)) {
      if (endOfStream) this.pausedBody = true;
      this.requestBodySeen = bodySize;
      return DataStatus.StopIterationAndBuffer;
    }
    this.requestBodySeen = 0; // passed on: the next call's buffer holds only new data
    return DataStatus.Continue;
  }

  /** The request must wait: a request-headers guard is unfinished, or a body guard with the body already complete. */
  private requestHeld(): bool {
    const executor = this.executor!;
    return executor.holds(Phase.RequestHeaders) || (this.requestBodyComplete && executor.holds(Phase.RequestBody));
  }

  onGrpcReply(token: u32, message: ArrayBuffer): void {
    const executor = this.executor;
    if (executor === null || !executor.ownsToken(token)) return;
    executor.onReply(token, message);
    this.resume();
  }

  onGrpcFailure(token: u32, status: u32, message: string): void {
    const executor = this.executor;
    if (executor === null || !executor.ownsToken(token)) return;
    executor.onFailure(token, status, message);
    this.resume();
  }

  /** After an executor event: let go of whatever is no longer held. */
  private resume(): void {
    const executor = this.executor!;
    if (this.localReplySent) return;
    if (this.pausedHeaders && !this.requestHeld()) {
      this.pausedHeaders = false;
      this.requestHeadersWritable = false;
      this.continueRequest();
    } else if (this.pausedBody && !executor.holds(Phase.RequestBody)) {
      this.pausedBody = false;
      this.continueRequest();
    }
    if (this.pausedResponse && !executor.holds(Phase.ResponseHeaders)) {
      this.pausedResponse = false;
      this.responseHeadersWritable = false;
      this.continueResponse();
    }
  }

  /** The calls' initial metadata: the request id, when there is one (encoded once per stream). */
  callMetadata(): ArrayBuffer {
    const cached = this.metadata;
    if (cached !== null) return cached;
    const md = this.requestId.length > 0 ? encodePair("x-request-id", this.requestId) : NO_METADATA;
    this.metadata = md;
    return md;
  }

  /** Why the last host call of a task failed, for the executor's failure policy. */
  ctxFailure(message: string): void {
    const ctx = this.ctx;
    if (ctx !== null) ctx.failure = message;
  }

  reply(status: u32, details: string, body: string, headers: Array<HeaderPair>): bool {
    if (this.responseStarted) return false;
    const all = headers.slice(0);
    const idHeader = this.plugin.config.requestIdHeader;
    if (idHeader.length > 0 && this.requestId.length > 0) all.push(new HeaderPair(idHeader, this.requestId));
    if (status == 429) this.stats.limited = true;
    this.pausedHeaders = false;
    this.pausedBody = false;
    const sent = this.sendLocalReply(status, details, body, all);
    if (sent) kuadrantCounters.bump(kuadrantCounters.denied);
    return sent;
  }

  // ---- response phase --------------------------------------------------------------------

  onResponseHeaders(headerCount: u32, endOfStream: bool): i32 {
    kuadrantCounters.bump(kuadrantCounters.allowed); // as wasm-shim: local replies pass here too
    if (this.localReplySent) {
      // Our own reply passing through: only its status matters (for the metrics).
      const statusText = getHeaderMapValue(MapType.ResponseHeaders, ":status");
      this.status = statusText !== null ? <u32>I32.parseInt(statusText) : 0;
      return HeadersStatus.Continue;
    }
    this.responseStarted = true;
    this.stats.responseStarted();
    const ctx = this.ctx;
    if (ctx !== null) {
      const add = ctx.responseHeadersToAdd;
      for (let i = 0; i < add.length; i++) replaceHeaderMapValue(MapType.ResponseHeaders, add[i].key, add[i].value);
    }
    // As wasm-shim: the request id goes back only on requests a hostname matched.
    const idHeader = this.plugin.config.requestIdHeader;
    if (idHeader.length > 0 && this.requestId.length > 0 && this.hostMatched) replaceHeaderMapValue(MapType.ResponseHeaders, idHeader, this.requestId);
    const headers = getHeaderMap(MapType.ResponseHeaders);
    this.status = <u32>I32.parseInt(headers.get(":status"));
    this.attrs.captureResponseHeaders(headers);
    if (this.status >= 200 && this.status < 300) {
      const mode = BodyCapture.responseModeFor(headers.get("content-type"));
      if (mode != BodyMode.Ignore) {
        this.capture = new BodyCapture(mode, this.plugin.responseBodyPointers, this.plugin.responseBodySelection);
        this.attrs.responseBody = this.capture;
      }
    }
    const executor = this.executor;
    if (executor !== null) {
      this.responseHeadersWritable = true;
      executor.reach(Phase.ResponseHeaders);
      if (executor.holds(Phase.ResponseHeaders)) { this.pausedResponse = true; return HeadersStatus.StopIteration; }
      this.responseHeadersWritable = false;
    }
    if (endOfStream) this.finishResponse();
    return HeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): i32 {
    const capture = this.capture;
    this.stats.responseBytes += bodySize;
    if (capture !== null && bodySize > 0) {
      const chunk = getBufferBytes(BufferType.ResponseBody, 0, bodySize);
      if (chunk !== null) capture.push(chunk);
    }
    if (endOfStream) this.finishResponse();
    return DataStatus.Continue; // never hold the stream: usage is read as it passes
  }

  onResponseTrailers(trailerCount: u32): i32 {
    this.finishResponse();
    return TrailersStatus.Continue;
  }

  /** End of the response: parse what was captured and run the response-body actions (reports). */
  private finishResponse(): void {
    if (this.responseDone || this.localReplySent) return;
    this.responseDone = true;
    const capture = this.capture;
    if (capture !== null) capture.finish();
    const executor = this.executor;
    if (executor !== null) executor.reach(Phase.ResponseBody);
  }

  onLog(): void {
    const capture = this.capture;
    this.recordedLabels = this.plugin.metrics.record(this.stats, this.attrs, this.status, capture !== null ? capture.usage : null);
  }

  outliving(token: u32): LateCall | null {
    const executor = this.executor;
    return executor !== null ? executor.lateReport(token, this.recordedLabels) : null;
  }
}

const NO_METADATA = encodePairs(new Array<HeaderPair>(0));
const holds: Array<bool> = [false];

/** The host side of the tasks, for one stream. */
class FlowEffects extends StreamEffects {
  constructor(private readonly flow: RequestFlow) { super(); }

  dispatch(service: ServiceConfig, message: ArrayBuffer): i64 {
    let target = service.target;
    if (target === null) { target = new GrpcTarget(service.endpoint, service.grpcService, service.grpcMethod); service.target = target; }
    const d = this.flow.dispatchGrpcCallTo(target, this.flow.callMetadata(), message, service.timeoutMs);
    if (d.status != WasmResult.Ok) {
      this.flow.ctxFailure("dispatch to cluster '" + service.endpoint + "' failed with status " + d.status.toString());
      return -1;
    }
    return <i64>d.token;
  }

  localReply(status: u32, details: string, body: string, headers: Array<HeaderPair>): bool {
    return this.flow.reply(status, details, body, headers);
  }

  setHeader(response: bool, key: string, value: string, append: bool): bool {
    if (response ? !this.flow.responseHeadersWritable : !this.flow.requestHeadersWritable) return false;
    const map = response ? MapType.ResponseHeaders : MapType.RequestHeaders;
    const status = append ? addHeaderMapValue(map, key, value) : replaceHeaderMapValue(map, key, value);
    return status == WasmResult.Ok;
  }

  setFilterState(name: string, bytes: ArrayBuffer): void { setFilterState(name, bytes); }

  warn(message: string): void { logWarn(this.prefix() + message); }
  info(message: string): void { logInfo(this.prefix() + message); }
  nowNs(): u64 { return currentTimeNanoseconds(); }

  private prefix(): string { return this.flow.requestId.length > 0 ? "request " + this.flow.requestId + ": " : ""; }
}

/** Visible ASCII, space and tab only: what may travel on as gRPC metadata. */
function isHeaderValue(s: string): bool {
  if (s.length > 256) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c != 9) || c > 0x7e) return false;
  }
  return true;
}
