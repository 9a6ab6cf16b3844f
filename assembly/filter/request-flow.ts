// One request through the plugin: route to an action set, run its actions in order (each
// rate-limit check pauses the request until Limitador answers), enforce the answers, and send
// the Reports once the response is complete (design §3.3).
import { HttpContext, RootContext } from "../abi/context";
import { HeaderPair } from "../abi/pairs";
import { MapType, BufferType, HeadersStatus, DataStatus, TrailersStatus, WasmResult } from "../abi/enums";
import { getHeaderMapPairs, getHeaderMapValue, getBufferBytes, replaceHeaderMapValue, addHeaderMapValue, setProperty, currentTimeNanoseconds, logDebug, debugEnabled, logWarn, logInfo } from "../abi/hostcalls";
import { Action, ActionSet, ServiceType } from "./config";
import { StreamAttributes } from "./attributes";
import { allHold, buildRateLimitRequest } from "./descriptors";
import { encodeRateLimitRequest, decodeRateLimitResponse, RateLimitCode } from "../proto/ratelimit";
import { BodyCapture, BodyMode } from "./body-capture";
import { Plugin } from "./plugin";
import { RequestStats } from "./metrics";
import { buildCheckRequest } from "./auth-check";
import { decodeCheckResponse } from "../proto/auth";
import { decodeStruct } from "../proto/struct";

const TOO_MANY_REQUESTS = "Too Many Requests\n";
const INTERNAL_ERROR = "Internal Server Error.\n";

class CallInFlight {
  constructor(public action: Action, public startedNs: u64) {}
}

export class RequestFlow extends HttpContext {
  private readonly attrs: StreamAttributes = new StreamAttributes();
  private actionSet: ActionSet | null = null;
  private cursor: i32 = 0;
  private paused: bool = false;
  private calls: Map<u32, CallInFlight> = new Map();
  private reports: Array<Action> = [];
  private responseHeadersToAdd: Array<HeaderPair> = [];
  private requestId: string = "";
  private requestHeaders: Array<HeaderPair> = [];
  private responseDone: bool = false;
  /** requestBodyJSON support: the captured request body, and whether an action waits for it. */
  private requestBody: BodyCapture | null = null;
  private requestBodyComplete: bool = true;
  private requestBodySeen: u32 = 0;
  private waitingForBody: bool = false;
  private status: u32 = 0;
  private readonly stats: RequestStats = new RequestStats();

  constructor(contextId: u32, root: RootContext, private readonly plugin: Plugin) {
    super(contextId, root);
  }

  // ---- request phase ---------------------------------------------------------------------

  onRequestHeaders(headerCount: u32, endOfStream: bool): i32 {
    const pairs = getHeaderMapPairs(MapType.RequestHeaders);
    this.attrs.captureRequestHeaders(pairs);
    this.requestHeaders = pairs;
    const id = headerValue(pairs, "x-request-id");
    this.requestId = isHeaderValue(id) ? id : "";
    let authority = headerValue(pairs, ":authority");
    if (authority.length == 0) authority = headerValue(pairs, "host");
    const candidates = this.plugin.hosts.candidates(authority);
    if (candidates.length == 0) {
      if (debugEnabled()) logDebug("no action set for host '" + authority + "'");
      return HeadersStatus.Continue;
    }
    // Request attributes vanish once the request continues: read all the config needs now.
    const paths = this.plugin.requestAttributePaths;
    const keys = this.plugin.requestAttributeKeys;
    for (let i = 0; i < paths.length; i++) this.attrs.warm(paths[i], keys[i]);
    const holds: Array<bool> = [false];
    for (let i = 0; i < candidates.length; i++) {
      const err = allHold(candidates[i].predicates, this.attrs, holds);
      if (err !== null) {
        logWarn("action set '" + candidates[i].name + "': route " + err);
        this.stats.errors.push("route");
        this.reply(500, "route_predicate_error", INTERNAL_ERROR, []);
        return HeadersStatus.StopIteration;
      }
      if (holds[0]) { this.actionSet = candidates[i]; break; }
    }
    if (this.actionSet === null) return HeadersStatus.Continue;
    if (debugEnabled()) logDebug("request " + this.requestId + " matched action set '" + this.actionSet!.name + "'");
    if (this.plugin.requestBodyPointers.length > 0) {
      const mode = endOfStream ? BodyMode.Ignore : BodyCapture.modeFor(headerValue(pairs, "content-type"));
      const body = new BodyCapture(mode, this.plugin.requestBodyPointers);
      this.requestBody = body;
      this.attrs.requestBody = body;
      this.requestBodyComplete = endOfStream || mode == BodyMode.Ignore;
      if (this.requestBodyComplete) body.finish();
    }
    if (this.runActions()) return HeadersStatus.Continue;
    // Waiting for the body: let it come (StopAll would hold it back from us too).
    if (this.waitingForBody) return HeadersStatus.Continue;
    this.paused = !this.localReplySent;
    return HeadersStatus.StopIteration;
  }

