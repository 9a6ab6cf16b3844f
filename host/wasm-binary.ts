// Reads the import and export sections of a .wasm with their function signatures. Node exposes
// import *types* only behind a flag, and Envoy links by name AND signature, so we parse them.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

export interface FuncSig { params: ValType[]; results: ValType[] }

export interface WasmImport { module: string; name: string; kind: "function" | "table" | "memory" | "global"; sig?: FuncSig }
export interface WasmExport { name: string; kind: "function" | "table" | "memory" | "global" }

const VALTYPES: Record<number, ValType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };
const KINDS = ["function", "table", "memory", "global"] as const;

export function sigToString(sig: FuncSig): string {
  return `(${sig.params.join(",")})->(${sig.results.join(",")})`;
}

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get done(): boolean { return this.pos >= this.bytes.length; }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error("unexpected end of wasm binary");
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0; let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 35) throw new Error("bad LEB128 in wasm binary");
    }
  }
  name(): string {
    const len = this.u32();
    const s = Buffer.from(this.bytes.subarray(this.pos, this.pos + len)).toString("utf8");
    this.pos += len;
    return s;
  }
  skip(n: number): void { this.pos += n; }
  valtype(): ValType {
    const b = this.byte();
    const t = VALTYPES[b];
    if (!t) throw new Error(`unknown value type 0x${b.toString(16)}`);
    return t;
  }
  limits(): void { const flags = this.byte(); this.u32(); if (flags & 1) this.u32(); }
}

export interface WasmSurface { imports: WasmImport[]; exports: WasmExport[] }

export function readWasmSurface(bytes: Uint8Array): WasmSurface {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error("not a wasm binary (bad magic)");
  }
  const r = new Reader(bytes);
  r.skip(8);
  const types: FuncSig[] = [];
  const imports: WasmImport[] = [];
  const exports: WasmExport[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 1) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        if (r.byte() !== 0x60) throw new Error("unsupported type form");
        const params = Array.from({ length: r.u32() }, () => r.valtype());
        const results = Array.from({ length: r.u32() }, () => r.valtype());
        types.push({ params, results });
      }
    } else if (id === 2) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) imports.push({ module, name, kind: "function", sig: types[r.u32()] });
        else if (kind === 1) { r.byte(); r.limits(); imports.push({ module, name, kind: "table" }); }
        else if (kind === 2) { r.limits(); imports.push({ module, name, kind: "memory" }); }
        else if (kind === 3) { r.valtype(); r.byte(); imports.push({ module, name, kind: "global" }); }
        else throw new Error(`unknown import kind ${kind}`);
      }
    } else if (id === 7) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const name = r.name();
        const kind = r.byte();
        r.u32();
        exports.push({ name, kind: KINDS[kind] ?? "function" });
      }
    }
    r.pos = end;
  }
  return { imports, exports };
}
