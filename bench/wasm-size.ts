// What the .wasm's bytes are: sections, and code by source area and function (needs a build with
// the name section, e.g. build/filter.names.wasm; the release build strips names).
//   node --import tsx bench/wasm-size.ts build/filter.names.wasm [--top 30]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { markdownTable } from "./report.js";

const SECTIONS = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"];

function leb(bytes: Uint8Array, at: { pos: number }): number {
  let result = 0, shift = 0;
  for (;;) {
    const b = bytes[at.pos++];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
  }
}

export interface WasmSize { total: number; sections: Record<string, number>; functions: Array<{ name: string; bytes: number }> }

export function wasmSize(bytes: Uint8Array): WasmSize {
  const sections: Record<string, number> = {};
  const bodies: number[] = [];
  const names = new Map<number, string>();
  let importedFunctions = 0;
  const at = { pos: 8 };
  while (at.pos < bytes.length) {
    const id = bytes[at.pos++];
    const size = leb(bytes, at);
    const start = at.pos;
    let label = SECTIONS[id] ?? `section ${id}`;
    if (id === 0) {
      const nameLen = leb(bytes, at);
      const name = Buffer.from(bytes.subarray(at.pos, at.pos + nameLen)).toString("utf8");
      at.pos += nameLen;
      label = `custom "${name}"`;
      if (name === "name") readFunctionNames(bytes, at, start + size, names);
    } else if (id === 2) {
      const count = leb(bytes, at);
      for (let i = 0; i < count; i++) {
        at.pos += leb(bytes, at); at.pos += leb(bytes, at); // module, field
        const kind = bytes[at.pos++];
        if (kind === 0) { leb(bytes, at); importedFunctions++; } else if (kind === 1) { at.pos++; limits(bytes, at); } else if (kind === 2) limits(bytes, at); else at.pos += 2;
      }
    } else if (id === 10) {
      const count = leb(bytes, at);
      for (let i = 0; i < count; i++) { const n = leb(bytes, at); bodies.push(n); at.pos += n; }
    }
    sections[label] = (sections[label] ?? 0) + size;
    at.pos = start + size;
  }
  const functions = bodies.map((b, i) => ({ name: names.get(importedFunctions + i) ?? `wasm-function[${importedFunctions + i}]`, bytes: b }));
  return { total: bytes.length, sections, functions };
}

function limits(bytes: Uint8Array, at: { pos: number }): void { const flags = bytes[at.pos++]; leb(bytes, at); if (flags & 1) leb(bytes, at); }

function readFunctionNames(bytes: Uint8Array, at: { pos: number }, end: number, names: Map<number, string>): void {
  while (at.pos < end) {
    const sub = bytes[at.pos++];
    const size = leb(bytes, at);
    const next = at.pos + size;
    if (sub === 1) {
      const count = leb(bytes, at);
      for (let i = 0; i < count; i++) {
        const index = leb(bytes, at);
        const len = leb(bytes, at);
        names.set(index, Buffer.from(bytes.subarray(at.pos, at.pos + len)).toString("utf8"));
        at.pos += len;
      }
    }
    at.pos = next;
  }
}

/** Source area of a function name: `assembly/filter`, `~lib/rt/tlsf`, `~lib/string`, ... */
export function sourceArea(name: string): string {
  const m = /^(~lib\/rt\/[a-z]+|~lib\/[a-z]+|assembly\/[a-z]+\/[a-z-]+|assembly\/[a-z]+)/.exec(name.replace(/^(start:)/, ""));
  return m ? m[1] : name.startsWith("~") ? "(compiler helpers)" : "(other)";
}

if (process.argv[1]?.endsWith("wasm-size.ts")) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string" } } });
  const size = wasmSize(readFileSync(positionals[0] ?? "build/filter.names.wasm"));
  const kib = (n: number) => (n / 1024).toFixed(1);
  console.log(`${kib(size.total)} KiB\n`);
  console.log(markdownTable([["section", "KiB"], ...Object.entries(size.sections).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, kib(v)])]));
  const areas = new Map<string, number>();
  for (const f of size.functions) areas.set(sourceArea(f.name), (areas.get(sourceArea(f.name)) ?? 0) + f.bytes);
  console.log();
  console.log(markdownTable([["code by source area", "KiB"], ...[...areas].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, kib(v)])]));
  console.log();
  const top = [...size.functions].sort((a, b) => b.bytes - a.bytes).slice(0, Number(values.top ?? 30));
  console.log(markdownTable([["largest functions", "bytes"], ...top.map((f) => [f.name, String(f.bytes)])]));
}