  /** Reads the request body for requestBodyJSON; holds it while the actions that need it run. */
  onRequestBody(bodySize: u32, endOfStream: bool): i32 {
    const body = this.requestBody;
    if (body === null || this.requestBodyComplete) return DataStatus.Continue;
    // With StopIterationAndBuffer the buffer keeps growing: read only what is new.
    if (bodySize > this.requestBodySeen) {
      const chunk = getBufferBytes(BufferType.RequestBody, this.requestBodySeen, bodySize - this.requestBodySeen);
      if (chunk !== null) body.push(chunk);
      this.requestBodySeen = bodySize;
    }
    if (!endOfStream) return this.waitingForBody ? DataStatus.StopIterationAndBuffer : DataStatus.Continue;
    body.finish();
    this.requestBodyComplete = true;
    if (!this.waitingForBody) return DataStatus.Continue;
    this.waitingForBody = false;
    if (this.runActions()) return DataStatus.Continue;
    this.paused = !this.localReplySent;
    return DataStatus.StopIterationAndBuffer;
  }

  /**
   * Runs request-phase actions from the cursor. Returns true when the request may continue now,
   * false when a call is in flight, a local reply was sent, or the next action waits for the
   * request body (waitingForBody is then set).
   */
  private runActions(): bool {
    const actions = this.actionSet!.actions;
    const holds: Array<bool> = [false];
    while (this.cursor < actions.length) {
      const action = actions[this.cursor];
      if (action.needsRequestBody && !this.requestBodyComplete) { this.waitingForBody = true; return false; }
      this.cursor++;
      const type = action.service.type;
      if (type == ServiceType.RateLimitReport) { this.reports.push(action); continue; }
      if (type == ServiceType.Tracing) continue;
      const err = allHold(action.predicates, this.attrs, holds);
      if (err !== null) { if (!this.fail(action, err)) return false; continue; }
      if (!holds[0]) continue;
      if (type == ServiceType.Auth) {
        if (this.dispatchAuth(action)) return false;
        if (this.localReplySent) return false;
        continue;
      }
      if (this.dispatchRateLimit(action, false)) return false;
      if (this.localReplySent) return false;
    }
    return true;
  }

  /** Asks Authorino (envoy.service.auth.v3.Authorization/Check). True when the call is in flight. */
  private dispatchAuth(action: Action): bool {
    const message = buildCheckRequest(action, this.plugin.config.requestData, this.attrs, this.requestHeaders);
    return this.send(action, message);
  }

  private send(action: Action, message: ArrayBuffer): bool {
    const metadata = new Array<HeaderPair>();
    if (this.requestId.length > 0) metadata.push(new HeaderPair("x-request-id", this.requestId));
    const svc = action.service;
    const dispatch = this.dispatchGrpcCall(svc.endpoint, svc.grpcService, svc.grpcMethod, metadata, message, svc.timeoutMs);
    if (dispatch.status != WasmResult.Ok) {
      this.fail(action, "dispatch to cluster '" + svc.endpoint + "' failed with status " + dispatch.status.toString());
      return false;
    }
    this.calls.set(dispatch.token, new CallInFlight(action, currentTimeNanoseconds()));
    return true;
  }

