// A JSON document tree. Object members keep their order (config errors name them as written).
import { pointerTokens } from "./selection";

export enum JsonKind { Null, Bool, Number, String, Array, Object }

const NO_ITEMS = new Array<JsonValue>(0);
const NO_MEMBERS = new Array<JsonMember>(0);

export class JsonMember {
  constructor(public key: string, public value: JsonValue) {}
}

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  num: f64 = 0;
  /** True when the number was written without fraction or exponent and fits in an i64. */
  isInteger: bool = false;
  int: i64 = 0;
  str: string = "";
  /** Arrays and objects get their own lists (parse.ts); every other value shares the empty ones, never changed. */
  items: Array<JsonValue> = NO_ITEMS;
  members: Array<JsonMember> = NO_MEMBERS;

  static null(): JsonValue { return new JsonValue(); }
  static boolean(b: bool): JsonValue { const v = new JsonValue(); v.kind = JsonKind.Bool; v.bool = b; return v; }
  static string(s: string): JsonValue { const v = new JsonValue(); v.kind = JsonKind.String; v.str = s; return v; }

  get isNull(): bool { return this.kind == JsonKind.Null; }
  get isString(): bool { return this.kind == JsonKind.String; }
  get isObject(): bool { return this.kind == JsonKind.Object; }
  get isArray(): bool { return this.kind == JsonKind.Array; }

  /** Member by key (last one wins, as in most JSON readers), or null. */
  get(key: string): JsonValue | null {
    for (let i = this.members.length - 1; i >= 0; i--) {
      if (this.members[i].key == key) return this.members[i].value;
    }
    return null;
  }

  has(key: string): bool { return this.get(key) !== null; }

  kindName(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return "boolean";
      case JsonKind.Number: return "number";
      case JsonKind.String: return "string";
      case JsonKind.Array: return "array";
      default: return "object";
    }
  }
}

/** RFC 6901 pointer lookup ("" is the whole document; "~1" is "/", "~0" is "~"). */
export function jsonPointer(doc: JsonValue, pointer: string): JsonValue | null {
  const tokens = pointerTokens(pointer);
  return tokens === null ? null : jsonAt(doc, tokens);
}

/** The value at a pointer's tokens (selection.ts pointerTokens), or null. */
export function jsonAt(doc: JsonValue, tokens: Array<string>): JsonValue | null {
  let current: JsonValue | null = doc;
  for (let i = 0; i < tokens.length; i++) {
    if (current === null) return null;
    const token = unchecked(tokens[i]);
    const node: JsonValue = current;
    if (node.kind == JsonKind.Object) {
      current = node.get(token);
    } else if (node.kind == JsonKind.Array) {
      if (!isIndex(token)) return null;
      const index = I32.parseInt(token);
      current = index < node.items.length ? node.items[index] : null;
    } else {
      return null;
    }
  }
  return current;
}

function isIndex(token: string): bool {
  if (token.length == 0 || token.length > 9) return false;
  if (token.length > 1 && token.charCodeAt(0) == 48) return false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
