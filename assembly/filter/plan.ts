// Configure time ends here: every action set becomes a flat, immutable plan of nodes (one per
// action, plus one per onReply child) with small integer ids, each with the phase it can run in,
// whether it holds that phase, and the nodes it must wait for. Request time only walks it
// (executor.ts). Classic and typed actions meet in one graph:
// - order: a classic action waits for the action before it; a typed action for the last
//   `sequential` fence, and a sequential one for everything since (wasm-shim main, §3.1);
// - data: a typed action that reads a stored path (`auth.*`, `kuadrant.*`) waits for the action
//   that writes it;
// - phase: an action that reads the response runs in the response phase.
// Two rules make the wasm-shim hazards of §6.3 impossible: an order edge to a node of a later
// phase is dropped (a response-body store never fences the request's checks), and an order edge
// that would close a cycle with data edges is dropped with a warning (data wins). So no request
// phase guard can wait on the response, and no two actions can wait for each other.
import { Expression } from "../cel";
import {
  PluginConfig, ActionSet, ActionConfig, Action, TypedAction, TypedKind, ServiceType, RequestDatum,
} from "./config";

export enum NodeKind { Classic, Grpc, Deny, Headers, Store, Fail }

/** When a node can run: the request headers, the whole request body, the response headers, the whole response body. */
export enum Phase { RequestHeaders = 0, RequestBody = 1, ResponseHeaders = 2, ResponseBody = 3 }

export class PlanNode {
  deps: Array<i32> = [];
  /** onReply children (grpc nodes only), in config order. */
  children: Array<i32> = [];
  parent: i32 = -1;
  /** Earliest phase, from what the node itself reads. */
  ownPhase: Phase = Phase.RequestHeaders;
  /** Earliest phase once its dependencies are counted: when it actually runs. */
  phase: Phase = Phase.RequestHeaders;
  /** The phase is held (request or response paused) while this node is unfinished. */
  guard: bool = true;
  /** A store path this node writes ("" when none): `auth` for auth calls, a store action's path. */
  writes: string = "";
  /** Names bound while evaluating this node: the `var` of each grpc ancestor, innermost last. */
  varNames: Array<string> = [];
  varNodes: Array<i32> = [];

  constructor(public id: i32, public kind: NodeKind, public action: ActionConfig) {}

  get classic(): Action { return changetype<Action>(this.action); }
  get typed(): TypedAction { return changetype<TypedAction>(this.action); }
  get isReport(): bool { return this.kind == NodeKind.Classic && this.classic.service.type == ServiceType.RateLimitReport; }
}

export class SetPlan {
  nodes: Array<PlanNode> = [];
  /** Top-level store roots (first path segment) this set writes: attribute roots for its expressions. */
  storeRoots: Array<string> = [];
  /** The set needs the request body (requestBodyJSON somewhere). */
  readsRequestBody: bool = false;
  constructor(public set: ActionSet) {}
}

export class PlanResult {
  plans: Array<SetPlan> = [];
  warnings: Array<string> = [];
}

export function buildPlans(config: PluginConfig): PlanResult {
  const out = new PlanResult();
  for (let s = 0; s < config.actionSets.length; s++) out.plans.push(planSet(config.actionSets[s], config.requestData, out.warnings));
  return out;
}

function planSet(set: ActionSet, labels: Array<RequestDatum>, warnings: Array<string>): SetPlan {
  const plan = new SetPlan(set);
  const topLevel = new Array<i32>();
  for (let i = 0; i < set.actions.length; i++) topLevel.push(addNode(plan, set.actions[i], -1, labels));
  for (let i = 0; i < plan.nodes.length; i++) {
    const w = plan.nodes[i].writes;
    if (w.length > 0) { const root = w.split(".")[0]; if (!plan.storeRoots.includes(root)) plan.storeRoots.push(root); }
  }
  addDataEdges(plan, labels, warnings);
  addOrderEdges(plan, topLevel, warnings);
  computePhases(plan, warnings);
  return plan;
}

