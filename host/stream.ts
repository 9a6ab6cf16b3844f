// One HTTP stream through [our wasm filter → router], with Envoy's filter-manager semantics as a
// single filter can observe them (research/proxy-wasm-abi.md §2.3–§2.5): lazy context creation,
// header maps that are only reachable until the filter continues, StopAll pauses that hold the
// body, deferred continue and local replies, a local reply that re-enters the response
// callbacks, and on_log → on_done → on_delete at the end.
import { randomUUID } from "node:crypto";
import { MapType } from "./envoy-abi.js";
import type { HeaderList } from "./pairs.js";
import type { PropMap, PropValue } from "./properties.js";
import { buildAttributes } from "./stream-attributes.js";
import { VmTrap, type LocalReply, type PluginVm, type StreamSide } from "./vm.js";

export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

export interface Address { address: string; port: number }

export interface UpstreamResponse {
  status: number;
  headers?: HeaderList;
  /**
   * Chunks are delivered one body callback each. An async iterable streams: each chunk as it
   * arrives (end_of_stream=false), then an empty end_of_stream, as Envoy does for chunked bodies.
   */
  body?: string | Uint8Array | Array<string | Uint8Array> | AsyncIterable<Uint8Array>;
  trailers?: HeaderList;
}

export interface ForwardedRequest { headers: HeaderList; body: Buffer; trailers: HeaderList | null }

export interface StreamOptions {
  source?: Address;
  destination?: Address;
  connectionId?: number;
  mtls?: boolean;
  /** filter_metadata namespace → Struct JSON, e.g. {"envoy.filters.http.ext_authz": {identity: {...}}}. */
  dynamicMetadata?: Record<string, unknown>;
  filterState?: Record<string, PropValue>;
  protocol?: string;
  /** HCM generates x-request-id when absent (Envoy's default); false turns that off. */
  generateRequestId?: boolean;
  /** Called once the request has been fully forwarded; its answer goes through the response path. */
  upstream?: (request: ForwardedRequest) => UpstreamResponse | Promise<UpstreamResponse>;
  /** Observes the chunks the client receives, as they are released (streaming). */
  onDownstreamData?: (chunk: Buffer) => void;
  onDownstreamHeaders?: (headers: HeaderList) => void;
}

export interface DownstreamResponse {
  status: number;
  headers: HeaderList;
  body: Buffer;
  trailers: HeaderList | null;
  /** true when the stream ended by reset (client gone, close_stream, local reply too late). */
  reset: boolean;
}

type Pause = null | "headers" | "body" | "trailers";

interface Direction {
  headers: HeaderList | null;
  headersHeld: boolean;
  pause: Pause;
  buffered: Buffer;
  endSeen: boolean;
  trailers: HeaderList | null;
  trailersDelivered: boolean;
  headersForwarded: boolean;
  forwardedBody: Buffer[];
  forwardedTrailers: HeaderList | null;
  complete: boolean;
  bodySeen: boolean;
}

function direction(): Direction {
  return { headers: null, headersHeld: false, pause: null, buffered: Buffer.alloc(0), endSeen: false, trailers: null, trailersDelivered: false, headersForwarded: false, forwardedBody: [], forwardedTrailers: null, complete: false, bodySeen: false };
}

const CALLBACKS = {
  request: { headers: "proxy_on_request_headers", body: "proxy_on_request_body", trailers: "proxy_on_request_trailers" },
  response: { headers: "proxy_on_response_headers", body: "proxy_on_response_body", trailers: "proxy_on_response_trailers" },
} as const;

export class HttpStream implements StreamSide {
  readonly id: number;
  inLog = false;
  /** Everything the filter did that a test may want to see. */
  readonly calls: string[] = [];
  readonly errors: string[] = [];
  localReply: LocalReply | null = null;
  hung = false;
  finished = false;
  readonly completion: Promise<DownstreamResponse>;

