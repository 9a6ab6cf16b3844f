// The gRPC side of a compatibility case: one real grpc-js server per Envoy cluster that answers
// each call with the next reply the case scripted, and codecs that turn what the filter
// dispatched into plain objects (decoded with our .proto files, never compared as bytes).
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { fileURLToPath } from "node:url";
import { authorizationService, envoyRateLimitService, kuadrantRateLimitService } from "../../../proto/index.js";
import { startRawGrpcServer } from "../../helpers/raw-grpc-server.js";
import { toStruct } from "../../helpers/test-authorino.js";
import type { DispatchedGrpcCall } from "../../../host/index.js";
import type { Reply } from "./case-schema.js";

const PROTOS = fileURLToPath(new URL("../protos/", import.meta.url));
/** The project's own protos (the descriptor service lives there, beside the filter's other services). */
const PROJECT_PROTOS = fileURLToPath(new URL("../../../proto/", import.meta.url));
const PROBE_PROTO = "compat/probe/v1/probe.proto";

interface MethodCodec {
  service: string;
  method: string;
  decodeRequest(bytes: Buffer): any;
  encodeResponse(message: unknown): Buffer;
}

function codecsOf(ctor: grpc.ServiceClientConstructor, service: string): MethodCodec[] {
  return Object.entries(ctor.service).map(([method, def]) => ({
    service, method,
    decodeRequest: (b: Buffer) => def.requestDeserialize(b),
    encodeResponse: (m: unknown) => def.responseSerialize(m) as Buffer,
  }));
}

function loadTestService(file: string, service: string): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(file, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, includeDirs: [PROTOS, PROJECT_PROTOS] });
  return service.split(".").reduce((o: any, k) => o[k], grpc.loadPackageDefinition(definition));
}

let cachedCodecs: Map<string, MethodCodec> | null = null;

/** Every method a case may call, by gRPC path ("/package.Service/Method"). */
export function codecs(): Map<string, MethodCodec> {
  if (!cachedCodecs) {
    const all = [
      ...codecsOf(envoyRateLimitService(), "envoy.service.ratelimit.v3.RateLimitService"),
      ...codecsOf(kuadrantRateLimitService(), "kuadrant.service.ratelimit.v1.RateLimitService"),
      ...codecsOf(authorizationService(), "envoy.service.auth.v3.Authorization"),
      ...codecsOf(loadTestService("kuadrant/v1/descriptor_service.proto", "kuadrant.v1.DescriptorService"), "kuadrant.v1.DescriptorService"),
      ...codecsOf(loadTestService(PROBE_PROTO, "compat.probe.v1.VerdictService"), "compat.probe.v1.VerdictService"),
    ];
    cachedCodecs = new Map(all.map((c) => [`/${c.service}/${c.method}`, c]));
  }
  return cachedCodecs;
}

/** The gRPC service a classic service type's method belongs to. */
export const SERVICE_OF_METHOD: Record<string, string> = {
  ShouldRateLimit: "envoy.service.ratelimit.v3.RateLimitService",
  CheckRateLimit: "kuadrant.service.ratelimit.v1.RateLimitService",
  Report: "kuadrant.service.ratelimit.v1.RateLimitService",
  Check: "envoy.service.auth.v3.Authorization",
  GetServiceDescriptors: "kuadrant.v1.DescriptorService",
};

// ---- google.protobuf.Struct / Value <-> plain JSON -------------------------------------------

const structRoot = protobuf.Root.fromJSON(protobuf.common.get("google/protobuf/struct.proto") as protobuf.INamespace);
const StructType = structRoot.lookupType("google.protobuf.Struct");
const ValueType = structRoot.lookupType("google.protobuf.Value");

/** A decoded Struct (protobufjs camelCase or proto-loader keepCase) as plain JSON. */
export function structToJson(s: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = valueToJson(v);
  return out;
}

export function valueToJson(v: any): unknown {
  if (v == null) return null;
  if ("structValue" in v || "struct_value" in v) return structToJson(v.structValue ?? v.struct_value);
  if ("listValue" in v || "list_value" in v) return ((v.listValue ?? v.list_value).values ?? []).map(valueToJson);
  if ("stringValue" in v || "string_value" in v) return v.stringValue ?? v.string_value;
  if ("numberValue" in v || "number_value" in v) return v.numberValue ?? v.number_value;
  if ("boolValue" in v || "bool_value" in v) return v.boolValue ?? v.bool_value;
  return null;
}

export const decodeStructBytes = (b: Uint8Array) => structToJson(StructType.toObject(StructType.decode(b), { oneofs: true }));
export const decodeValueBytes = (b: Uint8Array) => valueToJson(ValueType.toObject(ValueType.decode(b), { oneofs: true }));

// ---- what the filter sent ----------------------------------------------------------------------

