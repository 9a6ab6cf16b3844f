// `services`: name → {type, endpoint, failureMode, timeout[, grpcService, grpcMethod]}
// (research/wasm-shim-newer-config.md §2.2).
import { JsonValue } from "../../json";
import { Checker } from "./checker";
import { parseDurationMs } from "../duration";
import { ServiceConfig, ServiceType, AUTH_SERVICE, ENVOY_RLS_SERVICE, KUADRANT_RLS_SERVICE } from "./model";
import { descriptorPool } from "../../proto/pool";

export function parseService(c: Checker, path: string, name: string, v: JsonValue): ServiceConfig | null {
  const o = c.object(path, v, true);
  if (o === null) return null;
  c.members(path, o, ["type", "endpoint", "failureMode", "timeout", "grpcService", "grpcMethod"]);
  const typeName = c.string(path + ".type", o.get("type"), true);
  let type = ServiceType.RateLimit;
  let grpcService = "", grpcMethod = "";
  if (typeName !== null) {
    if (typeName == "auth") { type = ServiceType.Auth; grpcService = AUTH_SERVICE; grpcMethod = "Check"; }
    else if (typeName == "ratelimit") { type = ServiceType.RateLimit; grpcService = ENVOY_RLS_SERVICE; grpcMethod = "ShouldRateLimit"; }
    else if (typeName == "ratelimit-check") { type = ServiceType.RateLimitCheck; grpcService = KUADRANT_RLS_SERVICE; grpcMethod = "CheckRateLimit"; }
    else if (typeName == "ratelimit-report") { type = ServiceType.RateLimitReport; grpcService = KUADRANT_RLS_SERVICE; grpcMethod = "Report"; }
    else if (typeName == "tracing") { type = ServiceType.Tracing; c.ignored.push(path + ": tracing services are accepted and not used (no trace export)"); }
    else if (typeName == "dynamic") {
      type = ServiceType.Dynamic;
      const s = c.string(path + ".grpcService", o.get("grpcService"), true);
      const m = c.string(path + ".grpcMethod", o.get("grpcMethod"), true);
      if (s !== null) { if (s.length == 0) c.fail(path + ".grpcService", "must name a gRPC service, e.g. envoy.service.ratelimit.v3.RateLimitService"); grpcService = s; }
      if (m !== null) { if (m.length == 0) c.fail(path + ".grpcMethod", "must name a method of grpcService"); grpcMethod = m; }
    }
    else c.fail(path + ".type", "unknown service type '" + typeName + "' (expected auth, ratelimit, ratelimit-check, ratelimit-report, tracing or dynamic)");
  }
  const endpoint = c.string(path + ".endpoint", o.get("endpoint"), true);
  if (endpoint !== null && endpoint.length == 0) c.fail(path + ".endpoint", "must name an Envoy cluster");
  const mode = c.string(path + ".failureMode", o.get("failureMode"), true);
  if (mode !== null && mode != "deny" && mode != "allow") c.fail(path + ".failureMode", "must be 'deny' or 'allow', got '" + mode + "'");
  let timeoutMs: i64 = 20; // wasm-shim's default
  const timeout = c.string(path + ".timeout", o.get("timeout"), false);
  if (timeout !== null) {
    timeoutMs = parseDurationMs(timeout);
    if (timeoutMs <= 0) c.fail(path + ".timeout", "must be a positive duration such as '100ms' or '1s', got '" + timeout + "'");
  }
  if (typeName === null || endpoint === null || mode === null) return null;
  const service = new ServiceConfig(name, type, endpoint, mode == "deny", <u32>max<i64>(timeoutMs, 1), grpcService, grpcMethod);
  if (type != ServiceType.Tracing && grpcService.length > 0) {
    service.method = descriptorPool().method(grpcService, grpcMethod);
    if (service.method === null && !service.needsFetchedDescriptors) {
      c.fail(path + ".grpcMethod", "'" + grpcMethod + "' is not a method of " + grpcService);
    }
  }
  return service;
}
