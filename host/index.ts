// The proxy-wasm host for Node that behaves like Envoy (design §4).
export { EnvoyHost, type HostOptions } from "./envoy-host.js";
export { HttpStream, type StreamOptions, type UpstreamResponse, type DownstreamResponse, type FailurePolicy } from "./stream.js";
export { checkModule, WasmLoadError, VmTrap, type LogEntry } from "./vm.js";
export { StatsStore, extractTags, type StatsTag } from "./stats.js";
export { Prop, fromJson, serializeProperty, type PropValue } from "./properties.js";
export { encodePairs, decodePairs, type HeaderList } from "./pairs.js";
export { readWasmSurface } from "./wasm-binary.js";
export type { DispatchedGrpcCall } from "./grpc-clusters.js";
