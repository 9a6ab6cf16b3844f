// Loads the project's .proto files (proto/) with @grpc/proto-loader, for servers and clients.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";

const PROTO_ROOT = fileURLToPath(new URL("./", import.meta.url));

const options: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_ROOT] };

let cached: grpc.GrpcObject | null = null;

export function loadProtos(): grpc.GrpcObject {
  if (!cached) {
    const definition = protoLoader.loadSync([
      "envoy/service/ratelimit/v3/rls.proto",
      "kuadrant/service/ratelimit/v1/ratelimit.proto",
      "envoy/service/auth/v3/external_auth.proto",
    ], options);
    cached = grpc.loadPackageDefinition(definition);
  }
  return cached;
}

function pick(path: string): any {
  return path.split(".").reduce((o: any, k) => o[k], loadProtos());
}

export const envoyRateLimitService = (): grpc.ServiceClientConstructor => pick("envoy.service.ratelimit.v3.RateLimitService");
export const kuadrantRateLimitService = (): grpc.ServiceClientConstructor => pick("kuadrant.service.ratelimit.v1.RateLimitService");
export const authorizationService = (): grpc.ServiceClientConstructor => pick("envoy.service.auth.v3.Authorization");
