// Unary gRPC calls to named clusters with real @grpc/grpc-js clients, bytes in and bytes out:
// the filter sends bare protobuf messages, exactly what Envoy puts in the gRPC frame.
import * as grpc from "@grpc/grpc-js";

export interface GrpcOutcome { status: number; message: string; response?: Uint8Array }

/** An in-process cluster (benchmarks, recording tests): answers a call without a network round trip. */
export type InProcessCluster = (service: string, method: string, message: Uint8Array, metadata: Array<[string, string]>) => GrpcOutcome;

/** A call as the filter dispatched it (what Envoy's gRPC client receives); for tests that observe calls. */
export interface DispatchedGrpcCall {
  cluster: string; service: string; method: string;
  metadata: Array<[string, string]>; message: Uint8Array; timeoutMs: number;
}

// Envoy opens a new upstream connection when a request needs one; it has no client-side
// reconnect backoff that outlives the outage. grpc-js backs off up to 120 s by default, so a
// Limitador that comes back would stay unused for seconds. Short backoffs keep the stand-in
// close to Envoy: a returning service is used again within about half a second.
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 400,
};

export class GrpcClusters {
  private readonly clients = new Map<string, grpc.Client>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  /** clusters: Envoy cluster name → "host:port" (HTTP/2, plaintext), or an in-process handler. */
  constructor(private readonly clusters: Record<string, string | InProcessCluster>,
              private readonly onDispatch?: (call: DispatchedGrpcCall) => void) {}

  has(cluster: string): boolean { return Object.prototype.hasOwnProperty.call(this.clusters, cluster); }

  /** Calls started and not yet completed or cancelled. */
  get pending(): number { return this.inFlight; }

  call(cluster: string, service: string, method: string, metadata: Array<[string, string]>,
       message: Uint8Array, timeoutMs: number, done: (outcome: GrpcOutcome) => void): { cancel(): void } {
    this.onDispatch?.({ cluster, service, method, metadata, message: message.slice(), timeoutMs });
    let settled = false;
    this.inFlight++;
    const settle = () => { if (settled) return false; settled = true; this.callEnded(); return true; };
    const finish = (outcome: GrpcOutcome) => { if (settle()) done(outcome); };
    const target = this.clusters[cluster];
    if (typeof target === "function") {
      const call = new InProcessCall(target, service, method, message, metadata, finish);
      setImmediate(answerInProcess, call);
      return { cancel: () => { call.cancel(); settle(); } };
    }
    const client = this.client(cluster);
    const md = new grpc.Metadata();
    try {
      for (const [k, v] of metadata) md.add(k, v);
    } catch (err) {
      // Envoy fails such a call; it is never the guest's crash. Reported asynchronously, as Envoy does.
      setImmediate(() => finish({ status: grpc.status.INTERNAL, message: `invalid initial metadata: ${(err as Error).message}` }));
      return { cancel: () => { settle(); } };
    }
    const options: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
    const call = client.makeUnaryRequest(
      `/${service}/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(message),
      md,
      options,
      (err, response) => {
        if (err) finish({ status: err.code ?? grpc.status.UNKNOWN, message: err.details ?? err.message });
        else finish({ status: grpc.status.OK, message: "", response: new Uint8Array(response ?? Buffer.alloc(0)) });
      },
    );
    return { cancel: () => { if (settle()) call.cancel(); } };
  }

  /** Resolves once no call is in flight (e.g. the fire-and-forget Reports of finished streams). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Connects every network cluster and waits until each channel has finished its first attempt
   * (READY, or TRANSIENT_FAILURE for an address where nothing listens), so a first call is never
   * charged for connection set-up. Returns the clusters that are not READY.
   */
  async warm(timeoutMs = 10000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const names = Object.keys(this.clusters).filter((name) => typeof this.clusters[name] === "string");
    const results = await Promise.all(names.map((name) => this.settleChannel(this.client(name).getChannel(), deadline)));
    return names.filter((_, i) => results[i] !== grpc.connectivityState.READY);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private callEnded(): void {
    this.inFlight--;
    if (this.inFlight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private settleChannel(channel: ReturnType<grpc.Client["getChannel"]>, deadline: number): Promise<grpc.connectivityState> {
    return new Promise((resolve) => {
      const check = () => {
        const state = channel.getConnectivityState(true);
        if (state === grpc.connectivityState.READY || state === grpc.connectivityState.TRANSIENT_FAILURE
            || state === grpc.connectivityState.SHUTDOWN || Date.now() >= deadline) return resolve(state);
        channel.watchConnectivityState(state, deadline, check);
      };
      check();
    });
  }

  private client(cluster: string): grpc.Client {
    let c = this.clients.get(cluster);
    if (!c) {
      c = new grpc.Client(this.clusters[cluster] as string, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      this.clients.set(cluster, c);
    }
    return c;
  }
}

/** An in-process call, answered on the next turn of the event loop (no closures per call: cheap). */
class InProcessCall {
  cancelled = false;
  constructor(readonly target: InProcessCluster, readonly service: string, readonly method: string,
              readonly message: Uint8Array, readonly metadata: Array<[string, string]>, readonly done: (outcome: GrpcOutcome) => void) {}
  cancel(): void { this.cancelled = true; }
}

function answerInProcess(call: InProcessCall): void {
  if (!call.cancelled) call.done(call.target(call.service, call.method, call.message, call.metadata));
}
