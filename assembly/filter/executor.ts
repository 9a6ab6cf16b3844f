// Request time: walks one action set's plan (plan.ts) for one stream. Every host event (request
// headers, request body done, response headers, response done, a gRPC reply) re-runs every node
// whose dependencies have finished and whose phase has come. A phase is held while any guard node
// of that phase is unfinished, whether it waits, is blocked or is in flight, so "nothing in
// flight" never lets a request through unchecked. Every node ends in a terminal state; the
// executor owns the failure policy (a failed node counts as finished, its outputs absent).
import { Value } from "../cel";
import { HeaderPair } from "../abi/pairs";
import { SetPlan, PlanNode, NodeKind, Phase } from "./plan";
import { TaskContext, TaskResult } from "./tasks/context";
import { runClassic, classicReply } from "./tasks/classic";
import { runGrpc, grpcReply } from "./tasks/grpc";
import { runDeny, runFail, runHeaders, runStore } from "./tasks/local";
import { ServiceConfig, ServiceType } from "./config";
import { kuadrantCounters } from "./kuadrant-counters";
import { LabelSet } from "./metrics";
import { LateReport } from "./late-report";

export enum NodeState { Waiting, InFlight, Done, Failed, Skipped }

const INTERNAL_ERROR = "Internal Server Error.\n";

const NO_BINDINGS = new Array<Value>(0);

export class Executor {
  private states: StaticArray<NodeState>;
  /** The reply a grpc node bound to its `var` (for its onReply children). */
  private replies: StaticArray<Value | null>;
  private startedNs: StaticArray<u64>;
  /** The token of each node's call, valid while the node is InFlight and the executor not stopped. */
  private tokens: StaticArray<u32>;
  /** bindings() by parent node (made on first use). */
  private bindingsByParent: StaticArray<Array<Value> | null> | null = null;
  private reached: i32 = -1;
  /** A local reply was sent: nothing more runs. */
  stopped: bool = false;

  constructor(public readonly plan: SetPlan, public readonly ctx: TaskContext) {
    const n = plan.nodes.length;
    this.states = new StaticArray<NodeState>(n);
    this.replies = new StaticArray<Value | null>(n);
    this.startedNs = new StaticArray<u64>(n);
    this.tokens = new StaticArray<u32>(n);
  }

  /** The stream has got this far (e.g. the request body is complete): run what can run now. */
  reach(phase: Phase): void {
    if (<i32>phase > this.reached) this.reached = <i32>phase;
    this.advance();
  }

