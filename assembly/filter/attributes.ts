// The attributes a request's expressions read, resolved through the host and cached per stream,
// and the request's value store (what `store` actions and auth calls write). Request attributes
// are warmed in on_request_headers (Envoy drops them once the request continues); auth.* comes
// from the store (our auth call), else ext_authz metadata, else filter state.
import { Resolver, Value, CelMap, Kind } from "../cel";
import { getProperty, getPropertyKeyed, logDebug, debugEnabled } from "../abi/hostcalls";
import { HeaderPair } from "../abi/pairs";
import { WasmResult } from "../abi/enums";
import { attributeType, decodeTyped, inferValue, jsonOrString } from "./property-values";
import { BodyCapture } from "./body-capture";

const ROOTS: Array<string> = ["request", "response", "source", "destination", "connection", "metadata", "filter_state", "auth", "xds", "upstream"];
const EXT_AUTHZ = "envoy.filters.http.ext_authz";

export class StreamAttributes extends Resolver {
  private cache: Map<string, Value | null> = new Map();
  requestHeaders: CelMap | null = null;
  responseHeaders: CelMap | null = null;
  responseBody: BodyCapture | null = null;
  requestBody: BodyCapture | null = null;
  /** The value store: stored paths as nested maps ("kuadrant.internal.response.body" → kuadrant → internal → ...). */
  private stored: CelMap = new CelMap();
  /** First segments of the paths the action set stores: roots its expressions may name. */
  storeRoots: Array<string> = [];

  isRoot(name: string): bool { return ROOTS.includes(name) || this.storeRoots.includes(name); }

  /** Writes a value-store path (a later write of the same path replaces it). */
  store(path: string, value: Value): void {
    const segments = path.split(".");
    let m = this.stored;
    for (let i = 0; i < segments.length - 1; i++) {
      const next = m.getString(segments[i]);
      if (next !== null && next.kind == Kind.Map) { m = next.entries(); continue; }
      const fresh = new CelMap();
      m.setString(segments[i], Value.mapOf(fresh));
      m = fresh;
    }
    m.setString(segments[segments.length - 1], value);
  }

  /** Reads and caches `path` now (request attributes must be read before the request continues). */
  warm(path: Array<string>, key: string): void { this.resolve(path, key); }

  captureRequestHeaders(pairs: Array<HeaderPair>): void { this.requestHeaders = headerMap(pairs); }
  captureResponseHeaders(pairs: Array<HeaderPair>): void {
    this.responseHeaders = headerMap(pairs);
    // response.* values read before the response started are stale now.
    const keys = this.cache.keys();
    for (let i = 0; i < keys.length; i++) if (keys[i].startsWith("response\0")) this.cache.delete(keys[i]);
  }

  resolve(path: Array<string>, key: string): Value | null {
    // Stored values appear as the request runs: never cached.
    const stored = this.stored.getString(path[0]);
    if (stored !== null) return selectPath(stored, path, 1);
    if (this.storeRoots.includes(path[0]) && path[0] != "auth") return null;
    if (this.cache.has(key)) return this.cache.get(key);
    const value = this.fetch(path, key);
    if (value === null || !value.isError) this.cache.set(key, value);
    return value;
  }

  bodyJson(response: bool, pointer: string): Value | null {
    const body = response ? this.responseBody : this.requestBody;
    return body === null ? null : body.valueAt(pointer);
  }

  private fetch(path: Array<string>, key: string): Value | null {
    const root = path[0];
    if (root == "auth") return this.auth(path);
    if ((root == "request" || root == "response") && path.length >= 2 && path[1] == "headers") {
      const headers = root == "request" ? this.requestHeaders : this.responseHeaders;
      if (headers === null) return null;
      return selectPath(Value.mapOf(headers), path, 2);
    }
    if (path.length == 1) return this.whole(root);
    // wasm-shim's synthetic attributes: the client's address without the port (per-IP limits),
    // and the gRPC service and method of a gRPC request.
    if (root == "source" && path.length == 2 && path[1] == "remote_address") return this.remoteAddress();
    if (root == "request" && path.length == 3 && path[1] == "grpc") return this.grpcTarget(path[2]);
    if (root == "filter_state") {
      const r = getProperty(path);
      return r.found ? jsonOrString(r.bytes) : null;
    }
    const r = getPropertyKeyed(path, key);
    if (!r.found) {
      if (r.status != WasmResult.NotFound) logDebug("attribute " + path.join(".") + " unavailable (status " + r.status.toString() + ")");
      return null;
    }
    return decodeTyped(r.bytes, attributeType(path));
  }

