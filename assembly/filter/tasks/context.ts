// What a task sees of its stream: the attributes and value store, the stream's effects on the
// host (dispatching calls, local replies, headers, filter state), the plugin configuration and
// the request's statistics. Tasks return a TaskResult; details travel in the context, so a
// request allocates no result objects.
import { Value } from "../../cel";
import { HeaderPair } from "../../abi/pairs";
import { HeaderMap } from "../../abi/header-map";
import { StreamAttributes } from "../attributes";
import { PluginConfig, ServiceConfig } from "../config";
import { RequestStats } from "../metrics";

export enum TaskResult {
  Done, Skipped,
  /** A call was dispatched: ctx.token. */
  InFlight,
  /** Failed: ctx.failure says why; the executor applies the failure policy. */
  Failed,
  /** A local reply was sent: the pipeline ends. */
  Stopped,
}

/** The host side of a stream, as tasks use it (implemented by the request flow). */
export class StreamEffects {
  /** Dispatches a unary call; the token, or -1 when the host refused (ctx.failure is set). */
  dispatch(service: ServiceConfig, message: ArrayBuffer): i64 { return -1; }
  /** Sends a local reply; false when the response has already started. */
  localReply(status: u32, details: string, body: string, headers: Array<HeaderPair>): bool { return false; }
  /** Sets (replaces) or appends a header; false when that header map can no longer change. */
  setHeader(response: bool, key: string, value: string, append: bool): bool { return false; }
  setFilterState(name: string, bytes: ArrayBuffer): void {}
  warn(message: string): void {}
  info(message: string): void {}
  nowNs(): u64 { return 0; }
}

const NO_HEADERS = new Array<HeaderPair>(0);

export class TaskContext {
  token: u32 = 0;
  failure: string = "";
  /** The decoded reply of the last grpc node that completed (bound to its `var`). */
  reply: Value | null = null;
  /** Limitador's headers for the downstream response (classic rate-limit OK answers). */
  responseHeadersToAdd: Array<HeaderPair> = NO_HEADERS;

  addResponseHeader(h: HeaderPair): void {
    if (this.responseHeadersToAdd === NO_HEADERS) this.responseHeadersToAdd = new Array<HeaderPair>();
    this.responseHeadersToAdd.push(h);
  }

  constructor(public attrs: StreamAttributes, public effects: StreamEffects, public config: PluginConfig,
              public stats: RequestStats, public requestHeaders: HeaderMap) {}
}
