// The typed actions that need no call (research/wasm-shim-newer-config.md §3.3): deny (a local
// reply), fail (log; terminal → 500), headers (set/replace on the request or the response),
// store (a value later expressions read; exportToHost also writes filter state). As in wasm-shim,
// `terminal` on headers or store answers 500 after doing it.
import { Value, Kind } from "../../cel";
import { HeaderPair } from "../../abi/pairs";
import { PlanNode } from "../plan";
import { encodeStoredValue } from "../../proto/struct";
import { TaskContext, TaskResult } from "./context";
import { predicateHolds } from "./predicate";
import { kuadrantCounters } from "../kuadrant-counters";

const INTERNAL_ERROR = "Internal Server Error.\n";

export function runDeny(ctx: TaskContext, node: PlanNode, bindings: Array<Value>): TaskResult {
  const pre = predicateHolds(ctx, node, bindings);
  if (pre != TaskResult.Done) return pre;
  const v = node.typed.denyWith!.evalWith(ctx.attrs, node.varNames, bindings);
  if (v.isError) { ctx.failure = "denyWith failed: " + v.s; return TaskResult.Failed; }
  if (v.kind != Kind.Message && v.kind != Kind.Map) { ctx.failure = "denyWith must be a DenyResponse, got " + v.typeName(); return TaskResult.Failed; }
  const fields = v.entries();
  let status: u32 = 500;
  const s = fields.getString("status");
  if (s !== null) {
    if (s.kind == Kind.Uint && s.u >= 100 && s.u <= 599) status = <u32>s.u;
    else if (s.kind == Kind.Int && s.i >= 100 && s.i <= 599) status = <u32>s.i;
    else { ctx.failure = "DenyResponse.status must be an HTTP status, got " + describe(s); return TaskResult.Failed; }
  }
  const b = fields.getString("body");
  const body = b !== null && b.kind == Kind.String ? b.s : "";
  const h = fields.getString("headers");
  const headers = h !== null ? headerPairs(h) : new Array<HeaderPair>();
  if (status == 429) ctx.stats.limited = true;
  else ctx.stats.error(status == 401 || status == 403 ? "auth_denied" : "denied");
  ctx.effects.info("denied with " + status.toString() + " by " + node.action.path);
  return ctx.effects.localReply(status, status == 429 ? "rate_limited" : "denied", body, headers) ? TaskResult.Stopped : TaskResult.Done;
}

export function runFail(ctx: TaskContext, node: PlanNode, bindings: Array<Value>): TaskResult {
  const pre = predicateHolds(ctx, node, bindings);
  if (pre != TaskResult.Done) return pre;
  ctx.effects.warn("Action failure: " + node.typed.logMessage);
  if (!node.typed.terminal) return TaskResult.Done;
  ctx.stats.error("action_fail");
  kuadrantCounters.bump(kuadrantCounters.errors);
  return ctx.effects.localReply(500, "action_fail", INTERNAL_ERROR, []) ? TaskResult.Stopped : TaskResult.Done;
}

export function runHeaders(ctx: TaskContext, node: PlanNode, bindings: Array<Value>): TaskResult {
  const pre = predicateHolds(ctx, node, bindings);
  if (pre != TaskResult.Done) return pre;
  const v = node.typed.headers!.evalWith(ctx.attrs, node.varNames, bindings);
  if (v.isError) { ctx.failure = "headers failed: " + v.s; return TaskResult.Failed; }
  const pairs = headerPairs(v);
  const response = node.typed.targetResponse;
  for (let i = 0; i < pairs.length; i++) {
    if (!ctx.effects.setHeader(response, pairs[i].key, pairs[i].value, false)) {
      ctx.failure = "header '" + pairs[i].key + "' not set: the " + (response ? "response" : "request") + " headers can no longer change";
      return TaskResult.Failed;
    }
  }
  return terminalAfter(ctx, node);
}

export function runStore(ctx: TaskContext, node: PlanNode, bindings: Array<Value>): TaskResult {
  const pre = predicateHolds(ctx, node, bindings);
  if (pre != TaskResult.Done) return pre;
  const action = node.typed;
  const v = action.value!.evalWith(ctx.attrs, node.varNames, bindings);
  if (v.isError) { ctx.failure = "value failed: " + v.s; return TaskResult.Failed; }
  ctx.attrs.store(action.storePath, v);
  if (action.exportToHost) {
    const bytes = encodeStoredValue(v);
    if (bytes === null) { ctx.failure = "a " + v.typeName() + " cannot be exported as filter state"; return TaskResult.Failed; }
    ctx.effects.setFilterState("kuadrant." + action.storePath, bytes);
  }
  return terminalAfter(ctx, node);
}

function terminalAfter(ctx: TaskContext, node: PlanNode): TaskResult {
  if (!node.typed.terminal) return TaskResult.Done;
  ctx.stats.error("action_terminal");
  return ctx.effects.localReply(500, "action_terminal", INTERNAL_ERROR, []) ? TaskResult.Stopped : TaskResult.Done;
}

/**
 * Headers as typed actions give them: a list whose items are [name, value] pairs, HeaderValue
 * {key, value} or HeaderValueOption {header: {key, value}} (anything else in the list is skipped,
 * as wasm-shim does), or a map of name → value, which the operator's extension examples write and
 * wasm-shim silently drops (§6.3 #6).
 */
export function headerPairs(v: Value): Array<HeaderPair> {
  const out = new Array<HeaderPair>();
  if (v.kind == Kind.Map) {
    const m = v.entries();
    for (let i = 0; i < m.size; i++) {
      if (m.keys[i].kind == Kind.String && m.keys[i].s.length > 0 && m.values[i].kind == Kind.String) out.push(new HeaderPair(m.keys[i].s, m.values[i].s));
    }
    return out;
  }
  if (v.kind != Kind.List) return out;
  const items = v.items();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.kind == Kind.List) {
      const kv = item.items();
      if (kv.length == 2 && kv[0].kind == Kind.String && kv[1].kind == Kind.String) out.push(new HeaderPair(kv[0].s, kv[1].s));
      continue;
    }
    if (item.kind != Kind.Map && item.kind != Kind.Message) continue;
    let fields = item.entries();
    const header = fields.getString("header");
    if (header !== null && (header.kind == Kind.Map || header.kind == Kind.Message)) fields = header.entries();
    const k = fields.getString("key"), val = fields.getString("value");
    if (k !== null && k.kind == Kind.String && k.s.length > 0 && val !== null && val.kind == Kind.String) out.push(new HeaderPair(k.s, val.s));
  }
  return out;
}

function describe(v: Value): string {
  if (v.kind == Kind.Int) return v.i.toString();
  if (v.kind == Kind.Uint) return v.u.toString() + "u";
  return v.typeName();
}