  private created = false;
  private readonly req = direction();
  private readonly resp = direction();
  private bodyInCallback: "request" | "response" | null = null;
  private currentCallbackStream: "request" | "response" | null = null;
  private stopForced = false;
  private localReplyActive = false;
  private routed = false;
  private resetFlag = false;
  private bypass = false;
  private readonly filterState = new Map<string, PropValue>();
  private readonly startNs: bigint;
  private resolveCompletion!: (r: DownstreamResponse) => void;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly vm: PluginVm | null, private readonly opts: StreamOptions,
              private readonly failurePolicy: FailurePolicy, clockNs: () => bigint,
              private readonly onLogOrder: "envoy" | "spec" = "envoy") {
    this.id = vm ? vm.newContextId() : 0;
    this.startNs = clockNs();
    for (const [k, v] of Object.entries(opts.filterState ?? {})) this.filterState.set(k, v);
    this.completion = new Promise((resolve) => { this.resolveCompletion = resolve; });
    if (!vm || vm.failed) this.bypass = true;
  }

  get alive(): boolean { return !this.finished; }

  /** What the router sent upstream. */
  get forwarded(): ForwardedRequest & { headersForwarded: boolean; complete: boolean } {
    return { headers: this.req.headers ?? [], body: Buffer.concat(this.req.forwardedBody), trailers: this.req.forwardedTrailers, headersForwarded: this.req.headersForwarded, complete: this.req.complete };
  }

  /** What the client has received so far. */
  get downstream(): DownstreamResponse & { headersSent: boolean } {
    const headers = this.resp.headersForwarded ? this.resp.headers ?? [] : [];
    return {
      status: Number(headers.find(([k]) => k === ":status")?.[1] ?? 0),
      headers, body: Buffer.concat(this.resp.forwardedBody), trailers: this.resp.forwardedTrailers,
      reset: this.resetFlag, headersSent: this.resp.headersForwarded,
    };
  }

  get requestPaused(): boolean { return this.req.pause !== null; }
  get responsePaused(): boolean { return this.resp.pause !== null; }

  /** Resolves once `predicate` holds (checked after every event), or rejects after timeoutMs. */
  waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      // Checked after every stream event, and polled for conditions outside the stream.
      const check = () => { if (predicate()) { clearTimeout(timer); clearInterval(poll); this.waiters.delete(check); resolve(); } };
      const poll = setInterval(check, 5);
      const timer = setTimeout(() => { clearInterval(poll); this.waiters.delete(check); reject(new Error(`stream ${this.id}: condition not reached in ${timeoutMs} ms`)); }, timeoutMs);
      this.waiters.add(check);
    });
  }

  // ---- downstream and upstream events ----------------------------------------------------

  sendRequestHeaders(headers: HeaderList, endOfStream: boolean): void {
    const list = headers.map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
    if (this.opts.generateRequestId !== false && !list.some(([k]) => k === "x-request-id")) list.push(["x-request-id", randomUUID()]);
    this.req.headers = list;
    this.req.endSeen = endOfStream;
    this.run(() => this.deliverHeaders("request"));
  }

  sendRequestBody(chunk: string | Uint8Array, endOfStream: boolean): void {
    this.run(() => this.deliverBody("request", Buffer.from(chunk), endOfStream));
  }

  sendRequestTrailers(trailers: HeaderList): void {
    this.run(() => this.deliverTrailers("request", trailers));
  }

  sendResponseHeaders(headers: HeaderList, endOfStream: boolean): void {
    if (this.localReply || this.finished) return; // the upstream answer lost to a local reply
    this.resp.headers = headers.map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
    this.resp.endSeen = endOfStream;
    this.run(() => this.deliverHeaders("response"));
  }

  sendResponseBody(chunk: string | Uint8Array, endOfStream: boolean): void {
    if (this.localReply || this.finished) return;
    this.run(() => this.deliverBody("response", Buffer.from(chunk), endOfStream));
  }

  sendResponseTrailers(trailers: HeaderList): void {
    if (this.localReply || this.finished) return;
    this.run(() => this.deliverTrailers("response", trailers));
  }

  /** Delivers an upstream response through the response path (streamed when the body is async). */
  respond(response: UpstreamResponse): void | Promise<void> {
    const body = response.body;
    if (body !== undefined && typeof body === "object" && Symbol.asyncIterator in body) return this.respondStreaming(response, body as AsyncIterable<Uint8Array>);
    const chunks = body === undefined ? [] : Array.isArray(body) ? body : [body as string | Uint8Array];
    const hasTrailers = !!response.trailers;
    this.sendResponseHeaders([[":status", String(response.status)], ...(response.headers ?? [])], chunks.length === 0 && !hasTrailers);
    chunks.forEach((c, i) => this.sendResponseBody(c, i === chunks.length - 1 && !hasTrailers));
    if (response.trailers) this.sendResponseTrailers(response.trailers);
  }

  private async respondStreaming(response: UpstreamResponse, body: AsyncIterable<Uint8Array>): Promise<void> {
    this.sendResponseHeaders([[":status", String(response.status)], ...(response.headers ?? [])], false);
    try {
      for await (const chunk of body) {
        if (this.finished || this.localReply) return;
        if (chunk.length > 0) this.sendResponseBody(chunk, false);
      }
    } catch {
      this.reset(); // upstream reset mid-body
      return;
    }
    if (response.trailers) this.sendResponseTrailers(response.trailers);
    else this.sendResponseBody(Buffer.alloc(0), true);
  }

  /** The client went away (or a reset from elsewhere): the filter still gets on_log/on_done/on_delete. */
  reset(): void {
    if (this.finished) return;
    this.resetFlag = true;
    this.finish();
  }

  // ---- StreamSide (host calls) -----------------------------------------------------------

  headerMap(mapType: number): { pairs: HeaderList; writable: boolean } | null {
    const d = mapType === MapType.RequestHeaders || mapType === MapType.RequestTrailers ? this.req
      : mapType === MapType.ResponseHeaders || mapType === MapType.ResponseTrailers ? this.resp : null;
    if (!d) return null;
    const trailers = mapType === MapType.RequestTrailers || mapType === MapType.ResponseTrailers;
    if (this.inLog) {
      const pairs = trailers ? d.trailers : d.headers;
      return pairs ? { pairs, writable: false } : null;
    }
    if (trailers) return d.trailers && !d.forwardedTrailers ? { pairs: d.trailers, writable: true } : null;
    return d.headersHeld && d.headers ? { pairs: d.headers, writable: true } : null;
  }

  private readonly bodyAccess = {
    request: { get: () => this.req.buffered, set: (bytes: Uint8Array) => { this.req.buffered = Buffer.from(bytes); } },
    response: { get: () => this.resp.buffered, set: (bytes: Uint8Array) => { this.resp.buffered = Buffer.from(bytes); } },
  };

  bodyBuffer(bufferType: number): { get(): Uint8Array; set(bytes: Uint8Array): void } | null {
    const which = bufferType === 0 ? "request" : "response";
    return this.bodyInCallback === which ? this.bodyAccess[which] : null;
  }

  private attributeTree: PropMap | null = null;

  /** The attribute tree, built on first use; its functions read the stream's state at read time. */
  attributes(): PropMap {
    if (this.attributeTree) return this.attributeTree;
    this.attributeTree = buildAttributes({
      requestHeaders: () => (this.req.headers && (this.req.headersHeld || this.inLog) ? this.req.headers : null),
      responseHeaders: () => (this.resp.headers && (this.resp.headersHeld || this.resp.headersForwarded || this.inLog) ? this.resp.headers : null),
      responseHeadersReadable: () => this.resp.headersHeld || this.inLog,
      responseBytes: () => this.resp.forwardedBody.reduce((n, b) => n + b.length, 0),
      requestBytes: () => this.req.forwardedBody.reduce((n, b) => n + b.length, this.req.buffered.length),
      codeDetails: () => (this.localReply ? this.localReply.details : "via_upstream"),
      options: this.opts,
      streamId: this.id,
      startNs: this.startNs,
      filterState: this.filterState,
      plugin: this.vm ? this.vm.pluginAttributes() : new Map(),
    });
    return this.attributeTree;
  }

  setFilterState(key: string, bytes: Uint8Array): void { this.filterState.set(key, bytes); }

  continueStream(streamType: number): void {
    if (this.finished || this.bypass) return;
    if (streamType === 0) this.resume("request");
    else if (streamType === 1) this.resume("response");
  }

  closeStream(_streamType: number): void {
    this.calls.push("close_stream");
    this.reset();
  }

  requestLocalReply(reply: LocalReply): void {
    if (this.currentCallbackStream) this.stopForced = true;
    if (this.localReplyActive) {
      // Envoy hangs the stream when a second local reply is sent while the first is encoding (envoy#28826).
      this.hung = true;
      this.errors.push("second local reply while the first was being encoded: Envoy would hang this stream");
      return;
    }
    this.vm!.defer(() => this.sendLocalReply(reply));
  }

  // ---- internals -------------------------------------------------------------------------

  private run(action: () => void): void {
    if (this.finished || this.hung) return;
    try {
      action();
      this.vm?.drain();
    } catch (err) {
      if (!(err instanceof VmTrap)) throw err;
      this.applyFailurePolicy(err);
    }
    this.notify();
  }

  /** Re-checks waiters; also used by the VM owner after async gRPC callbacks. */
  notify(): void { for (const w of [...this.waiters]) w(); }

  private ensureContext(): void {
    if (this.created || this.bypass) return;
    this.created = true;
    this.vm!.registerStream(this);
    this.vm!.callGuest("proxy_on_context_create", this.id, [this.id, this.vm!.rootContextId]);
  }

  private callFilter(which: "request" | "response", fn: string, args: number[]): number {
    if (this.bypass) return 0;
    this.ensureContext();
    this.calls.push(fn);
    this.currentCallbackStream = which;
    this.stopForced = false;
    let result: number;
    try {
      result = this.vm!.callGuest(fn, this.id, [this.id, ...args]) ?? 0;
    } finally {
      this.currentCallbackStream = null;
    }
    if (this.stopForced) return 1; // a local reply forces a Stop variant
    return result;
  }

  private deliverHeaders(which: "request" | "response"): void {
    const d = which === "request" ? this.req : this.resp;
    d.headersHeld = true;
    const status = this.callFilter(which, CALLBACKS[which].headers, [d.headers!.length, d.endSeen ? 1 : 0]);
    if (this.finished || this.hung) return;
    if (status === 0 || status === 2) this.forwardHeaders(which);
    else d.pause = "headers"; // StopIteration becomes StopAllIterationAndWatermark by default
  }

  private deliverBody(which: "request" | "response", chunk: Buffer, endOfStream: boolean): void {
    const d = which === "request" ? this.req : this.resp;
    if (d.complete) return;
    d.bodySeen = true;
    d.buffered = Buffer.concat([d.buffered, chunk]);
    if (endOfStream) d.endSeen = true;
    if (d.pause === "headers" || d.pause === "trailers") return; // held, no callback while stopped
    this.runBodyCallback(which);
  }

  private runBodyCallback(which: "request" | "response"): void {
    const d = which === "request" ? this.req : this.resp;
    this.bodyInCallback = which;
    let status: number;
    try {
      status = this.callFilter(which, CALLBACKS[which].body, [d.buffered.length, d.endSeen && !d.trailers ? 1 : 0]);
    } finally {
      this.bodyInCallback = null;
    }
    if (this.finished || this.hung || (which === "request" && this.localReply)) return;
    status = Math.min(status, 3);
    if (status === 0) {
      d.pause = null;
      this.forwardBody(which);
    } else {
      if (status === 3) d.buffered = Buffer.alloc(0); // StopIterationNoBuffer: nothing kept
      d.pause = "body";
    }
  }

  private deliverTrailers(which: "request" | "response", trailers: HeaderList): void {
    const d = which === "request" ? this.req : this.resp;
    d.trailers = trailers.map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
    d.endSeen = true;
    if (d.pause) return;
    this.runTrailersCallback(which);
  }

  private runTrailersCallback(which: "request" | "response"): void {
    const d = which === "request" ? this.req : this.resp;
    d.trailersDelivered = true;
    const status = this.callFilter(which, CALLBACKS[which].trailers, [d.trailers!.length]);
    if (this.finished || this.hung) return;
    if (status === 0) { d.forwardedTrailers = d.trailers; this.checkComplete(which); }
    else d.pause = "trailers";
  }

  private resume(which: "request" | "response"): void {
    const d = which === "request" ? this.req : this.resp;
    const pause = d.pause;
    if (!pause) return;
    d.pause = null;
    if (pause === "headers") {
      this.forwardHeaders(which);
      // Buffered body reaches the filter as one chunk before later filters (StopAll semantics).
      if (d.buffered.length > 0 || (d.bodySeen && !d.complete)) this.runBodyCallback(which);
    } else if (pause === "body") {
      this.forwardBody(which);
    } else if (pause === "trailers") {
      d.forwardedTrailers = d.trailers;
      this.checkComplete(which);
      return;
    }
    if (!d.pause && d.trailers && !d.trailersDelivered) this.runTrailersCallback(which);
  }

  private forwardHeaders(which: "request" | "response"): void {
    const d = which === "request" ? this.req : this.resp;
    d.headersHeld = false; // the header map pointer is released once the filter continues
    d.headersForwarded = true;
    if (which === "response") this.opts.onDownstreamHeaders?.(d.headers!);
    if (d.endSeen && d.buffered.length === 0 && !d.trailers) this.markComplete(which);
  }

  private forwardBody(which: "request" | "response"): void {
    const d = which === "request" ? this.req : this.resp;
    if (d.buffered.length > 0) {
      d.forwardedBody.push(d.buffered);
      if (which === "response") this.opts.onDownstreamData?.(d.buffered);
    }
    d.buffered = Buffer.alloc(0);
    this.checkComplete(which);
  }

  private checkComplete(which: "request" | "response"): void {
    const d = which === "request" ? this.req : this.resp;
    if (!d.headersForwarded || d.pause || !d.endSeen || d.buffered.length > 0) return;
    if (d.trailers && !d.forwardedTrailers) return;
    this.markComplete(which);
  }

  private markComplete(which: "request" | "response"): void {
    const d = which === "request" ? this.req : this.resp;
    if (d.complete) return;
    d.complete = true;
    if (which === "request") this.route();
    else this.finish();
  }

  private route(): void {
    if (this.routed || this.localReply || !this.opts.upstream) return;
    this.routed = true;
    const request = { headers: this.req.headers ?? [], body: Buffer.concat(this.req.forwardedBody), trailers: this.req.forwardedTrailers };
    Promise.resolve()
      .then(() => this.opts.upstream!(request))
      .then((response) => this.respond(response),
        (err) => this.respond({ status: 503, headers: [["content-type", "text/plain"]], body: `upstream connect error: ${err?.message ?? err}` }));
  }

  private sendLocalReply(reply: LocalReply): void {
    if (this.finished) return;
    if (this.resp.headersForwarded) {
      // Too late for a local reply: Envoy resets the stream.
      this.errors.push("local reply after response headers were sent: stream reset");
      this.reset();
      return;
    }
    this.localReply = reply;
    this.req.pause = null;
    this.req.complete = true; // decoding stops; nothing more goes upstream
    const body = Buffer.from(reply.body);
    const headers: HeaderList = [[":status", String(reply.status)]];
    if (body.length > 0) headers.push(["content-length", String(body.length)], ["content-type", "text/plain"]);
    headers.push(...reply.headers);
    if (reply.grpcStatus !== null) headers.push(["grpc-status", String(reply.grpcStatus)]);
    // The reply travels back through this filter's encoder callbacks (research §2.5).
    this.localReplyActive = true;
    try {
      this.resp.headers = headers;
      this.resp.endSeen = body.length === 0;
      this.deliverHeaders("response");
      if (body.length > 0 && !this.finished && !this.hung) this.deliverBody("response", body, true);
    } finally {
      this.localReplyActive = false;
    }
  }

  private applyFailurePolicy(trap: VmTrap): void {
    this.errors.push(trap.message);
    if (this.finished) return;
    if (this.failurePolicy === "FAIL_OPEN") {
      this.bypass = true;
      this.passThrough();
      return;
    }
    // FAIL_CLOSED and FAIL_RELOAD: this stream gets 503 wasm_fail_stream, straight to the client.
    this.bypass = true;
    this.localReply = { status: 503, details: "wasm_fail_stream", body: new Uint8Array(0), headers: [], grpcStatus: null };
    this.req.complete = true;
    this.resp.headers = [[":status", "503"]];
    this.resp.headersForwarded = true;
    this.opts.onDownstreamHeaders?.(this.resp.headers);
    this.resp.endSeen = true;
    this.markComplete("response");
  }

  /** FAIL_OPEN: the failed filter is skipped; what was held moves on unchanged. */
  private passThrough(): void {
    for (const which of ["request", "response"] as const) {
      const d = which === "request" ? this.req : this.resp;
      if (!d.headers) continue;
      d.pause = null;
      if (!d.headersForwarded) this.forwardHeaders(which);
      if (d.buffered.length) this.forwardBody(which);
      if (d.trailers && !d.forwardedTrailers) d.forwardedTrailers = d.trailers;
      this.checkComplete(which);
    }
  }

  /** Bypass mode entry for a stream on a failed VM: FAIL_CLOSED answers 503 at once. */
  startBypassed(): void {
    if (this.failurePolicy !== "FAIL_OPEN") this.applyFailurePolicy(new VmTrap("(none)", "plugin VM failed"));
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.created && this.vm && !this.vm.failed) {
      const order = this.onLogOrder === "envoy" ? ["proxy_on_log", "proxy_on_done", "proxy_on_delete"] : ["proxy_on_done", "proxy_on_log", "proxy_on_delete"];
      try {
        for (const fn of order) {
          this.inLog = fn === "proxy_on_log";
          this.calls.push(fn);
          this.vm.callGuest(fn, this.id, [this.id]);
          this.inLog = false;
        }
      } catch (err) {
        if (!(err instanceof VmTrap)) throw err;
        this.errors.push(err.message);
      } finally {
        this.inLog = false;
      }
    }
    this.vm?.unregisterStream(this.id);
    const d = this.downstream;
    this.resolveCompletion({ status: d.status, headers: d.headers, body: d.body, trailers: d.trailers, reset: d.reset });
    this.notify();
  }
}

