// Where attribute values come from. The evaluator asks for whole paths ("request.url_path",
// "auth.identity.tier"), so the filter can fetch exactly what an expression names.
import { Value } from "./value";
import { AttrPath } from "./attr-path";

export class Resolver {
  /** The value at `path`, or null when it does not exist. */
  resolve(path: AttrPath): Value | null { return null; }
  /** Whether the path's root is an attribute root at all (else: "undeclared reference"). */
  isRoot(path: AttrPath): bool { return false; }
  /** requestBodyJSON / responseBodyJSON: the value at a JSON pointer, or null. */
  bodyJson(response: bool, pointer: string): Value | null { return null; }
}

/** Variables bound by comprehension macros, innermost last. */
export class Scope {
  names: Array<string> = [];
  values: Array<Value> = [];

  lookup(name: string): Value | null {
    for (let i = this.names.length - 1; i >= 0; i--) if (this.names[i] == name) return this.values[i];
    return null;
  }

  push(name: string, value: Value): void { this.names.push(name); this.values.push(value); }
  pop(): void { this.names.pop(); this.values.pop(); }
}
