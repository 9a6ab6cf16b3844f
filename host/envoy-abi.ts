// What Envoy offers a proxy-wasm 0.2.1 module, and the numeric constants the host speaks
// (research/proxy-wasm-abi.md §1). Signatures are compact: params then "->" then results.

export const WasmResult = {
  Ok: 0, NotFound: 1, BadArgument: 2, SerializationFailure: 3, ParseFailure: 4,
  InvalidMemoryAccess: 6, Empty: 7, CasMismatch: 8, InternalFailure: 10, Unimplemented: 12,
} as const;

export const MapType = { RequestHeaders: 0, RequestTrailers: 1, ResponseHeaders: 2, ResponseTrailers: 3, GrpcInitialMetadata: 4, GrpcTrailingMetadata: 5, HttpCallResponseHeaders: 6, HttpCallResponseTrailers: 7 } as const;
export const BufferType = { RequestBody: 0, ResponseBody: 1, DownstreamData: 2, UpstreamData: 3, HttpCallResponseBody: 4, GrpcCallMessage: 5, VmConfiguration: 6, PluginConfiguration: 7, CallData: 8 } as const;
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;
export const LogLevelNames = ["trace", "debug", "info", "warn", "error", "critical"] as const;

const I = "i32", L = "i64";
function sig(params: string[], results: string[] = [I]): string { return `(${params.join(",")})->(${results.join(",")})`; }
const n = (count: number): string[] => Array.from({ length: count }, () => I);

/** env.* functions Envoy registers for ABI 0.2.1, with their exact signatures. */
export const ENVOY_ENV_IMPORTS: Record<string, string> = {
  proxy_log: sig(n(3)),
  proxy_get_log_level: sig(n(1)),
  proxy_get_property: sig(n(4)),
  proxy_set_property: sig(n(4)),
  proxy_get_header_map_value: sig(n(5)),
  proxy_get_header_map_pairs: sig(n(3)),
  proxy_set_header_map_pairs: sig(n(3)),
  proxy_add_header_map_value: sig(n(5)),
  proxy_replace_header_map_value: sig(n(5)),
  proxy_remove_header_map_value: sig(n(3)),
  proxy_get_header_map_size: sig(n(2)),
  proxy_get_buffer_bytes: sig(n(5)),
  proxy_get_buffer_status: sig(n(3)),
  proxy_set_buffer_bytes: sig(n(5)),
  proxy_continue_stream: sig(n(1)),
  proxy_close_stream: sig(n(1)),
  proxy_send_local_response: sig(n(8)),
  proxy_http_call: sig(n(10)),
  proxy_grpc_call: sig(n(12)),
  proxy_grpc_stream: sig(n(9)),
  proxy_grpc_send: sig(n(4)),
  proxy_grpc_cancel: sig(n(1)),
  proxy_grpc_close: sig(n(1)),
  proxy_get_status: sig(n(3)),
  proxy_set_effective_context: sig(n(1)),
  proxy_done: sig([]),
  proxy_set_tick_period_milliseconds: sig(n(1)),
  proxy_get_current_time_nanoseconds: sig(n(1)),
  proxy_define_metric: sig(n(4)),
  proxy_increment_metric: sig([I, L]),
  proxy_record_metric: sig([I, L]),
  proxy_get_metric: sig(n(2)),
  proxy_get_shared_data: sig(n(5)),
  proxy_set_shared_data: sig(n(5)),
  proxy_register_shared_queue: sig(n(3)),
  proxy_resolve_shared_queue: sig(n(5)),
  proxy_enqueue_shared_queue: sig(n(3)),
  proxy_dequeue_shared_queue: sig(n(3)),
  proxy_call_foreign_function: sig(n(6)),
  pthread_equal: sig(n(2)),
  emscripten_notify_memory_growth: sig(n(1), []),
};

/** WASI functions Envoy registers under both wasi_snapshot_preview1 and wasi_unstable. */
export const ENVOY_WASI_IMPORTS: Record<string, string> = {
  fd_write: sig(n(4)),
  fd_read: sig(n(4)),
  fd_seek: sig([I, L, I, I]),
  fd_close: sig(n(1)),
  fd_fdstat_get: sig(n(2)),
  fd_fdstat_set_flags: sig(n(2)),
  fd_prestat_get: sig(n(2)),
  fd_prestat_dir_name: sig(n(3)),
  fd_filestat_get: sig(n(2)),
  path_open: sig([I, I, I, I, I, L, L, I, I]),
  environ_get: sig(n(2)),
  environ_sizes_get: sig(n(2)),
  args_get: sig(n(2)),
  args_sizes_get: sig(n(2)),
  clock_time_get: sig([I, L, I]),
  clock_res_get: sig(n(2)),
  random_get: sig(n(2)),
  proc_exit: sig(n(1), []),
  sched_yield: sig([]),
  poll_oneoff: sig(n(4)),
};

export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"];

export const ABI_VERSION_EXPORTS = ["proxy_abi_version_0_1_0", "proxy_abi_version_0_2_0", "proxy_abi_version_0_2_1"];

/** Host calls allowed while the VM runs _initialize/main (research §2.1). */
export const ALLOWED_DURING_INIT = new Set([
  "proxy_log", "fd_write", "fd_fdstat_get", "fd_close", "fd_seek", "args_get", "args_sizes_get",
  "environ_get", "environ_sizes_get", "clock_time_get", "clock_res_get", "random_get", "poll_oneoff",
  "proc_exit", "sched_yield", "emscripten_notify_memory_growth", "pthread_equal",
]);

/** Host calls allowed while the VM runs malloc. */
export const ALLOWED_DURING_MALLOC = new Set(["proxy_log", "fd_write", "clock_time_get", "poll_oneoff"]);

/** Envoy's default histogram buckets (stats_config.histogram_bucket_settings absent). */
export const DEFAULT_HISTOGRAM_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
