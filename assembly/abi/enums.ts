// Numeric values of the proxy-wasm ABI 0.2.1 enumerations as Envoy interprets them
// (research/proxy-wasm-abi.md §1.5).

export namespace WasmResult {
  export const Ok: u32 = 0;
  export const NotFound: u32 = 1;
  export const BadArgument: u32 = 2;
  export const SerializationFailure: u32 = 3;
  export const ParseFailure: u32 = 4;
  export const InvalidMemoryAccess: u32 = 6;
  export const Empty: u32 = 7;
  export const CasMismatch: u32 = 8;
  export const InternalFailure: u32 = 10;
  export const Unimplemented: u32 = 12;
}

export namespace LogLevel {
  export const Trace: u32 = 0;
  export const Debug: u32 = 1;
  export const Info: u32 = 2;
  export const Warn: u32 = 3;
  export const Error: u32 = 4;
  export const Critical: u32 = 5;
}

export namespace MapType {
  export const RequestHeaders: u32 = 0;
  export const RequestTrailers: u32 = 1;
  export const ResponseHeaders: u32 = 2;
  export const ResponseTrailers: u32 = 3;
  export const GrpcInitialMetadata: u32 = 4;
  export const GrpcTrailingMetadata: u32 = 5;
}

export namespace BufferType {
  export const RequestBody: u32 = 0;
  export const ResponseBody: u32 = 1;
  export const GrpcCallMessage: u32 = 5;
  export const VmConfiguration: u32 = 6;
  export const PluginConfiguration: u32 = 7;
}

export namespace MetricType {
  export const Counter: u32 = 0;
  export const Gauge: u32 = 1;
  export const Histogram: u32 = 2;
}

export namespace StreamType {
  export const Request: u32 = 0;
  export const Response: u32 = 1;
}

/** Return values of the header callbacks (Envoy's FilterHeadersStatus). */
export namespace HeadersStatus {
  export const Continue: i32 = 0;
  /** Envoy turns this into StopAllIterationAndWatermark unless allow_on_headers_stop_iteration is set. */
  export const StopIteration: i32 = 1;
  export const StopAllIterationAndBuffer: i32 = 3;
  export const StopAllIterationAndWatermark: i32 = 4;
}

/** Return values of the body callbacks (Envoy's FilterDataStatus). */
export namespace DataStatus {
  export const Continue: i32 = 0;
  export const StopIterationAndBuffer: i32 = 1;
  export const StopIterationAndWatermark: i32 = 2;
  export const StopIterationNoBuffer: i32 = 3;
}

export namespace TrailersStatus {
  export const Continue: i32 = 0;
  export const StopIteration: i32 = 1;
}

export namespace GrpcStatus {
  export const Ok: u32 = 0;
  export const Cancelled: u32 = 1;
  export const Unknown: u32 = 2;
  export const DeadlineExceeded: u32 = 4;
  export const Internal: u32 = 13;
  export const Unavailable: u32 = 14;
  /** "no gRPC status" for proxy_send_local_response. */
  export const None: i32 = -1;
}