  private remoteAddress(): Value | null {
    const address = this.resolve(["source", "address"], "source\0address");
    if (address === null || address.kind != Kind.String) return address;
    return Value.string(withoutPort(address.s));
  }

  /** A whole root as a map (e.g. `request` passed to a macro); only what we can enumerate. */
  private whole(root: string): Value | null {
    if (root == "request" || root == "response") {
      const m = new CelMap();
      const headers = root == "request" ? this.requestHeaders : this.responseHeaders;
      if (headers !== null) m.setString("headers", Value.mapOf(headers));
      return Value.mapOf(m);
    }
    const r = getProperty([root]);
    return r.found ? inferValue(r.bytes, 0) : null;
  }

  /** request.grpc.service / method, from "/pkg.Service/Method" when the request is gRPC. */
  private grpcTarget(which: string): Value | null {
    const headers = this.requestHeaders;
    if (headers === null) return null;
    const type = headers.getString("content-type");
    if (type === null || !type.s.startsWith("application/grpc")) return null;
    const path = this.resolve(["request", "url_path"], "request\0url_path");
    if (path === null || path.kind != Kind.String) return null;
    const parts = path.s.split("/");
    if (parts.length != 3 || parts[0].length != 0 || parts[1].length == 0 || parts[2].length == 0) return null;
    if (which == "service") return Value.string(parts[1]);
    if (which == "method") return Value.string(parts[2]);
    return null;
  }

  /** auth.* when nothing stored it: Envoy's ext_authz metadata, else wasm-shim ≤ 0.11 filter state. */
  private auth(path: Array<string>): Value | null {
    // Identity from Envoy's ext_authz filter (Authorino's dynamic metadata).
    const ext = new Array<string>();
    ext.push("metadata"); ext.push("filter_metadata"); ext.push(EXT_AUTHZ);
    for (let i = 1; i < path.length; i++) ext.push(path[i]);
    const fromExtAuthz = getProperty(ext);
    if (fromExtAuthz.found) return inferValue(fromExtAuthz.bytes, 0);
    // wasm-shim ≤ 0.11 flattened the identity into filter state, one JSON leaf per key.
    const flat = getProperty(["filter_state", "wasm.kuadrant." + path.join(".")]);
    if (flat.found) return jsonOrString(flat.bytes);
    return null;
  }
}

function headerMap(pairs: Array<HeaderPair>): CelMap {
  const m = new CelMap();
  for (let i = 0; i < pairs.length; i++) {
    const key = pairs[i].key.toLowerCase();
    const prev = m.getString(key);
    m.setString(key, Value.string(prev === null ? pairs[i].value : prev.s + "," + pairs[i].value));
  }
  return m;
}

function selectPath(start: Value, path: Array<string>, from: i32): Value | null {
  let v = start;
  for (let i = from; i < path.length; i++) {
    const m = v.map;
    if (m === null) return null;
    const next = m.getString(path[i]);
    if (next === null) return null;
    v = next;
  }
  return v;
}

/** "10.0.0.7:45000" → "10.0.0.7", "[2001:db8::1]:443" → "2001:db8::1"; no port → unchanged. */
export function withoutPort(address: string): string {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    return close > 0 ? address.substring(1, close) : address;
  }
  const colon = address.indexOf(":");
  // More than one colon without brackets is a bare IPv6 address.
  if (colon < 0 || address.indexOf(":", colon + 1) >= 0) return address;
  return address.substring(0, colon);
}