  /** Applies Authorino's answer: identity and upstream headers, or its denial. */
  private onAuthReply(action: Action, message: ArrayBuffer): void {
    const response = decodeCheckResponse(message);
    if (response === null) { this.afterFailure(action, "reply is not a CheckResponse"); return; }
    if (response.statusCode != 0 || response.denied) {
      const status = response.deniedStatus != 0 ? response.deniedStatus : 403;
      const headers = new Array<HeaderPair>();
      for (let i = 0; i < response.headers.length; i++) headers.push(new HeaderPair(response.headers[i].key, response.headers[i].value));
      this.stats.errors.push("auth_denied");
      logInfo("request " + this.requestId + " denied by auth (" + status.toString() + ")");
      this.reply(status, "auth_denied", response.deniedBody, headers);
      return;
    }
    if (!response.ok || response.unsupported.length > 0) {
      // Same as wasm-shim: what we cannot honour is not silently dropped.
      this.stats.errors.push("auth_unsupported");
      logWarn("auth answer cannot be honoured: " + (response.ok ? "ok_response sets " + response.unsupported.join(", ") : "neither ok_response nor denied_response"));
      this.reply(500, "auth_unsupported_response", INTERNAL_ERROR, []);
      return;
    }
    const md = response.dynamicMetadata;
    if (md !== null) {
      const identity = decodeStruct(md);
      if (identity !== null) this.attrs.authIdentity = identity;
      setProperty(["kuadrant.auth"], md); // for filters after us (filter state wasm.kuadrant.auth)
    }
    for (let i = 0; i < response.headers.length; i++) {
      const h = response.headers[i];
      if (h.append) addHeaderMapValue(MapType.RequestHeaders, h.key, h.value);
      else replaceHeaderMapValue(MapType.RequestHeaders, h.key, h.value);
    }
    this.resume();
  }

  /** Sends the action's request. True when a call is now in flight. */
  private dispatchRateLimit(action: Action, responsePhase: bool): bool {
    const built = buildRateLimitRequest(action, this.plugin.config.requestData, this.attrs, responsePhase);
    if (built.failure.length > 0) { this.fail(action, built.failure); return false; }
    if (built.skip.length > 0) { logDebug("action " + action.index.toString() + " skipped: " + built.skip); return false; }
    if (action.service.type == ServiceType.RateLimitReport && built.hitsAddend == 0) {
      if (debugEnabled()) logDebug("report skipped: 0 hits (Limitador would count it as 1)");
      return false;
    }
    return this.send(action, encodeRateLimitRequest(built.domain, built.descriptors, built.hitsAddend));
  }

  /** Applies the service's failure mode. Returns true when the request goes on (allow). */
  private fail(action: Action, reason: string): bool {
    const svc = action.service;
    this.stats.errors.push(svc.failureModeDeny ? "failure_mode_deny" : "failure_mode_allow");
    logWarn("service '" + svc.name + "' (" + svc.grpcMethod + "): " + reason + (svc.failureModeDeny ? "; failure mode deny" : "; failure mode allow"));
    if (!svc.failureModeDeny || svc.type == ServiceType.RateLimitReport) return true;
    this.reply(500, "rate_limit_service_failure", INTERNAL_ERROR, []);
    return false;
  }

  onGrpcReply(token: u32, message: ArrayBuffer): void {
    if (!this.calls.has(token)) return;
    const call = this.calls.get(token);
    this.calls.delete(token);
    const action = call.action;
    this.stats.callEnded(call.startedNs, action.service.type != ServiceType.Auth);
    if (action.service.type == ServiceType.Auth) { this.onAuthReply(action, message); return; }
    const response = decodeRateLimitResponse(message);
    if (action.service.type == ServiceType.RateLimitReport) {
      if (response === null) logWarn("report reply could not be decoded");
      return;
    }
    if (response === null) { this.afterFailure(action, "reply is not a RateLimitResponse"); return; }
    if (response.overallCode == RateLimitCode.OverLimit) {
      this.stats.limited = true;
      logInfo("request " + this.requestId + " over limit in '" + action.scope + "'");
      this.reply(429, "rate_limited", TOO_MANY_REQUESTS, response.responseHeadersToAdd);
      return;
    }
    if (response.overallCode != RateLimitCode.Ok) {
      // UNKNOWN (e.g. an empty domain) is never treated as allowed, whatever the failure mode.
      this.stats.errors.push("limitador_unknown");
      logWarn("Limitador answered UNKNOWN for domain '" + action.scope + "'");
      this.reply(500, "rate_limit_unknown", INTERNAL_ERROR, []);
      return;
    }
    for (let i = 0; i < response.responseHeadersToAdd.length; i++) this.responseHeadersToAdd.push(response.responseHeadersToAdd[i]);
    this.resume();
  }

