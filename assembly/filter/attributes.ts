// The attributes a request's expressions read, resolved through the host and cached per stream,
// and the request's value store (what `store` actions and auth calls write). Request attributes
// are warmed in on_request_headers (Envoy drops them once the request continues); auth.* comes
// from the store (our auth call), else ext_authz metadata, else filter state. The cache is an
// array indexed by the interned path's id (cel/attr-path.ts); header maps are read in place.
import { Resolver, Value, CelMap, Kind, AttrPath, attrPath, attrPathById, attrPathCount } from "../cel";
import { getProperty, readPropertyTransient, logDebug } from "../abi/hostcalls";
import { returnedPtr, returnedSize } from "../abi/memory";
import { encodePropertyPath } from "../abi/property";
import { HeaderMap } from "../abi/header-map";
import { WasmResult } from "../abi/enums";
import { attributeType, decodeTyped, inferValue, jsonOrString, AttrType } from "./property-values";
import { BodyCapture } from "./body-capture";

const ROOTS: Array<string> = ["request", "response", "source", "destination", "connection", "metadata", "filter_state", "auth", "xds", "upstream"];
const EXT_AUTHZ = "envoy.filters.http.ext_authz";
const SOURCE_ADDRESS = attrPath(["source", "address"]);
const REQUEST_URL_PATH = attrPath(["request", "url_path"]);

const NO_SLOTS = new StaticArray<Value | null>(0);
const NO_ROOTS = new Array<string>(0);

/** Not yet looked up (null in a slot means: looked up, absent). */
const UNRESOLVED = Value.error("unresolved");

export class StreamAttributes extends Resolver {
  /** Cached values by path id: UNRESOLVED, null (absent) or the value. */
  private slots: StaticArray<Value | null> = NO_SLOTS;
  requestHeaders: HeaderMap | null = null;
  responseHeaders: HeaderMap | null = null;
  /** The header maps as CEL maps (lowercased keys, repeated values joined), made when a whole map is read. */
  private requestHeaderValues: CelMap | null = null;
  private responseHeaderValues: CelMap | null = null;
  responseBody: BodyCapture | null = null;
  requestBody: BodyCapture | null = null;
  /** The value store: stored paths as nested maps ("kuadrant.internal.response.body" → kuadrant → internal → ...); made by the first store. */
  private stored: CelMap | null = null;
  /** First segments of the paths the action set stores: roots its expressions may name (the plan's list). */
  storeRoots: Array<string> = NO_ROOTS;

  isRoot(path: AttrPath): bool {
    return isHostRoot(path) || (this.storeRoots.length > 0 && this.storeRoots.includes(path.root));
  }

  /** Writes a value-store path (a later write of the same path replaces it). */
  store(path: string, value: Value): void {
    const segments = path.split(".");
    let root = this.stored;
    if (root === null) { root = new CelMap(); this.stored = root; }
    let m = root;
    for (let i = 0; i < segments.length - 1; i++) {
      // A map already there may be shared (a reply bound to a var, a decoder's empty field):
      // it is copied before anything is written below it.
      const next = m.getString(segments[i]);
      const fresh = new CelMap();
      if (next !== null && next.kind == Kind.Map) {
        const from = next.entries();
        for (let k = 0; k < from.keys.length; k++) { fresh.keys.push(from.keys[k]); fresh.values.push(from.values[k]); }
      }
      m.setString(segments[i], Value.mapOf(fresh));
      m = fresh;
    }
    m.setString(segments[segments.length - 1], value);
  }

  /** Reads and caches `path` now (request attributes must be read before the request continues). */
  warm(path: AttrPath): void { this.resolve(path); }

