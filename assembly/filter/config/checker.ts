// Reading a JSON configuration with its path in hand: every refusal names the JSON path and the
// reason, every tolerated oddity becomes a warning with its path.
import { JsonValue, JsonKind } from "../../json";
import { compileCel, Expression } from "../../cel";

const MAX_ERRORS = 20;

export class Checker {
  errors: Array<string> = [];
  ignored: Array<string> = [];
  warnings: Array<string> = [];
  /** Problems confined to the action being parsed (see ActionConfig.misconfigured). */
  actionProblems: Array<string> = [];
  private compiled: Map<string, Expression> = new Map();

  fail(path: string, reason: string): void { if (this.errors.length < MAX_ERRORS) this.errors.push(path + ": " + reason); }
  problem(path: string, reason: string): void { this.actionProblems.push(path + ": " + reason); }

  object(path: string, v: JsonValue | null, required: bool): JsonValue | null {
    if (v === null) { if (required) this.fail(path, "is required"); return null; }
    if (v.kind != JsonKind.Object) { this.fail(path, "must be an object, got " + v.kindName()); return null; }
    return v;
  }

  array(path: string, v: JsonValue | null, required: bool): Array<JsonValue> {
    if (v === null) { if (required) this.fail(path, "is required"); return []; }
    if (v.kind != JsonKind.Array) { this.fail(path, "must be an array, got " + v.kindName()); return []; }
    return v.items;
  }

  string(path: string, v: JsonValue | null, required: bool): string | null {
    if (v === null) { if (required) this.fail(path, "is required"); return null; }
    if (v.kind != JsonKind.String) { this.fail(path, "must be a string, got " + v.kindName()); return null; }
    return v.str;
  }

  bool(path: string, v: JsonValue | null, fallback: bool): bool {
    if (v === null) return fallback;
    if (v.kind != JsonKind.Bool) { this.fail(path, "must be a boolean, got " + v.kindName()); return fallback; }
    return v.bool;
  }

  /**
   * Members not in `known` are ignored with a warning, as wasm-shim ignores them: a field a newer
   * operator adds must not take every route down. (Where ignoring would change what is checked,
   * the caller refuses by name instead.)
   */
  members(path: string, v: JsonValue, known: Array<string>): void {
    for (let i = 0; i < v.members.length; i++) {
      const key = v.members[i].key;
      if (!known.includes(key)) this.warnings.push(member(path, key) + ": unknown field, ignored (known: " + known.join(", ") + ")");
    }
  }

  cel(path: string, v: JsonValue | null): Expression | null {
    const source = this.string(path, v, true);
    if (source === null) return null;
    // Operators repeat the same predicates and bindings across actions and sets: one compiled
    // expression serves them all (expressions never change once compiled).
    if (this.compiled.has(source)) return this.compiled.get(source);
    const compiled = compileCel(source);
    if (!compiled.ok) { this.fail(path, "invalid CEL expression '" + source + "': " + compiled.error); return null; }
    const e = compiled.expression!;
    this.compiled.set(source, e);
    return e;
  }

  celList(path: string, v: JsonValue | null): Array<Expression> {
    const out = new Array<Expression>();
    const items = this.array(path, v, false);
    for (let i = 0; i < items.length; i++) {
      const e = this.cel(path + "[" + i.toString() + "]", items[i]);
      if (e !== null) out.push(e);
    }
    return out;
  }
}

/** `path.key`, or `path["key"]` when the key is not a plain identifier. */
export function member(path: string, key: string): string {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const plain = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95;
    if (!plain) return path + "[\"" + key + "\"]";
  }
  return path + "." + key;
}

export function index(path: string, i: i32): string { return path + "[" + i.toString() + "]"; }