function addNode(plan: SetPlan, action: ActionConfig, parent: i32, labels: Array<RequestDatum>): i32 {
  const id = plan.nodes.length;
  let kind = NodeKind.Classic;
  if (action.typed) {
    const t = changetype<TypedAction>(action);
    kind = t.kind == TypedKind.Grpc ? NodeKind.Grpc : t.kind == TypedKind.Deny ? NodeKind.Deny
      : t.kind == TypedKind.Headers ? NodeKind.Headers : t.kind == TypedKind.Store ? NodeKind.Store : NodeKind.Fail;
  }
  const node = new PlanNode(id, kind, action);
  node.parent = parent;
  plan.nodes.push(node);
  if (parent >= 0) {
    const p = plan.nodes[parent];
    node.varNames = p.varNames.slice(0);
    node.varNodes = p.varNodes.slice(0);
    node.varNames.push(p.typed.varName);
    node.varNodes.push(parent);
  }
  if (kind == NodeKind.Classic) {
    const a = node.classic;
    const type = a.service.type;
    node.guard = type != ServiceType.RateLimitReport;
    if (type == ServiceType.Auth) node.writes = "auth";
    node.ownPhase = type == ServiceType.RateLimitReport ? Phase.ResponseBody : type == ServiceType.Auth ? Phase.RequestHeaders : classicPhase(a, labels);
    if (node.ownPhase >= Phase.ResponseHeaders) node.guard = false; // the response is never held for a check
  } else {
    const t = node.typed;
    node.guard = kind != NodeKind.Grpc || t.isGuard;
    node.ownPhase = phaseOf(t.expressions());
    if (kind == NodeKind.Headers && t.targetResponse && node.ownPhase < Phase.ResponseHeaders) node.ownPhase = Phase.ResponseHeaders;
    if (kind == NodeKind.Store) node.writes = t.storePath;
    if (kind == NodeKind.Grpc) {
      for (let c = 0; c < t.onReply.length; c++) node.children.push(addNode(plan, t.onReply[c], id, labels));
    }
  }
  const exprs = exprsOf(node, labels);
  for (let i = 0; i < exprs.length; i++) if (exprs[i].usesRequestBody) plan.readsRequestBody = true;
  return id;
}

/** A classic rate-limit call: its own data, and the labels it sends in that phase. */
function classicPhase(a: Action, labels: Array<RequestDatum>): Phase {
  const own = phaseOf(a.expressions());
  if (own >= Phase.ResponseHeaders) return own;
  // Labels that read the response are left out of request-phase calls; request-body labels wait.
  for (let i = 0; i < labels.length; i++) if (labels[i].expression.usesRequestBody) return Phase.RequestBody;
  return own;
}

function phaseOf(exprs: Array<Expression>): Phase {
  let p = Phase.RequestHeaders;
  for (let i = 0; i < exprs.length; i++) {
    const e = exprs[i];
    if (e.usesResponseBody) return Phase.ResponseBody;
    if (e.usesRoot("response")) p = Phase.ResponseHeaders;
    else if (e.usesRequestBody && p < Phase.RequestBody) p = Phase.RequestBody;
  }
  return p;
}

function exprsOf(node: PlanNode, labels: Array<RequestDatum>): Array<Expression> {
  if (node.kind != NodeKind.Classic) return node.typed.expressions();
  const out = node.classic.expressions();
  const type = node.classic.service.type;
  if (type != ServiceType.Auth) for (let i = 0; i < labels.length; i++) out.push(labels[i].expression);
  return out;
}

/** A typed node that reads a stored path waits for every node that writes it (never its own descendants). */
function addDataEdges(plan: SetPlan, labels: Array<RequestDatum>, warnings: Array<string>): void {
  for (let n = 0; n < plan.nodes.length; n++) {
    const node = plan.nodes[n];
    if (node.kind == NodeKind.Classic) continue; // classic reads are tolerant: order alone decides (v0.12.3)
    const exprs = exprsOf(node, labels);
    for (let w = 0; w < plan.nodes.length; w++) {
      const writer = plan.nodes[w];
      if (w == n || writer.writes.length == 0 || isAncestor(plan, n, w)) continue;
      if (readsPath(exprs, writer.writes)) addEdge(node, w);
    }
  }
  // Data edges alone must not form a cycle: such a node could never run. It fails instead
  // (its dependencies are dropped, so it is reached at once and its failureMode applies).
  for (let n = 0; n < plan.nodes.length; n++) {
    const node = plan.nodes[n];
    let cyclic = false;
    for (let d = 0; d < node.deps.length; d++) if (waitsFor(plan, node.deps[d], n)) cyclic = true;
    if (!cyclic) continue;
    node.deps.length = 0;
    if (node.action.misconfigured.length == 0) {
      node.action.misconfigured = node.action.path + ": reads a stored value that, through other actions, needs this action's own result";
      warnings.push(node.action.misconfigured + " (requests reaching this action fail it; failureMode decides)");
    }
  }
}

function readsPath(exprs: Array<Expression>, storePath: string): bool {
  const segments = storePath.split(".");
  for (let e = 0; e < exprs.length; e++) {
    const attrs = exprs[e].attributes;
    for (let a = 0; a < attrs.length; a++) {
      const path = attrs[a];
      const n = min(path.length, segments.length);
      let same = true;
      for (let i = 0; i < n; i++) if (path[i] != segments[i]) { same = false; break; }
      if (same) return true;
    }
  }
  return false;
}

