// A recording Limitador for filter tests: real grpc-js server, our .proto files, every request
// decoded and kept; the answer is whatever the test's handler says.
import * as grpc from "@grpc/grpc-js";
import { envoyRateLimitService, kuadrantRateLimitService } from "../../proto/index.js";

export interface DecodedRequest {
  method: "ShouldRateLimit" | "CheckRateLimit" | "Report";
  domain: string;
  descriptors: Array<Record<string, string>>;
  hits_addend: number;
  metadata: Record<string, string>;
}

export type Answer =
  | { overall_code: "OK" | "OVER_LIMIT" | "UNKNOWN"; response_headers_to_add?: Array<{ key: string; value: string }> }
  | { grpcError: number; details?: string }
  | { delayMs: number; then: Answer }
  /** Holds the reply until `until` resolves (the test decides the order of replies). */
  | { until: Promise<unknown>; then: Answer }
  /** Never answers (until the server closes): a deadline test whose outcome is certain. */
  | { hang: true };

export async function startTestLimitador(answer: (req: DecodedRequest) => Answer = () => ({ overall_code: "OK" })) {
  const requests: DecodedRequest[] = [];
  const hung: Array<grpc.sendUnaryData<any>> = [];
  const server = new grpc.Server();
  const handler = (method: DecodedRequest["method"]) => async (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
    const md: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
    const req: DecodedRequest = {
      method,
      domain: call.request.domain,
      descriptors: (call.request.descriptors ?? []).map((d: any) => Object.fromEntries((d.entries ?? []).map((e: any) => [e.key, e.value]))),
      hits_addend: call.request.hits_addend,
      metadata: md,
    };
    requests.push(req);
    let a = answer(req);
    while ("delayMs" in a || "until" in a) {
      if ("until" in a) await a.until; else await new Promise((r) => setTimeout(r, (a as any).delayMs));
      a = (a as any).then;
    }
    if ("hang" in a) { hung.push(callback); return; }
    if ("grpcError" in a) callback({ code: a.grpcError, details: a.details ?? "" } as grpc.ServiceError);
    else callback(null, { overall_code: a.overall_code, response_headers_to_add: a.response_headers_to_add ?? [] });
  };
  server.addService(envoyRateLimitService().service, { ShouldRateLimit: handler("ShouldRateLimit") });
  server.addService(kuadrantRateLimitService().service, { CheckRateLimit: handler("CheckRateLimit"), Report: handler("Report") });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const cb of hung.splice(0)) cb({ code: grpc.status.UNAVAILABLE, details: "shutting down" } as grpc.ServiceError);
      server.tryShutdown(() => resolve());
    }),
  };
}
