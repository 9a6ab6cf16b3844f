// Typed attribute values and their byte encoding as Envoy returns them from proxy_get_property
// (research/proxy-wasm-abi.md §3.2), plus path resolution over an attribute tree.
import { encodePairs } from "./pairs.js";
import { WasmResult } from "./envoy-abi.js";

export type PropValue =
  | string | Uint8Array | number | boolean | null
  | { int: bigint } | { uint: bigint } | { timestampNs: bigint } | { durationNs: bigint }
  | PropMap | PropValue[]
  | (() => PropValue | undefined);
export type PropMap = Map<string, PropValue>;

/** Constructors so tests never hand-craft property bytes. */
export const Prop = {
  string: (s: string): PropValue => s,
  bytes: (b: Uint8Array): PropValue => b,
  int: (n: number | bigint): PropValue => ({ int: BigInt(n) }),
  uint: (n: number | bigint): PropValue => ({ uint: BigInt(n) }),
  double: (n: number): PropValue => n,
  bool: (b: boolean): PropValue => b,
  timestampNs: (ns: bigint): PropValue => ({ timestampNs: ns }),
  durationNs: (ns: bigint): PropValue => ({ durationNs: ns }),
  map: (entries: Record<string, PropValue>): PropValue => new Map(Object.entries(entries)),
  /** A google.protobuf.Struct as Envoy exposes it: every number is a double. */
  struct: (json: unknown): PropValue => fromJson(json),
};

export function fromJson(json: unknown): PropValue {
  if (json === null || json === undefined) return null;
  if (typeof json === "string" || typeof json === "boolean" || typeof json === "number") return json;
  if (Array.isArray(json)) return json.map(fromJson);
  if (typeof json === "object") return new Map(Object.entries(json as Record<string, unknown>).map(([k, v]) => [k, fromJson(v)]));
  return String(json);
}

function le64(v: bigint): Uint8Array {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64LE(BigInt.asUintN(64, v));
  return out;
}

/** Envoy's serializeValue; null (or an unsupported value) cannot be serialized. */
export function serializeProperty(value: PropValue): Uint8Array | null {
  if (typeof value === "function") value = value() ?? null;
  if (value === null) return null;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return value;
  if (typeof value === "number") { const out = Buffer.allocUnsafe(8); out.writeDoubleLE(value); return out; }
  if (typeof value === "boolean") return Uint8Array.of(value ? 1 : 0);
  if (Array.isArray(value)) {
    const items = value.map(serializeProperty);
    if (items.some((i) => i === null)) return null;
    return encodePairs(items.map((i) => [i as Uint8Array, new Uint8Array(0)]));
  }
  if (value instanceof Map) {
    const pairs: Array<[string, Uint8Array]> = [];
    for (const [k, v] of value) {
      const s = serializeProperty(v);
      if (s === null) return null;
      pairs.push([k, s]);
    }
    return encodePairs(pairs);
  }
  if ("int" in value) return le64(value.int);
  if ("uint" in value) return le64(value.uint);
  if ("timestampNs" in value) return le64(value.timestampNs);
  if ("durationNs" in value) return le64(value.durationNs);
  return null;
}

/** Ok with the value's bytes, or with the string itself (the caller encodes it where it goes). */
export interface PropertyLookup { status: number; bytes?: Uint8Array; value?: string }

/** Walks `segments` from `root`: map keys, decimal list indexes; anything else is NOT_FOUND. */
export function resolveProperty(root: PropMap, segments: string[]): PropertyLookup {
  let current: PropValue | undefined = root;
  for (const segment of segments) {
    if (typeof current === "function") current = current();
    if (current instanceof Map) current = current.get(segment);
    else if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else return { status: WasmResult.NotFound };
    if (current === undefined) return { status: WasmResult.NotFound };
  }
  if (typeof current === "function") current = current() ?? null;
  if (typeof current === "string") return { status: WasmResult.Ok, value: current };
  const bytes = serializeProperty(current as PropValue);
  if (bytes === null) return { status: WasmResult.SerializationFailure };
  return { status: WasmResult.Ok, bytes };
}
