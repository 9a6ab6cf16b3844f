// The env.* functions Envoy provides to a proxy-wasm 0.2.1 module, with Envoy's statuses and
// semantics (research/proxy-wasm-abi.md §1.3, §2–§4). They act on the VM's effective context.
import { WasmResult } from "./envoy-abi.js";
import { decodePairs } from "./pairs.js";
import { resolveProperty, type PropMap } from "./properties.js";
import type { PluginVm } from "./vm.js";

// A guest reads the same few paths on every request: split each once.
const segmentsByPath = new Map<string, string[]>();

function propertySegments(path: string): string[] {
  let segments = segmentsByPath.get(path);
  if (segments === undefined) {
    segments = path.split("\0");
    if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
    if (segmentsByPath.size < 4096) segmentsByPath.set(path, segments);
  }
  return segments;
}

/** A root that exists in this phase (request.* vanishes once the request continued). */
function rootPresent(attrs: PropMap, root: string): boolean {
  const value = attrs.get(root);
  return (typeof value === "function" ? value() : value) !== undefined;
}

export function envImports(vm: PluginVm): Record<string, (...args: any[]) => any> {
const R = WasmResult;
const mem = vm.mem;
  return {
    proxy_log: (level: number, ptr: number, len: number) => {
      if (level > 5 || level < 0) return R.BadArgument;
      const message = mem.readString(ptr, len);
      if (message === null) return R.InvalidMemoryAccess;
      if (level >= vm.opts.logLevel) vm.opts.log({ level, message, contextId: vm.targetId() });
      return R.Ok;
    },
    proxy_get_log_level: (ptr: number) => mem.writeU32(ptr, vm.opts.logLevel) ? R.Ok : R.InvalidMemoryAccess,

    proxy_get_property: (pathPtr: number, pathLen: number, retPtr: number, retSize: number) => {
      const path = mem.readString(pathPtr, pathLen);
      if (path === null) return R.InvalidMemoryAccess;
      const segments = propertySegments(path);
      vm.onPropertyRead?.(segments);
      const stream = vm.targetStream();
      const attrs = stream ? stream.attributes() : vm.pluginAttributes();
      let found = resolveProperty(attrs, segments);
      if (found.status === R.NotFound && !rootPresent(attrs, segments[0])) {
        // Filter-state entries written with proxy_set_property are readable by their own name.
        const fs = attrs.get("filter_state");
        if (fs instanceof Map && fs.has(`wasm.${segments[0]}`)) {
          found = resolveProperty(fs, [`wasm.${segments[0]}`, ...segments.slice(1)]);
        }
      }
      if (found.status !== R.Ok) return found.status;
      return typeof found.value === "string" ? mem.copyOutString(found.value, retPtr, retSize) : mem.copyOut(found.bytes!, retPtr, retSize);
    },
    proxy_set_property: (pathPtr: number, pathLen: number, valuePtr: number, valueLen: number) => {
      const path = mem.readString(pathPtr, pathLen);
      const value = mem.read(valuePtr, valueLen);
      if (path === null || value === null) return R.InvalidMemoryAccess;
      const stream = vm.targetStream();
      if (!stream) return R.NotFound;
      stream.setFilterState(`wasm.${path}`, value);
      return R.Ok;
    },

    proxy_get_header_map_value: (type: number, keyPtr: number, keyLen: number, retPtr: number, retSize: number) => {
      if (type > 7 || type < 0) return R.BadArgument;
      const key = mem.readString(keyPtr, keyLen);
      if (key === null) return R.InvalidMemoryAccess;
      const stream = vm.targetStream();
      const map = stream?.headerMap(type) ?? null;
      if (!map) return stream?.inLog ? R.NotFound : R.BadArgument;
      const lower = key.toLowerCase();
      const hit = map.pairs.find(([k]) => k === lower);
      if (!hit) return R.NotFound;
      return mem.copyOutString(hit[1], retPtr, retSize);
    },
    proxy_get_header_map_pairs: (type: number, retPtr: number, retSize: number) => {
      if (type > 7 || type < 0) return R.BadArgument;
      const map = vm.targetStream()?.headerMap(type) ?? null;
      return mem.copyOutPairs(map ? map.pairs : [], retPtr, retSize);
    },
    proxy_set_header_map_pairs: (type: number, ptr: number, len: number) => {
      const map = vm.writableMap(type);
      if (!map) return R.BadArgument;
      const raw = mem.read(ptr, len);
      if (raw === null) return R.InvalidMemoryAccess;
      map.splice(0, map.length, ...decodePairs(raw).map(([k, v]) => [k.toLowerCase(), v] as [string, string]));
      return R.Ok;
    },
    proxy_add_header_map_value: (type: number, kPtr: number, kLen: number, vPtr: number, vLen: number) => {
      const map = vm.writableMap(type);
      if (!map) return R.BadArgument;
      const k = mem.readString(kPtr, kLen), v = mem.readString(vPtr, vLen);
      if (k === null || v === null) return R.InvalidMemoryAccess;
      map.push([k.toLowerCase(), v]);
      return R.Ok;
    },
    proxy_replace_header_map_value: (type: number, kPtr: number, kLen: number, vPtr: number, vLen: number) => {
      const map = vm.writableMap(type);
      if (!map) return R.BadArgument;
      const k = mem.readString(kPtr, kLen), v = mem.readString(vPtr, vLen);
      if (k === null || v === null) return R.InvalidMemoryAccess;
      // Envoy's setCopy: the first occurrence takes the value, later ones go.
      const key = k.toLowerCase();
      const first = map.findIndex(([name]) => name === key);
      if (first < 0) { map.push([key, v]); return R.Ok; }
      map[first] = [key, v];
      for (let i = map.length - 1; i > first; i--) if (map[i][0] === key) map.splice(i, 1);
      return R.Ok;
    },
    proxy_remove_header_map_value: (type: number, kPtr: number, kLen: number) => {
      const map = vm.writableMap(type);
      if (!map) return R.BadArgument;
      const k = mem.readString(kPtr, kLen);
      if (k === null) return R.InvalidMemoryAccess;
      const key = k.toLowerCase();
      map.splice(0, map.length, ...map.filter(([name]) => name !== key));
      return R.Ok;
    },
    proxy_get_header_map_size: (type: number, retPtr: number) => {
      const map = vm.targetStream()?.headerMap(type) ?? null;
      if (!map) return R.BadArgument;
      // Envoy answers with the byte size of the map, not the number of pairs.
      const size = map.pairs.reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      return mem.writeU32(retPtr, size) ? R.Ok : R.InvalidMemoryAccess;
    },

    proxy_get_buffer_bytes: (type: number, start: number, maxSize: number, retPtr: number, retSize: number) => {
      if (type > 8 || type < 0) return R.BadArgument;
      const buffer = vm.buffer(type);
      if (buffer === null) return R.NotFound;
      start >>>= 0; maxSize >>>= 0;
      if (start > buffer.length) return mem.copyOut(new Uint8Array(0), retPtr, retSize);
      const end = start + Math.min(maxSize, buffer.length - start);
      return mem.copyOut(buffer.subarray(start, end), retPtr, retSize);
    },
    proxy_get_buffer_status: (type: number, retSize: number, retFlags: number) => {
      const buffer = vm.buffer(type);
      if (buffer === null) return R.NotFound;
      return mem.writeU32(retSize, buffer.length) && mem.writeU32(retFlags, 0) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_set_buffer_bytes: (type: number, start: number, size: number, dataPtr: number, dataLen: number) => {
      const body = type === 0 || type === 1 ? vm.targetStream()?.bodyBuffer(type) ?? null : null;
      if (!body) return R.NotFound;
      const data = mem.read(dataPtr, dataLen);
      if (data === null) return R.InvalidMemoryAccess;
      const current = body.get();
      start >>>= 0; size >>>= 0;
      if (start === 0) body.set(Buffer.concat([data, current.subarray(Math.min(size, current.length))]));
      else if (start >= current.length) body.set(Buffer.concat([current, data]));
      else return R.BadArgument;
      return R.Ok;
    },

    proxy_continue_stream: (type: number) => {
      if (type > 3 || type < 0) return R.BadArgument;
      if (type === 3) return R.Unimplemented;
      const stream = vm.targetStream();
      if (!stream) return R.Ok; // a root context has no stream: silently nothing
      vm.defer(() => stream.continueStream(type));
      return R.Ok;
    },
    proxy_close_stream: (type: number) => {
      if (type > 3 || type < 0) return R.BadArgument;
      const stream = vm.targetStream();
      if (!stream) return R.Ok;
      vm.defer(() => stream.closeStream(type));
      return R.Ok;
    },
    proxy_send_local_response: (status: number, dPtr: number, dLen: number, bPtr: number, bLen: number, hPtr: number, hLen: number, grpc: number) => {
      const details = mem.readString(dPtr, dLen), body = mem.read(bPtr, bLen), headers = mem.read(hPtr, hLen);
      if (details === null || body === null || headers === null) return R.InvalidMemoryAccess;
      const stream = vm.targetStream();
      if (!stream) return R.Ok;
      const grpcStatus = grpc >>> 0 <= 16 ? grpc >>> 0 : null;
      stream.requestLocalReply({
        status: status >>> 0,
        details: details.replace(/\s/g, "_"),
        body,
        headers: decodePairs(headers).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
        grpcStatus,
      });
      return R.Ok;
    },

    proxy_grpc_call: (sPtr: number, sLen: number, snPtr: number, snLen: number, mPtr: number, mLen: number,
                      mdPtr: number, mdLen: number, msgPtr: number, msgLen: number, timeoutMs: number, retToken: number) => {
      const cluster = mem.readString(sPtr, sLen), service = mem.readString(snPtr, snLen), method = mem.readString(mPtr, mLen);
      const md = mem.read(mdPtr, mdLen), message = mem.read(msgPtr, msgLen);
      if (cluster === null || service === null || method === null || md === null || message === null) return R.InvalidMemoryAccess;
      // Envoy tries a serialized GrpcService first, then a cluster name; unknown → PARSE_FAILURE.
      if (!vm.opts.clusters.has(cluster)) return R.ParseFailure;
      const token = vm.nextGrpcToken;
      vm.nextGrpcToken += 4;
      if (!mem.writeU32(retToken, token)) return R.InvalidMemoryAccess;
      const call = vm.opts.clusters.call(cluster, service, method, decodePairs(md), message, timeoutMs >>> 0,
        (outcome) => vm.grpcCompleted(token, outcome));
      vm.pendingGrpc.set(token, call);
      return R.Ok;
    },
    proxy_grpc_cancel: (token: number) => vm.cancelGrpc(token),
    proxy_grpc_close: (token: number) => vm.cancelGrpc(token),
    proxy_get_status: (codePtr: number, msgPtr: number, msgSize: number) => {
      const status = vm.grpcStatus ?? { code: 0, message: "" };
      if (!mem.writeU32(codePtr, status.code)) return R.InvalidMemoryAccess;
      return mem.copyOutString(status.message, msgPtr, msgSize);
    },
    proxy_set_effective_context: (id: number) => {
      if (id === vm.rootContextId || vm.streams.has(id)) { vm.effectiveContext = id; return R.Ok; }
      return R.BadArgument;
    },
    proxy_done: () => {
      if (!vm.rootDeletePending) return R.NotFound;
      vm.rootDeletePending = false;
      const root = vm.rootContextId;
      vm.defer(() => { try { vm.callGuest("proxy_on_delete", root, [root]); } catch { /* failed */ } });
      return R.Ok;
    },
    proxy_set_tick_period_milliseconds: (period: number) => {
      vm.tickPeriodMs = period >>> 0;
      if (vm.tickTimer) clearInterval(vm.tickTimer);
      vm.tickTimer = vm.tickPeriodMs > 0 ? setInterval(() => vm.tick(), vm.tickPeriodMs).unref() : null;
      return R.Ok;
    },
    proxy_get_current_time_nanoseconds: (ptr: number) => mem.writeU64(ptr, vm.opts.clockNs()) ? R.Ok : R.InvalidMemoryAccess,

    proxy_define_metric: (type: number, namePtr: number, nameLen: number, retId: number) => {
      const name = mem.readString(namePtr, nameLen);
      if (name === null) return R.InvalidMemoryAccess;
      const defined = vm.metrics.define(type, name);
      if (defined.status !== R.Ok) return defined.status;
      return mem.writeU32(retId, defined.id!) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_increment_metric: (id: number, delta: bigint) => vm.metrics.increment(id >>> 0, BigInt(delta)),
    proxy_record_metric: (id: number, value: bigint) => vm.metrics.record(id >>> 0, BigInt.asUintN(64, BigInt(value))),
    proxy_get_metric: (id: number, retPtr: number) => {
      const got = vm.metrics.get(id >>> 0);
      if (got.status !== R.Ok) return got.status;
      return mem.writeU64(retPtr, got.value!) ? R.Ok : R.InvalidMemoryAccess;
    },

    proxy_get_shared_data: (kPtr: number, kLen: number, retPtr: number, retSize: number, retCas: number) => {
      const key = mem.readString(kPtr, kLen);
      if (key === null) return R.InvalidMemoryAccess;
      const entry = vm.opts.sharedData.get(key);
      if (!entry) return R.NotFound;
      if (!mem.writeU32(retCas, entry.cas)) return R.InvalidMemoryAccess;
      return mem.copyOut(entry.value, retPtr, retSize);
    },
    proxy_set_shared_data: (kPtr: number, kLen: number, vPtr: number, vLen: number, cas: number) => {
      const key = mem.readString(kPtr, kLen), value = mem.read(vPtr, vLen);
      if (key === null || value === null) return R.InvalidMemoryAccess;
      const entry = vm.opts.sharedData.get(key);
      if (cas !== 0 && entry && entry.cas !== cas >>> 0) return R.CasMismatch;
      vm.opts.sharedData.set(key, { value, cas: (entry?.cas ?? 0) + 1 });
      return R.Ok;
    },
    pthread_equal: (a: number, b: number) => (a === b ? 1 : 0),
    emscripten_notify_memory_growth: () => undefined,
  };
}
