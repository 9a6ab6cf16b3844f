// A typed action's `predicate`: true → run, false → skipped, an error or a non-bool → failed.
import { Value, Kind } from "../../cel";
import { PlanNode } from "../plan";
import { TaskContext, TaskResult } from "./context";

/** Done when the action should run; Skipped or Failed (with ctx.failure) otherwise. */
export function predicateHolds(ctx: TaskContext, node: PlanNode, bindings: Array<Value>): TaskResult {
  const predicate = node.typed.predicate;
  const v = predicate.evalWith(ctx.attrs, node.varNames, bindings);
  if (v.isError) { ctx.failure = "predicate '" + predicate.source + "' failed: " + v.s; return TaskResult.Failed; }
  if (v.kind != Kind.Bool) { ctx.failure = "predicate '" + predicate.source + "' is not a bool (got " + v.typeName() + ")"; return TaskResult.Failed; }
  return v.b ? TaskResult.Done : TaskResult.Skipped;
}
