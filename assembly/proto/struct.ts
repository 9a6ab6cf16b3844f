// google.protobuf.Struct / Value, both ways: CEL values from Authorino's dynamic_metadata, and
// stored values exported as filter state.
import { Value, Kind } from "../cel";
import { decodeStructValue, encodeJsonLike } from "./dynamic-codec";

/** Struct{fields = 1: map<string, Value>} → CEL map; null when malformed. */
export function decodeStruct(data: ArrayBuffer): Value | null { return decodeStructValue(data); }

export function isScalar(v: Value): bool {
  return v.kind == Kind.String || v.kind == Kind.Int || v.kind == Kind.Uint || v.kind == Kind.Double || v.kind == Kind.Bool;
}

/** A stored value as filter state: a map → Struct bytes, anything else → Value bytes. */
export function encodeStoredValue(v: Value): ArrayBuffer | null { return encodeJsonLike(v); }
