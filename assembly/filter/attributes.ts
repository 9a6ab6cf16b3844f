// The attributes a request's expressions read, resolved through the host and cached per stream.
// Request attributes are warmed in on_request_headers (Envoy drops them once the request
// continues); auth.* comes from our auth action, else ext_authz metadata, else filter state.
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
  /** dynamic_metadata of our own auth action, when one ran. */
  authIdentity: Value | null = null;
  responseBody: BodyCapture | null = null;
  requestBody: BodyCapture | null = null;

  isRoot(name: string): bool { return ROOTS.includes(name); }

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
    // wasm-shim's synthetic attribute: the client's address without the port (per-IP limits).
    if (root == "source" && path.length == 2 && path[1] == "remote_address") return this.remoteAddress();
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

  private auth(path: Array<string>): Value | null {
    const own = this.authIdentity;
    if (own !== null) return selectPath(own, path, 1);
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