/** Declared order: the classic chain and the typed `execution` fences, among top-level actions. */
function addOrderEdges(plan: SetPlan, topLevel: Array<i32>, warnings: Array<string>): void {
  let lastFence = new Array<i32>();
  let sinceFence = new Array<i32>();
  for (let i = 0; i < topLevel.length; i++) {
    const id = topLevel[i];
    const node = plan.nodes[id];
    let deps: Array<i32>;
    if (!node.action.typed) {
      deps = i > 0 ? [topLevel[i - 1]] : [];
      sinceFence.push(id);
    } else if (node.typed.sequential) {
      deps = lastFence.concat(sinceFence);
      lastFence = [id];
      sinceFence = [];
    } else {
      deps = lastFence.slice(0);
      sinceFence.push(id);
    }
    for (let d = 0; d < deps.length; d++) {
      const dep = plan.nodes[deps[d]];
      // A response-phase node (a report, a response-body store) never fences request-phase work.
      if (effectiveOwnPhase(plan, dep) >= Phase.ResponseHeaders && node.ownPhase <= Phase.RequestBody) continue;
      if (waitsFor(plan, dep.id, id)) {
        warnings.push(node.action.path + ": runs after " + dep.action.path + " only if that does not wait for it: it does (through the values it reads), so the declared order is not kept");
        continue;
      }
      addEdge(node, dep.id);
    }
  }
}

/** The phase a node's own reads and data dependencies put it in (order edges not yet counted). */
function effectiveOwnPhase(plan: SetPlan, node: PlanNode): Phase {
  const seen = new Array<bool>(plan.nodes.length);
  const stack: Array<i32> = [node.id];
  let p = node.ownPhase;
  while (stack.length > 0) {
    const id = stack.pop();
    if (seen[id]) continue;
    seen[id] = true;
    const n = plan.nodes[id];
    if (n.ownPhase > p) p = n.ownPhase;
    for (let d = 0; d < n.deps.length; d++) stack.push(n.deps[d]);
    if (n.parent >= 0) stack.push(n.parent);
  }
  return p;
}

function computePhases(plan: SetPlan, warnings: Array<string>): void {
  const done = new Array<bool>(plan.nodes.length);
  for (let i = 0; i < plan.nodes.length; i++) resolvePhase(plan, i, done);
  for (let i = 0; i < plan.nodes.length; i++) {
    const node = plan.nodes[i];
    if (node.phase >= Phase.ResponseHeaders && node.ownPhase < Phase.ResponseHeaders && node.guard && node.kind == NodeKind.Grpc) {
      warnings.push(node.action.path + ": waits for a value only known in the response, so it cannot hold the request");
    }
    if (node.phase >= Phase.ResponseHeaders && node.kind == NodeKind.Grpc) node.guard = node.guard && node.phase == Phase.ResponseHeaders;
  }
}

function resolvePhase(plan: SetPlan, id: i32, done: Array<bool>): Phase {
  const node = plan.nodes[id];
  if (done[id]) return node.phase;
  done[id] = true; // cycles were cut before; this only guards against a bug looping forever
  let p = node.ownPhase;
  if (node.parent >= 0) { const q = resolvePhase(plan, node.parent, done); if (q > p) p = q; }
  for (let d = 0; d < node.deps.length; d++) { const q = resolvePhase(plan, node.deps[d], done); if (q > p) p = q; }
  node.phase = p;
  return p;
}

function addEdge(node: PlanNode, dep: i32): void { if (!node.deps.includes(dep)) node.deps.push(dep); }

function isAncestor(plan: SetPlan, node: i32, candidate: i32): bool {
  let p = plan.nodes[node].parent;
  while (p >= 0) { if (p == candidate) return true; p = plan.nodes[p].parent; }
  return false;
}

/**
 * True when `to` must run before `from` can finish. A node runs once its dependencies have
 * finished and (for an onReply child) its parent has replied; it finishes once its children have.
 */
function waitsFor(plan: SetPlan, from: i32, to: i32): bool {
  const n = plan.nodes.length;
  const seenRun = new Array<bool>(n), seenFinish = new Array<bool>(n);
  const ids: Array<i32> = [from];
  const finish: Array<bool> = [true];
  while (ids.length > 0) {
    const id = ids.pop();
    const whole = finish.pop();
    if (id == to) return true;
    if (whole) { if (seenFinish[id]) continue; seenFinish[id] = true; }
    else { if (seenRun[id]) continue; seenRun[id] = true; }
    const node = plan.nodes[id];
    for (let i = 0; i < node.deps.length; i++) { ids.push(node.deps[i]); finish.push(true); }
    if (node.parent >= 0) { ids.push(node.parent); finish.push(false); }
    if (whole) for (let i = 0; i < node.children.length; i++) { ids.push(node.children[i]); finish.push(true); }
  }
  return false;
}