  /** True while an unfinished guard node of `phase` must hold the stream. */
  holds(phase: Phase): bool {
    if (this.stopped) return false;
    const nodes = this.plan.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      if (node.guard && node.phase == phase && this.states[i] <= NodeState.InFlight) return true;
    }
    return false;
  }

  /** The node waiting for this token's reply, or -1 (none, or the pipeline stopped: replies are dropped). */
  private nodeOf(token: u32): i32 {
    if (this.stopped) return -1;
    const states = this.states, tokens = this.tokens;
    for (let i = 0; i < states.length; i++) if (unchecked(states[i]) == NodeState.InFlight && unchecked(tokens[i]) == token) return i;
    return -1;
  }

  ownsToken(token: u32): bool { return this.nodeOf(token) >= 0; }

  /** The Report waiting for this token, as a call that outlives the stream; null for other calls. */
  lateReport(token: u32, labels: LabelSet | null): LateReport | null {
    const id = this.nodeOf(token);
    if (id < 0) return null;
    const service = this.serviceOf(this.plan.nodes[id]);
    return service !== null && service.isReport ? new LateReport(labels, service, this.startedNs[id]) : null;
  }

  private serviceOf(node: PlanNode): ServiceConfig | null {
    return node.kind == NodeKind.Classic ? node.classic.service : node.kind == NodeKind.Grpc ? node.typed.service : null;
  }

  onReply(token: u32, message: ArrayBuffer): void {
    const id = this.takeToken(token);
    if (id < 0) return;
    const node = this.plan.nodes[id];
    const result = node.kind == NodeKind.Classic ? classicReply(this.ctx, node, message) : grpcReply(this.ctx, node, message, this.bindings(node));
    if (result == TaskResult.Done && node.kind == NodeKind.Grpc) this.replies[id] = this.ctx.reply;
    this.settle(node, result);
    this.advance();
  }

  onFailure(token: u32, status: u32, message: string): void {
    const id = this.takeToken(token);
    if (id < 0) return;
    this.ctx.failure = "gRPC status " + status.toString() + (message.length > 0 ? " (" + message + ")" : "");
    this.settle(this.plan.nodes[id], TaskResult.Failed);
    this.advance();
  }

  private takeToken(token: u32): i32 {
    const id = this.nodeOf(token);
    if (id < 0) return -1;
    this.ctx.stats.callEnded(this.startedNs[id], this.isLimitadorCall(this.plan.nodes[id]));
    return id;
  }

  private isLimitadorCall(node: PlanNode): bool {
    const service = this.serviceOf(node);
    return service !== null && service.isLimitador;
  }

  private advance(): void {
    const nodes = this.plan.nodes;
    let progress = true;
    while (progress && !this.stopped) {
      progress = false;
      for (let i = 0; i < nodes.length && !this.stopped; i++) {
        if (this.states[i] != NodeState.Waiting || !this.runnable(nodes[i])) continue;
        this.run(nodes[i]);
        progress = true;
      }
    }
  }

  private runnable(node: PlanNode): bool {
    if (<i32>node.phase > this.reached) return false;
    if (node.parent >= 0 && this.states[node.parent] != NodeState.Done) return false;
    for (let d = 0; d < node.deps.length; d++) if (!this.finishedFor(node.deps[d], node.phase)) return false;
    return true;
  }

  /** Finished for a dependent of `phase`: ended, and so have its children of that phase or earlier. */
  private finishedFor(id: i32, phase: Phase): bool {
    if (this.states[id] <= NodeState.InFlight) return false;
    const children = this.plan.nodes[id].children;
    for (let c = 0; c < children.length; c++) {
      if (this.plan.nodes[children[c]].phase <= phase && !this.finishedFor(children[c], phase)) return false;
    }
    return true;
  }

  private run(node: PlanNode): void {
    const ctx = this.ctx;
    if (node.action.misconfigured.length > 0) {
      ctx.failure = "misconfigured: " + node.action.misconfigured;
      this.settle(node, TaskResult.Failed);
      return;
    }
    const bindings = this.bindings(node);
    let result: TaskResult;
    switch (node.kind) {
      case NodeKind.Classic: result = runClassic(ctx, node, <i32>node.phase >= <i32>Phase.ResponseHeaders); break;
      case NodeKind.Grpc: result = runGrpc(ctx, node, bindings); break;
      case NodeKind.Deny: result = runDeny(ctx, node, bindings); break;
      case NodeKind.Headers: result = runHeaders(ctx, node, bindings); break;
      case NodeKind.Store: result = runStore(ctx, node, bindings); break;
      default: result = runFail(ctx, node, bindings);
    }
    if (result == TaskResult.InFlight) {
      this.states[node.id] = NodeState.InFlight;
      this.tokens[node.id] = ctx.token;
      this.startedNs[node.id] = ctx.effects.nowNs();
      return;
    }
    this.settle(node, result);
  }

  /** Puts a node in its terminal state and applies what that means for the stream. */
  private settle(node: PlanNode, result: TaskResult): void {
    const ctx = this.ctx;
    if (result == TaskResult.Stopped) {
      this.states[node.id] = NodeState.Done;
      this.stop();
      return;
    }
    if (result == TaskResult.Done) { this.states[node.id] = NodeState.Done; return; }
    if (result == TaskResult.Skipped) { this.states[node.id] = NodeState.Skipped; this.skipChildren(node); return; }
    // Failed: calls follow their service's failureMode; other actions log and count as finished.
    this.states[node.id] = NodeState.Failed;
    this.skipChildren(node);
    const service = this.serviceOf(node);
    if (service === null) {
      ctx.stats.error("action_failed");
      ctx.effects.warn("action " + node.action.path + " (" + node.typed.kindName + ") failed: " + ctx.failure);
      return;
    }
    const deny = service.failureModeDeny && service.type != ServiceType.RateLimitReport;
    kuadrantCounters.bump(kuadrantCounters.errors);
    ctx.stats.error(deny ? "failure_mode_deny" : "failure_mode_allow");
    ctx.effects.warn("service '" + service.name + "' (" + service.grpcMethod + "): " + ctx.failure + (deny ? "; failure mode deny" : "; failure mode allow"));
    if (deny) this.reply(500, "rate_limit_service_failure", INTERNAL_ERROR, []);
  }

  /** A local reply from the pipeline; in the response phase it can only be logged. */
  reply(status: u32, details: string, body: string, headers: Array<HeaderPair>): void {
    if (this.ctx.effects.localReply(status, details, body, headers)) this.stop();
    else this.ctx.effects.warn("cannot answer " + status.toString() + " (" + details + "): the response has started");
  }

  private stop(): void {
    // In-flight replies are dropped when they arrive: nodeOf() answers -1 from now on.
    this.stopped = true;
  }

  private skipChildren(node: PlanNode): void {
    for (let c = 0; c < node.children.length; c++) {
      const child = node.children[c];
      if (this.states[child] == NodeState.Waiting) this.states[child] = NodeState.Skipped;
      this.skipChildren(this.plan.nodes[child]);
    }
  }

  private bindings(node: PlanNode): Array<Value> {
    if (node.varNodes.length == 0) return NO_BINDINGS;
    // Every child of a parent binds the same replies, all known once they run: made once per parent.
    const parent = node.parent;
    if (parent >= 0) {
      let cache = this.bindingsByParent;
      if (cache === null) { cache = new StaticArray<Array<Value> | null>(this.plan.nodes.length); this.bindingsByParent = cache; }
      const cached = cache[parent];
      if (cached !== null) return cached;
    }
    const values = new Array<Value>(node.varNodes.length);
    for (let i = 0; i < node.varNodes.length; i++) {
      const v = this.replies[node.varNodes[i]];
      values[i] = v !== null ? v : Value.null();
    }
    if (parent >= 0) this.bindingsByParent![parent] = values;
    return values;
  }
}