  onGrpcFailure(token: u32, status: u32, message: string): void {
    if (!this.calls.has(token)) return;
    const call = this.calls.get(token);
    this.calls.delete(token);
    this.stats.callEnded(call.startedNs, call.action.service.type != ServiceType.Auth);
    if (call.action.service.type == ServiceType.RateLimitReport) {
      logWarn("report to '" + call.action.service.endpoint + "' failed: gRPC status " + status.toString() + " " + message);
      this.stats.errors.push("report");
      return;
    }
    this.afterFailure(call.action, "gRPC status " + status.toString() + (message.length > 0 ? " (" + message + ")" : ""));
  }

  private afterFailure(action: Action, reason: string): void {
    if (this.fail(action, reason)) this.resume();
  }

  /** Runs the remaining actions after a reply; continues the request when all are done (or to get the body). */
  private resume(): void {
    if (!this.runActions() && !this.waitingForBody) return;
    if (this.paused) { this.paused = false; this.continueRequest(); }
  }

  private reply(status: u32, details: string, body: string, headers: Array<HeaderPair>): void {
    const all = headers.slice(0);
    const idHeader = this.plugin.config.requestIdHeader;
    if (idHeader.length > 0 && this.requestId.length > 0) all.push(new HeaderPair(idHeader, this.requestId));
    this.paused = false;
    this.sendLocalReply(status, details, body, all);
  }

  // ---- response phase --------------------------------------------------------------------

  private capture: BodyCapture | null = null;

  onResponseHeaders(headerCount: u32, endOfStream: bool): i32 {
    if (this.localReplySent) {
      // Our own reply passing through: only its status matters (for the metrics).
      const statusText = getHeaderMapValue(MapType.ResponseHeaders, ":status");
      this.status = statusText !== null ? <u32>I32.parseInt(statusText) : 0;
      return HeadersStatus.Continue;
    }
    this.stats.responseStarted();
    for (let i = 0; i < this.responseHeadersToAdd.length; i++) {
      replaceHeaderMapValue(MapType.ResponseHeaders, this.responseHeadersToAdd[i].key, this.responseHeadersToAdd[i].value);
    }
    const idHeader = this.plugin.config.requestIdHeader;
    if (idHeader.length > 0 && this.requestId.length > 0) replaceHeaderMapValue(MapType.ResponseHeaders, idHeader, this.requestId);
    const pairs = getHeaderMapPairs(MapType.ResponseHeaders);
    this.status = <u32>I32.parseInt(headerValue(pairs, ":status"));
    this.attrs.captureResponseHeaders(pairs);
    if ( this.status >= 200 && this.status < 300) {
      const mode = BodyCapture.modeFor(headerValue(pairs, "content-type"));
      if (mode != BodyMode.Ignore) {
        this.capture = new BodyCapture(mode, this.plugin.responseBodyPointers);
        this.attrs.responseBody = this.capture;
      }
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

  /** End of the response: parse what was captured and send the Reports (fire and forget). */
  private finishResponse(): void {
    if (this.responseDone || this.localReplySent) return;
    this.responseDone = true;
    const capture = this.capture;
    if (capture !== null) capture.finish();
    for (let i = 0; i < this.reports.length; i++) {
      const action = this.reports[i];
      const holds: Array<bool> = [false];
      const err = allHold(action.predicates, this.attrs, holds);
      if (err !== null) { this.fail(action, err); continue; }
      if (holds[0]) this.dispatchRateLimit(action, true);
    }
  }

  onLog(): void {
    const capture = this.capture;
    this.plugin.metrics.record(this.stats, this.attrs, this.status, capture !== null ? capture.usage : null);
  }
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

function headerValue(pairs: Array<HeaderPair>, name: string): string {
  for (let i = 0; i < pairs.length; i++) if (pairs[i].key == name) return pairs[i].value;
  return "";
}
