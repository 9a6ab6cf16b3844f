// google.protobuf.Struct / Value, both ways: CEL values from Authorino's dynamic_metadata, and
// the requestData metadata we send with a CheckRequest.
import { ProtoWriter } from "./wire";
import { Value, Kind } from "../cel";
import { decodeStructValue, encodeJsonLike } from "./dynamic-codec";

/** Struct{fields = 1: map<string, Value>} → CEL map; null when malformed. */
export function decodeStruct(data: ArrayBuffer): Value | null { return decodeStructValue(data); }

/** A Struct from ordered string fields whose values are strings or nested {key: string} structs. */
export class StructBuilder {
  private w: ProtoWriter = new ProtoWriter();

  string(key: string, value: string): StructBuilder {
    const v = new ProtoWriter();
    v.stringFieldAlways(3, value);
    this.entry(key, v);
    return this;
  }

  struct(key: string, nested: StructBuilder): StructBuilder {
    const v = new ProtoWriter();
    v.bytesField(5, nested.finish());
    this.entry(key, v);
    return this;
  }

  private entry(key: string, value: ProtoWriter): void {
    const e = new ProtoWriter();
    e.stringFieldAlways(1, key);
    e.messageField(2, value);
    this.w.messageField(1, e);
  }

  finish(): ArrayBuffer { return this.w.finish(); }
}

export function isScalar(v: Value): bool {
  return v.kind == Kind.String || v.kind == Kind.Int || v.kind == Kind.Uint || v.kind == Kind.Double || v.kind == Kind.Bool;
}

/** A stored value as filter state: a map → Struct bytes, anything else → Value bytes. */
export function encodeStoredValue(v: Value): ArrayBuffer | null { return encodeJsonLike(v); }
