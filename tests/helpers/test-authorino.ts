// A recording Authorino for filter tests: real grpc-js Authorization/Check with our protos.
import * as grpc from "@grpc/grpc-js";
import { authorizationService } from "../../proto/index.js";

export type AuthAnswer =
  | { ok: { identity?: Record<string, unknown>; headers?: Array<[string, string]>; responseHeadersToAdd?: Array<[string, string]> } }
  | { denied: { status?: number; headers?: Array<[string, string]>; body?: string } }
  | { grpcError: number }
  | { delayMs: number; then: AuthAnswer }
  /** Holds the reply until `until` resolves (the test decides the order of replies). */
  | { until: Promise<unknown>; then: AuthAnswer }
  /** Never answers (until the server closes): a deadline test whose outcome is certain. */
  | { hang: true };

/** A JSON object as protobufjs's google.protobuf.Struct object (camelCase fields). */
export function toStruct(v: unknown): any {
  const value = (x: unknown): any => {
    // protobufjs's built-in google.protobuf types use camelCase field names.
    if (x === null) return { nullValue: "NULL_VALUE" };
    if (typeof x === "string") return { stringValue: x };
    if (typeof x === "number") return { numberValue: x };
    if (typeof x === "boolean") return { boolValue: x };
    if (Array.isArray(x)) return { listValue: { values: x.map(value) } };
    return { structValue: toStruct(x) };
  };
  return { fields: Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, value(x)])) };
}

const hvo = (headers: Array<[string, string]> = []) => headers.map(([key, value]) => ({ header: { key, value } }));

export async function startTestAuthorino(answer: (req: any) => AuthAnswer) {
  const requests: any[] = [];
  const hung: Array<grpc.sendUnaryData<any>> = [];
  const server = new grpc.Server();
  server.addService(authorizationService().service, {
    Check: async (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      requests.push(call.request);
      let a = answer(call.request);
      while ("delayMs" in a || "until" in a) {
        if ("until" in a) await a.until; else await new Promise((r) => setTimeout(r, (a as any).delayMs));
        a = (a as any).then;
      }
      if ("hang" in a) { hung.push(callback); return; }
      if ("grpcError" in a) return callback({ code: a.grpcError, details: "down" } as grpc.ServiceError);
      if ("denied" in a) {
        return callback(null, { status: { code: 7 }, denied_response: { status: { code: a.denied.status ?? 0 }, headers: hvo(a.denied.headers), body: a.denied.body ?? "" } });
      }
      callback(null, {
        status: { code: 0 },
        ok_response: { headers: hvo(a.ok.headers), response_headers_to_add: hvo(a.ok.responseHeadersToAdd) },
        dynamic_metadata: a.ok.identity ? toStruct({ identity: a.ok.identity }) : undefined,
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const close = () => new Promise<void>((r) => {
    for (const cb of hung.splice(0)) cb({ code: grpc.status.UNAVAILABLE, details: "shutting down" } as grpc.ServiceError);
    server.tryShutdown(() => r());
  });
  return { address: `127.0.0.1:${port}`, requests, close };
}