export interface ObservedCall {
  cluster: string;
  service: string;
  method: string;
  timeoutMs: number;
  metadata: Record<string, string>;
  /** The message, decoded and reduced to what cases compare (see decodeMessage). */
  message: any;
}

const pairs = (list: any[] = []) => Object.fromEntries(list.map((e: any) => [e.key, e.value]));
const peer = (p: any) => ({ address: p?.address?.socket_address?.address ?? "", port: p?.address?.socket_address?.port_value ?? 0 });

function decodeMessage(path: string, message: Buffer): any {
  const codec = codecs().get(path);
  if (!codec) return { undecodable: `no codec for ${path}`, bytes: message.length };
  const m = codec.decodeRequest(message);
  if (codec.service.includes("ratelimit")) {
    return { domain: m.domain, descriptors: (m.descriptors ?? []).map((d: any) => pairs(d.entries)), hitsAddend: m.hits_addend };
  }
  if (codec.method === "Check") {
    const a = m.attributes ?? {};
    const http = a.request?.http ?? {};
    const metadata: Record<string, unknown> = {};
    for (const [ns, s] of Object.entries(a.metadata_context?.filter_metadata ?? {})) metadata[ns] = structToJson(s);
    return {
      contextExtensions: a.context_extensions ?? {},
      http: { method: http.method, path: http.path, host: http.host, scheme: http.scheme, protocol: http.protocol },
      headers: http.headers ?? {},
      source: peer(a.source),
      destination: peer(a.destination),
      metadata,
      hasTime: a.request?.time != null,
    };
  }
  return m;
}

export function observeCall(call: DispatchedGrpcCall): ObservedCall {
  const path = `/${call.service}/${call.method}`;
  return {
    cluster: call.cluster, service: call.service, method: call.method, timeoutMs: call.timeoutMs,
    metadata: Object.fromEntries(call.metadata),
    message: decodeMessage(path, Buffer.from(call.message)),
  };
}

// ---- what the services answer ----------------------------------------------------------------

const headerValueOptions = (headers: Array<[string, string]> = []) => headers.map(([key, value]) => ({ header: { key, value } }));

let probeDescriptorSet: Buffer | null = null;
/** A serialized FileDescriptorSet holding compat.probe.v1 (what an extension's operator serves). */
function probeFileDescriptorSet(): Buffer {
  if (!probeDescriptorSet) {
    const root = protobuf.loadSync(PROTOS + PROBE_PROTO);
    root.resolveAll();
    const set = (root as any).toDescriptor("proto3");
    probeDescriptorSet = Buffer.from((descriptor as any).FileDescriptorSet.encode(set).finish());
  }
  return probeDescriptorSet;
}

/** The response message object a scripted reply stands for. */
function replyMessage(reply: Reply): unknown {
  if ("rateLimit" in reply) {
    return { overall_code: reply.rateLimit.code, response_headers_to_add: (reply.rateLimit.headers ?? []).map(([key, value]) => ({ key, value })) };
  }
  if ("authOk" in reply) {
    const ok = reply.authOk;
    return {
      status: { code: 0 },
      ok_response: { headers: headerValueOptions(ok.headers), response_headers_to_add: headerValueOptions(ok.responseHeadersToAdd) },
      dynamic_metadata: ok.metadata ? toStruct(ok.metadata) : undefined,
    };
  }
  if ("authDenied" in reply) {
    const d = reply.authDenied;
    return { status: { code: 16 }, denied_response: { status: { code: d.status ?? 0 }, headers: headerValueOptions(d.headers), body: d.body ?? "" } };
  }
  if ("descriptors" in reply) {
    return { descriptors: reply.descriptors.map((d) => ({ cluster_name: d.cluster, service: d.service, file_descriptor_set: probeFileDescriptorSet() })) };
  }
  if ("message" in reply) return reply.message;
  throw new Error(`not a message reply: ${JSON.stringify(reply)}`);
}

/** A cluster whose server answers each call with the next scripted reply (per cluster, in order). */
export interface ScriptedCluster {
  address: string;
  queue: Reply[];
  received: number;
  close(): Promise<void>;
}

export async function startScriptedCluster(name: string): Promise<ScriptedCluster> {
  const cluster: Partial<ScriptedCluster> & { queue: Reply[]; received: number } = { queue: [], received: 0 };
  const handlers = Object.fromEntries([...codecs().entries()].map(([path, codec]) => [path, async () => {
    cluster.received++;
    const reply = cluster.queue.shift();
    if (!reply) return { code: grpc.status.UNIMPLEMENTED, details: `no reply scripted on cluster ${name} for ${path}` };
    if ("grpcStatus" in reply) return { code: reply.grpcStatus, details: "scripted failure" };
    return codec.encodeResponse(replyMessage(reply));
  }]));
  const server = await startRawGrpcServer(handlers);
  return Object.assign(cluster, { address: server.address, close: server.close }) as ScriptedCluster;
}
