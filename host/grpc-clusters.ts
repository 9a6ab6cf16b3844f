// Unary gRPC calls to named clusters with real @grpc/grpc-js clients, bytes in and bytes out:
// the filter sends bare protobuf messages, exactly what Envoy puts in the gRPC frame.
import * as grpc from "@grpc/grpc-js";

export interface GrpcOutcome { status: number; message: string; response?: Uint8Array }

/** An in-process cluster (benchmarks, recording tests): answers a call without a network round trip. */
export type InProcessCluster = (service: string, method: string, message: Uint8Array, metadata: Array<[string, string]>) => GrpcOutcome;

export class GrpcClusters {
  private readonly clients = new Map<string, grpc.Client>();

  /** clusters: Envoy cluster name → "host:port" (HTTP/2, plaintext), or an in-process handler. */
  constructor(private readonly clusters: Record<string, string | InProcessCluster>) {}

  has(cluster: string): boolean { return Object.prototype.hasOwnProperty.call(this.clusters, cluster); }

  call(cluster: string, service: string, method: string, metadata: Array<[string, string]>,
       message: Uint8Array, timeoutMs: number, done: (outcome: GrpcOutcome) => void): { cancel(): void } {
    const target = this.clusters[cluster];
    if (typeof target === "function") {
      const call = new InProcessCall(target, service, method, message, metadata, done);
      setImmediate(answerInProcess, call);
      return call;
    }
    const client = this.client(cluster);
    const md = new grpc.Metadata();
    try {
      for (const [k, v] of metadata) md.add(k, v);
    } catch (err) {
      // Envoy fails such a call; it is never the guest's crash. Reported asynchronously, as Envoy does.
      setImmediate(() => done({ status: grpc.status.INTERNAL, message: `invalid initial metadata: ${(err as Error).message}` }));
      return { cancel: () => {} };
    }
    const options: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
    let cancelled = false;
    const call = client.makeUnaryRequest(
      `/${service}/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(message),
      md,
      options,
      (err, response) => {
        if (cancelled) return;
        if (err) done({ status: err.code ?? grpc.status.UNKNOWN, message: err.details ?? err.message });
        else done({ status: grpc.status.OK, message: "", response: new Uint8Array(response ?? Buffer.alloc(0)) });
      },
    );
    return { cancel: () => { cancelled = true; call.cancel(); } };
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private client(cluster: string): grpc.Client {
    let c = this.clients.get(cluster);
    if (!c) {
      c = new grpc.Client(this.clusters[cluster] as string, grpc.credentials.createInsecure());
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
