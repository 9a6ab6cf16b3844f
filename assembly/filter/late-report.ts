// A Report still in flight when its stream is deleted. Reports are sent as the response ends and
// never hold it, so their answer usually comes after the request was logged. It is still counted
// where the request's own calls are: its time in kuadrant_limitador_call_duration_ms, and a
// failure (those hits never reached Limitador) under error_class="report" and in kuadrant.errors.
import { LateCall } from "../abi/context";
import { currentTimeNanoseconds, logWarn } from "../abi/hostcalls";
import { ServiceConfig } from "./config";
import { LabelSet } from "./metrics";
import { kuadrantCounters } from "./kuadrant-counters";

export class LateReport extends LateCall {
  /** labels: the request's label set (null when the stream ended without being logged). */
  constructor(private readonly labels: LabelSet | null, private readonly service: ServiceConfig, private readonly startedNs: u64) { super(); }

  onReply(): void { this.timed(); }

  onFailure(status: u32, message: string): void {
    this.timed();
    kuadrantCounters.bump(kuadrantCounters.errors);
    const labels = this.labels;
    if (labels !== null) labels.error("report");
    logWarn("service '" + this.service.name + "' (" + this.service.grpcMethod + "): gRPC status " + status.toString()
      + (message.length > 0 ? " (" + message + ")" : "") + " after the request ended: its hits were not counted");
  }

  private timed(): void {
    const labels = this.labels;
    if (labels !== null && this.service.isLimitador) labels.limitadorCall(currentTimeNanoseconds() - this.startedNs);
  }
}
