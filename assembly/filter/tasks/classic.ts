// Classic actions (research/wasm-shim.md §2–3), with wasm-shim v0.12.3's behaviour: the native
// builders (descriptors.ts, auth-check.ts) make the message, and the answer is applied here —
// Authorino's identity, denial or headers; Limitador's OK (headers for the response),
// OVER_LIMIT (429) or UNKNOWN (500); a Report's reply is only logged.
import { HeaderPair } from "../../abi/pairs";
import { PlanNode } from "../plan";
import { ServiceType } from "../config";
import { allHold, buildRateLimitRequest } from "../descriptors";
import { buildCheckRequest } from "../auth-check";
import { decodeRateLimitResponse, RateLimitCode } from "../../proto/ratelimit";
import { decodeCheckResponse } from "../../proto/auth";
import { decodeStruct } from "../../proto/struct";
import { TaskContext, TaskResult } from "./context";

const TOO_MANY_REQUESTS = "Too Many Requests\n";
const INTERNAL_ERROR = "Internal Server Error.\n";
const holds: Array<bool> = [false];

/** Sends the action's call, or decides it needs none. `responsePhase`: labels that read the response are sent too. */
export function runClassic(ctx: TaskContext, node: PlanNode, responsePhase: bool): TaskResult {
  const action = node.classic;
  const err = allHold(action.predicates, ctx.attrs, holds);
  if (err !== null) { ctx.failure = err; return TaskResult.Failed; }
  if (!holds[0]) return TaskResult.Skipped;
  const service = action.service;
  if (service.type == ServiceType.Auth) {
    return dispatch(ctx, node, buildCheckRequest(action, ctx.config.requestData, ctx.attrs, ctx.requestHeaders));
  }
  const built = buildRateLimitRequest(action, ctx.config.requestData, ctx.attrs, responsePhase);
  if (built.failure.length > 0) { ctx.failure = built.failure; return TaskResult.Failed; }
  if (built.skip.length > 0) return TaskResult.Skipped;
  if (service.type == ServiceType.RateLimitReport && built.hitsAddend == 0) return TaskResult.Skipped; // Limitador would count 0 as 1
  return dispatch(ctx, node, built.encode());
}

function dispatch(ctx: TaskContext, node: PlanNode, message: ArrayBuffer): TaskResult {
  const token = ctx.effects.dispatch(node.classic.service, message);
  if (token < 0) return TaskResult.Failed;
  ctx.token = <u32>token;
  return TaskResult.InFlight;
}

export function classicReply(ctx: TaskContext, node: PlanNode, message: ArrayBuffer): TaskResult {
  const type = node.classic.service.type;
  if (type == ServiceType.Auth) return authReply(ctx, message);
  const response = decodeRateLimitResponse(message);
  if (type == ServiceType.RateLimitReport) {
    if (response === null) ctx.effects.warn("report reply could not be decoded");
    return TaskResult.Done;
  }
  if (response === null) { ctx.failure = "reply is not a RateLimitResponse"; return TaskResult.Failed; }
  if (response.overallCode == RateLimitCode.OverLimit) {
    ctx.stats.limited = true;
    ctx.effects.info("over limit in '" + node.classic.scope + "'");
    return ctx.effects.localReply(429, "rate_limited", TOO_MANY_REQUESTS, response.responseHeadersToAdd) ? TaskResult.Stopped : TaskResult.Done;
  }
  if (response.overallCode != RateLimitCode.Ok) {
    // UNKNOWN (e.g. an empty domain) is never treated as allowed, whatever the failure mode.
    ctx.stats.error("limitador_unknown");
    ctx.effects.warn("Limitador answered UNKNOWN for domain '" + node.classic.scope + "'");
    return ctx.effects.localReply(500, "rate_limit_unknown", INTERNAL_ERROR, []) ? TaskResult.Stopped : TaskResult.Done;
  }
  for (let i = 0; i < response.responseHeadersToAdd.length; i++) ctx.addResponseHeader(response.responseHeadersToAdd[i]);
  return TaskResult.Done;
}

/** Authorino's answer: identity (→ `auth.*`, filter state) and upstream headers, or its denial. */
function authReply(ctx: TaskContext, message: ArrayBuffer): TaskResult {
  const response = decodeCheckResponse(message);
  if (response === null) { ctx.failure = "reply is not a CheckResponse"; return TaskResult.Failed; }
  if (response.statusCode != 0 || response.denied) {
    const status = response.deniedStatus != 0 ? response.deniedStatus : 403;
    const headers = new Array<HeaderPair>();
    for (let i = 0; i < response.headers.length; i++) headers.push(new HeaderPair(response.headers[i].key, response.headers[i].value));
    ctx.stats.error("auth_denied");
    ctx.effects.info("denied by auth (" + status.toString() + ")");
    return ctx.effects.localReply(status, "auth_denied", response.deniedBody, headers) ? TaskResult.Stopped : TaskResult.Done;
  }
  if (!response.ok || response.unsupported.length > 0) {
    // Same as wasm-shim: what we cannot honour is not silently dropped.
    ctx.stats.error("auth_unsupported");
    ctx.effects.warn("auth answer cannot be honoured: " + (response.ok ? "ok_response sets " + response.unsupported.join(", ") : "neither ok_response nor denied_response"));
    return ctx.effects.localReply(500, "auth_unsupported_response", INTERNAL_ERROR, []) ? TaskResult.Stopped : TaskResult.Done;
  }
  const md = response.dynamicMetadata;
  if (md !== null) {
    const identity = decodeStruct(md);
    if (identity !== null) ctx.attrs.store("auth", identity);
    ctx.effects.setFilterState("kuadrant.auth", md); // for filters after us (filter state wasm.kuadrant.auth)
  }
  for (let i = 0; i < response.headers.length; i++) {
    const h = response.headers[i];
    if (!ctx.effects.setHeader(false, h.key, h.value, h.append)) ctx.effects.warn("auth header '" + h.key + "' not set: the request headers are gone");
  }
  return TaskResult.Done;
}