  captureRequestHeaders(headers: HeaderMap): void { this.requestHeaders = headers; this.requestHeaderValues = null; }
  captureResponseHeaders(headers: HeaderMap): void {
    this.responseHeaders = headers;
    this.responseHeaderValues = null;
    // response.* values read before the response started are stale now.
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      if (unchecked(slots[i]) !== UNRESOLVED && attrPathById(i).root == "response") unchecked(slots[i] = UNRESOLVED);
    }
  }

  resolve(path: AttrPath): Value | null {
    // Stored values appear as the request runs: never cached.
    const store = this.stored;
    if (store !== null) {
      const stored = store.getString(path.root);
      if (stored !== null) return selectPath(stored, path.segments, 1);
    }
    if (this.storeRoots.length > 0 && path.root != "auth" && this.storeRoots.includes(path.root)) return null;
    const id = path.id;
    let slots = this.slots;
    if (id >= slots.length) slots = this.grow(id);
    const cached = unchecked(slots[id]);
    if (cached !== UNRESOLVED) return cached;
    const value = this.fetch(path);
    if (value === null || !value.isError) unchecked(slots[id] = value);
    return value;
  }

  private grow(id: i32): StaticArray<Value | null> {
    const old = this.slots;
    const next = new StaticArray<Value | null>(max(id + 1, attrPathCount()));
    for (let i = 0; i < next.length; i++) unchecked(next[i] = i < old.length ? unchecked(old[i]) : UNRESOLVED);
    this.slots = next;
    return next;
  }

  bodyJson(response: bool, pointer: string): Value | null {
    const body = response ? this.responseBody : this.requestBody;
    return body === null ? null : body.valueAt(pointer);
  }

  private fetch(attr: AttrPath): Value | null {
    const path = attr.segments;
    const root = attr.root;
    if (root == "auth") return this.auth(path);
    if ((root == "request" || root == "response") && path.length >= 2 && path[1] == "headers") return this.header(root == "request", path);
    if (path.length == 1) return this.whole(root);
    // wasm-shim's synthetic attributes: the client's address without the port (per-IP limits),
    // and the gRPC service and method of a gRPC request.
    if (root == "source" && path.length == 2 && path[1] == "remote_address") return this.remoteAddress();
    if (root == "request" && path.length == 3 && path[1] == "grpc") return this.grpcTarget(path[2]);
    if (root == "filter_state") {
      const r = getProperty(path);
      return r.found ? jsonOrString(changetype<usize>(r.bytes), <usize>r.bytes.byteLength) : null;
    }
    let encoded = attr.encoded;
    if (encoded === null) { encoded = encodePropertyPath(path); attr.encoded = encoded; }
    const status = readPropertyTransient(encoded);
    if (status != WasmResult.Ok) {
      if (status != WasmResult.NotFound) logDebug("attribute " + path.join(".") + " unavailable (status " + status.toString() + ")");
      return null;
    }
    let type = attr.valueType;
    if (type < 0) { type = <i32>attributeType(path); attr.valueType = type; }
    return decodeTyped(returnedPtr(), returnedSize(), <AttrType>type);
  }

  /** request.headers / response.headers and what is below them. */
  private header(request: bool, path: Array<string>): Value | null {
    const headers = request ? this.requestHeaders : this.responseHeaders;
    if (headers === null) return null;
    if (path.length >= 3 && headers.ascii) {
      // One header: looked up in place (a name with capitals matches no lowercased key).
      const joined = headers.lowercaseJoined(path[2]);
      if (joined === null || path.length > 3) return null; // a string has no fields
      return Value.string(joined);
    }
    return selectPath(Value.mapOf(this.headerValues(request, headers)), path, 2);
  }

  private headerValues(request: bool, headers: HeaderMap): CelMap {
    let m = request ? this.requestHeaderValues : this.responseHeaderValues;
    if (m === null) {
      m = headerMap(headers);
      if (request) this.requestHeaderValues = m; else this.responseHeaderValues = m;
    }
    return m;
  }

  private remoteAddress(): Value | null {
    const address = this.resolve(SOURCE_ADDRESS);
    if (address === null || address.kind != Kind.String) return address;
    return Value.string(withoutPort(address.s));
  }

  /** A whole root as a map (e.g. `request` passed to a macro); only what we can enumerate. */
  private whole(root: string): Value | null {
    if (root == "request" || root == "response") {
      const m = new CelMap();
      const headers = root == "request" ? this.requestHeaders : this.responseHeaders;
      if (headers !== null) m.setString("headers", Value.mapOf(this.headerValues(root == "request", headers)));
      return Value.mapOf(m);
    }
    const r = getProperty([root]);
    return r.found ? inferValue(changetype<usize>(r.bytes), <usize>r.bytes.byteLength, 0) : null;
  }

  /** request.grpc.service / method, from "/pkg.Service/Method" when the request is gRPC. */
  private grpcTarget(which: string): Value | null {
    const headers = this.requestHeaders;
    if (headers === null) return null;
    const type = this.header(true, ["request", "headers", "content-type"]);
    if (type === null || !type.s.startsWith("application/grpc")) return null;
    const path = this.resolve(REQUEST_URL_PATH);
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
    if (fromExtAuthz.found) return inferValue(changetype<usize>(fromExtAuthz.bytes), <usize>fromExtAuthz.bytes.byteLength, 0);
    // wasm-shim ≤ 0.11 flattened the identity into filter state, one JSON leaf per key.
    const flat = getProperty(["filter_state", "wasm.kuadrant." + path.join(".")]);
    if (flat.found) return jsonOrString(changetype<usize>(flat.bytes), <usize>flat.bytes.byteLength);
    return null;
  }
}

function isHostRoot(path: AttrPath): bool {
  // The interned path remembers the answer: one lookup per distinct root name, not per evaluation.
  let known = path.hostRoot;
  if (known < 0) { known = ROOTS.includes(path.root) ? 1 : 0; path.hostRoot = known; }
  return known == 1;
}

function headerMap(headers: HeaderMap): CelMap {
  const m = new CelMap();
  const pairs = headers.pairs();
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
