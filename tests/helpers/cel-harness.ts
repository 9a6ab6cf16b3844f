// Runs the filter's AssemblyScript CEL (build/fixtures/cel-harness.wasm) from Node, and the
// reference @bufbuild/cel, and renders both results in one comparable shape.
import { run, isCelMap, isCelList, isCelError, isCelUint, celUint } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { fixtureWasm } from "./wasm.js";

export type Rendered =
  | { null: true } | { bool: boolean } | { int: string } | { uint: string } | { double: string }
  | { string: string } | { list: Rendered[] } | { map: Array<[Rendered, Rendered]> } | { error: string } | { parseError: string };

export class AsCel {
  private readonly exports: any;
  constructor() {
    const mod = new WebAssembly.Module(fixtureWasm("cel-harness") as Uint8Array<ArrayBuffer>);
    let memory: WebAssembly.Memory;
    const instance = new WebAssembly.Instance(mod, {
      env: {
        proxy_log: (_l: number, p: number, n: number) => {
          console.error("cel-harness:", Buffer.from(new Uint8Array(memory.buffer, p, n)).toString());
          return 0;
        },
      },
    });
    this.exports = instance.exports;
    memory = this.exports.memory;
    this.exports._initialize();
  }

  eval(expr: string, activation: Record<string, unknown> = {}): Rendered {
    const input = Buffer.from(JSON.stringify({ expr, activation }, (_k, v) => (typeof v === "bigint" ? { $uint: v.toString() } : v)));
    const ptr = this.exports.harness_alloc(input.length);
    new Uint8Array(this.exports.memory.buffer).set(input, ptr);
    const len = this.exports.harness_eval(ptr, input.length);
    const out = Buffer.from(new Uint8Array(this.exports.memory.buffer, this.exports.harness_result_ptr(), len)).toString();
    return JSON.parse(out);
  }
}

/** Activation in the harness convention → @bufbuild/cel input (integers → bigint, {"$uint"} → uint). */
function toReferenceInput(v: unknown): unknown {
  if (typeof v === "bigint") return celUint(v);
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toReferenceInput);
  if (v && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toReferenceInput(x)]));
  return v;
}

function formatDouble(d: number): string {
  if (Number.isNaN(d)) return "NaN";
  if (!Number.isFinite(d)) return d > 0 ? "+Inf" : "-Inf";
  return String(d);
}

function render(v: unknown): Rendered {
  if (isCelError(v)) return { error: (v as Error).message };
  if (v === null) return { null: true };
  if (typeof v === "boolean") return { bool: v };
  if (typeof v === "bigint") return { int: v.toString() };
  if (isCelUint(v)) return { uint: (v as any).value.toString() };
  if (typeof v === "number") return { double: formatDouble(v) };
  if (typeof v === "string") return { string: v };
  if (isCelList(v)) return { list: [...(v as Iterable<unknown>)].map(render) };
  if (isCelMap(v)) return { map: [...(v as any).entries()].map(([k, x]: [unknown, unknown]) => [render(k), render(x)] as [Rendered, Rendered]) };
  return { error: `unrenderable ${typeof v}` };
}

export function referenceEval(expr: string, activation: Record<string, unknown> = {}): Rendered {
  const bindings = Object.fromEntries(Object.entries(activation).map(([k, v]) => [k, toReferenceInput(v)]));
  try {
    return render(run(expr, bindings as any, { funcs: strings }));
  } catch (err) {
    return { parseError: (err as Error).message };
  }
}

/** Same value, or both failed (messages differ between implementations). */
export function sameOutcome(a: Rendered, b: Rendered): boolean {
  const failed = (r: Rendered) => "error" in r || "parseError" in r;
  if (failed(a) || failed(b)) return failed(a) && failed(b);
  return canonical(a) === canonical(b);
}

function canonical(r: Rendered): string {
  // Doubles compare by value: AssemblyScript prints some 17-digit doubles with a different
  // (still round-tripping) last digit than JavaScript.
  if ("double" in r) return `double:${Number(r.double.replace("+Inf", "Infinity").replace("-Inf", "-Infinity"))}`;
  if ("map" in r) return `{${r.map.map(([k, v]) => `${canonical(k)}:${canonical(v)}`).sort().join(",")}}`;
  if ("list" in r) return `[${r.list.map(canonical).join(",")}]`;
  return JSON.stringify(r);
}
