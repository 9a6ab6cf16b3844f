// Host functions Envoy provides for ABI 0.2.1, declared with Envoy's exact wasm signatures
// (research/proxy-wasm-abi.md §1.3). Every parameter is i32 except the i64 metric values.
// A declaration costs nothing until it is called: AssemblyScript imports only what is used.

// @ts-ignore: decorator
@external("env", "proxy_log")
export declare function proxy_log(level: u32, messagePtr: usize, messageSize: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(returnLevelPtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_property")
export declare function proxy_get_property(pathPtr: usize, pathSize: usize, returnDataPtrPtr: usize, returnSizePtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_set_property")
export declare function proxy_set_property(pathPtr: usize, pathSize: usize, valuePtr: usize, valueSize: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(mapType: u32, keyPtr: usize, keySize: usize, returnDataPtrPtr: usize, returnSizePtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(mapType: u32, returnDataPtrPtr: usize, returnSizePtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(mapType: u32, dataPtr: usize, dataSize: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(mapType: u32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(mapType: u32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(mapType: u32, keyPtr: usize, keySize: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(bufferType: u32, start: u32, maxSize: u32, returnDataPtrPtr: usize, returnSizePtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(bufferType: u32, start: u32, size: u32, dataPtr: usize, dataSize: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(streamType: u32): u32;

// @ts-ignore: decorator
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(streamType: u32): u32;

// @ts-ignore: decorator
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(
  statusCode: u32, detailsPtr: usize, detailsSize: usize, bodyPtr: usize, bodySize: usize,
  headersPtr: usize, headersSize: usize, grpcStatus: i32): u32;

// 12 parameters, as in Envoy. The old AssemblyScript SDKs declare 10 and cannot load in Envoy.
// @ts-ignore: decorator
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(
  servicePtr: usize, serviceSize: usize, serviceNamePtr: usize, serviceNameSize: usize,
  methodPtr: usize, methodSize: usize, initialMetadataPtr: usize, initialMetadataSize: usize,
  messagePtr: usize, messageSize: usize, timeoutMs: u32, returnTokenPtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(token: u32): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_status")
export declare function proxy_get_status(returnCodePtr: usize, returnMessagePtrPtr: usize, returnMessageSizePtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): u32;

// @ts-ignore: decorator
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(periodMs: u32): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(returnTimePtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(metricType: u32, namePtr: usize, nameSize: usize, returnIdPtr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metricId: u32, delta: i64): u32;

// @ts-ignore: decorator
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(metricId: u32, value: u64): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_metric")
export declare function proxy_get_metric(metricId: u32, returnValuePtr: usize): u32;
