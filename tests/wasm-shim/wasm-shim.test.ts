// Compatibility with Kuadrant's wasm-shim: its integration suites re-created as data
// (tests/wasm-shim/cases/*.yaml, our own names and values, each case naming the upstream test it
// mirrors) and run through build/filter.wasm in the Envoy-like host with real gRPC servers.
// A case that fails today is a node:test `todo` with its reason; flip it when the filter is fixed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadCaseFiles, type CompatCase } from "./lib/case-schema.js";
import { runCase } from "./lib/drive.js";

const files = loadCaseFiles();

function title(c: CompatCase): string {
  const mirrors = Object.entries(c.mirrors ?? {}).map(([version, name]) => `${version} ${name}`);
  return `${c.name} [${mirrors.length > 0 ? mirrors.join(", ") : c.basis}]`;
}

for (const file of files) {
  describe(file.file, () => {
    for (const c of file.cases) test(title(c), { todo: c.todo }, () => runCase(c));
  });
}

/**
 * Today's counts for the README table: per mirrored wasm-shim version ("wasm-shim v0.12.3"), and
 * per file for cases that are not ports (hazards, edge cases): how many, how many pass (not todo).
 */
function tally(): Map<string, { cases: number; passing: number }> {
  const out = new Map<string, { cases: number; passing: number }>();
  const count = (row: string, c: CompatCase) => {
    const t = out.get(row) ?? { cases: 0, passing: 0 };
    t.cases++;
    if (!c.todo) t.passing++;
    out.set(row, t);
  };
  for (const f of files) {
    for (const c of f.cases) {
      const versions = Object.keys(c.mirrors ?? {});
      for (const version of versions) count(`wasm-shim ${version} `, c);
      if (versions.length === 0) count(`\`${f.file}\``, c);
    }
  }
  return out;
}

test("every case says what it mirrors (a recorded wasm-shim commit and test) or what it rests on", () => {
  const names = new Set<string>();
  for (const f of files) {
    for (const c of f.cases) {
      assert.ok(!names.has(c.name), `duplicate case name '${c.name}'`);
      names.add(c.name);
      assert.ok(c.mirrors || c.basis, `${f.file}: '${c.name}' has neither mirrors nor basis`);
      for (const version of Object.keys(c.mirrors ?? {})) {
        const src = f.sources[version];
        assert.ok(src && /^[0-9a-f]{40}$/.test(src.commit) && src.path, `${f.file}: '${c.name}' mirrors ${version}, which sources does not pin to a commit and path`);
      }
      assert.ok(c.requests.length > 0 || c.configure, `${f.file}: '${c.name}' has nothing to run`);
    }
  }
});

test("the README's compatibility table has today's counts", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split("## Compatibility with wasm-shim")[1]?.split("\n## ")[0] ?? "";
  for (const [key, t] of tally()) {
    const row = section.split("\n").find((l) => l.startsWith("| ") && l.includes(key));
    assert.ok(row, `README "Compatibility with wasm-shim": no table row containing ${key.trim()}`);
    assert.ok(row.includes(`| ${t.passing} of ${t.cases} |`), `README row for ${key.trim()} should say "${t.passing} of ${t.cases}": ${row}`);
  }
});
