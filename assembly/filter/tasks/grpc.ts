// The typed `grpc` action (research/wasm-shim-newer-config.md §3.2): its message builder, a CEL
// struct literal, is encoded with the method's descriptors and sent; the reply is decoded into
// the value bound to its `var` for its onReply children. Any failure (predicate, builder, type
// mismatch, missing descriptors, dispatch, gRPC status, decoding) goes to the failure policy.
import { Value, Kind } from "../../cel";
import { PlanNode } from "../plan";
import { KUADRANT_RLS_SERVICE, ServiceConfig } from "../config";
import { encodeMessage, decodeMessage } from "../../proto/dynamic-codec";
import { encodeBuilder, watched } from "../../proto/literal-encoder";
import { TaskContext, TaskResult } from "./context";
import { predicateHolds } from "./predicate";

export function runGrpc(ctx: TaskContext, node: PlanNode, bindings: Array<Value>): TaskResult {
  const action = node.typed;
  const pre = predicateHolds(ctx, node, bindings);
  if (pre != TaskResult.Done) return pre;
  const service = action.service!;
  const method = service.method;
  if (method === null) { ctx.failure = "no descriptors for " + service.grpcService + " yet (asked the descriptor service)"; return TaskResult.Failed; }
  const builder = action.messageBuilder!;
  // The fast way: the literal written straight into bytes (null: take the general way below).
  const report = service.grpcService == KUADRANT_RLS_SERVICE && service.grpcMethod == "Report";
  const direct = encodeBuilder(method.input, builder, builder.prepare(ctx.attrs, node.varNames, bindings), report ? "hits_addend" : "");
  if (direct !== null) {
    const hits = watched;
    if (report && hits !== null && hits.kind == Kind.Uint && hits.u == 0) return TaskResult.Skipped;
    return send(ctx, service, direct);
  }
  const message = builder.evalWith(ctx.attrs, node.varNames, bindings);
  if (message.isError) { ctx.failure = "messageBuilder failed: " + message.s; return TaskResult.Failed; }
  if (isEmptyReport(service.grpcService, service.grpcMethod, message)) return TaskResult.Skipped;
  const encoded = encodeMessage(method.input, message);
  const bytes = encoded.bytes;
  if (bytes === null) { ctx.failure = "messageBuilder does not fit " + method.input.fullName + ": " + encoded.error; return TaskResult.Failed; }
  return send(ctx, service, bytes);
}

function send(ctx: TaskContext, service: ServiceConfig, bytes: ArrayBuffer): TaskResult {
  const token = ctx.effects.dispatch(service, bytes);
  if (token < 0) return TaskResult.Failed;
  ctx.token = <u32>token;
  return TaskResult.InFlight;
}

/** A Report of 0 hits is not sent: Limitador would count it as 1 (as for classic reports). */
function isEmptyReport(grpcService: string, grpcMethod: string, message: Value): bool {
  if (grpcService != KUADRANT_RLS_SERVICE || grpcMethod != "Report" || message.kind != Kind.Message) return false;
  const hits = message.entries().getString("hits_addend");
  return hits !== null && hits.kind == Kind.Uint && hits.u == 0;
}

export function grpcReply(ctx: TaskContext, node: PlanNode, message: ArrayBuffer, bindings: Array<Value>): TaskResult {
  const action = node.typed;
  if (action.onReply.length == 0) { ctx.reply = null; return TaskResult.Done; } // nobody reads it: not decoded
  const method = action.service!.method!;
  const reply = decodeMessage(method.output, message);
  if (reply === null) { ctx.failure = "reply is not a " + method.output.fullName; return TaskResult.Failed; }
  ctx.reply = reply;
  return TaskResult.Done;
}
