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

/** Per mirrored wasm-shim version: how many cases, how many pass today (not todo). */
function tally(): Map<string, { cases: number; passing: number }> {
  const out = new Map<string, { cases: number; passing: number }>();
  for (const c of files.flatMap((f) => f.cases)) {
    for (const version of Object.keys(c.mirrors ?? {})) {
      const t = out.get(version) ?? { cases: 0, passing: 0 };
      t.cases++;
      if (!c.todo) t.passing++;
      out.set(version, t);
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
  for (const [version, t] of tally()) {
    const row = readme.split("\n").find((l) => l.startsWith("| ") && l.includes(`wasm-shim ${version} `));
    assert.ok(row, `README: no row for wasm-shim ${version} in "Compatibility with wasm-shim"`);
    assert.ok(row.includes(`${t.passing} of ${t.cases}`), `README row for wasm-shim ${version} should say "${t.passing} of ${t.cases}": ${row}`);
  }
});
