// A real grpc-js server whose methods take and return raw bytes, recording every call.
import { portForChild } from "../../local/ports.js";
import * as grpc from "@grpc/grpc-js";

export interface RecordedCall { path: string; message: Buffer; metadata: Record<string, string>; deadline: number | null }

export type RawHandler = (message: Buffer, call: RecordedCall) => Buffer | { code: number; details: string } | Promise<Buffer | { code: number; details: string }>;

export async function startRawGrpcServer(methods: Record<string, RawHandler>): Promise<{ address: string; calls: RecordedCall[]; close(): Promise<void> }> {
  const server = new grpc.Server();
  const calls: RecordedCall[] = [];
  const identity = (b: Buffer) => b;
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [path, handler] of Object.entries(methods)) {
    const name = path.split("/").pop()!;
    definition[name] = { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
    implementation[name] = async (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const md: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
      const deadline = call.getDeadline();
      const recorded = { path, message: call.request, metadata: md, deadline: deadline === Infinity ? null : Number(deadline) };
      calls.push(recorded);
      const result = await handler(call.request, recorded);
      if (Buffer.isBuffer(result)) callback(null, result);
      else callback({ code: result.code, details: result.details } as grpc.ServiceError);
    };
  }
  server.addService(definition as grpc.ServiceDefinition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    calls,
    // forceShutdown: a handler that hangs on purpose must not keep the server open.
    close: async () => { server.forceShutdown(); },
  };
}

/** A port on which nothing listens (for "service down" cases, or for a child to bind: local/ports.ts). */
export async function unusedAddress(): Promise<string> {
  return `127.0.0.1:${await portForChild()}`;
}
