// Where a request's allocations come from: every `assembly/*` function of the named release build
// is wrapped (Binaryen) so a global names the innermost one running, and the runtime's `__new`
// counts the object against it (std library work such as String#concat counts against the
// function of ours that called it). Prints managed objects per request by function.
//   node --import tsx bench/alloc-sites.ts --scenario maas --requests 2000 [--filter build/filter.names.wasm]
import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { EnvoyHost } from "../host/index.js";
import { SCENARIOS, inProcessClusters } from "./scenarios.js";
import { markdownTable } from "./report.js";
import { countersPerRequest } from "./alloc-count.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NEW = ["~lib/rt/tcms/__new", "~lib/rt/itcms/__new", "~lib/rt/stub/__new"];

/** Wraps our functions and counts `__new` per innermost one; returns the build and the id → name table. */
export function instrumentSites(wasm: Uint8Array): { wasm: Uint8Array; names: string[] } {
  const m = binaryen.readBinary(wasm);
  const names: string[] = ["(outside our functions)"];
  m.addGlobal("site_current", binaryen.i32, true, m.i32.const(0));
  const ours: string[] = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.name.startsWith("assembly/") && !info.module) ours.push(info.name);
  }
  for (const name of ours) {
    const id = names.length;
    names.push(name);
    const info = binaryen.getFunctionInfo(m.getFunction(name));
    const params = binaryen.expandType(info.params);
    const inner = `${name}$counted`;
    m.removeFunction(name);
    m.addFunction(inner, info.params, info.results, info.vars, info.body);
    const saved = params.length; // the wrapper's one local after its parameters
    const call = m.call(inner, params.map((t, i) => m.local.get(i, t)), info.results);
    const body = info.results === binaryen.none
      ? m.block(null, [m.local.set(saved, m.global.get("site_current", binaryen.i32)), m.global.set("site_current", m.i32.const(id)), call, m.global.set("site_current", m.local.get(saved, binaryen.i32))])
      : m.block(null, [m.local.set(saved, m.global.get("site_current", binaryen.i32)), m.global.set("site_current", m.i32.const(id)), m.local.set(saved + 1, call), m.global.set("site_current", m.local.get(saved, binaryen.i32)), m.local.get(saved + 1, info.results)], info.results);
    const vars = info.results === binaryen.none ? [binaryen.i32] : [binaryen.i32, info.results];
    m.addFunction(name, info.params, info.results, vars, body);
  }
  for (let id = 0; id < names.length; id++) {
    m.addGlobal(`site_${id}`, binaryen.i32, true, m.i32.const(0));
    m.addGlobalExport(`site_${id}`, `site_${id}`);
  }
  for (const fn of NEW) {
    const ref = m.getFunction(fn);
    if (!ref) continue;
    const info = binaryen.getFunctionInfo(ref);
    // br_table on the current id: block i increments site_i.
    const labels = names.map((_, i) => `site_case_${i}`);
    let dispatch: number = m.switch(labels, labels[0], m.global.get("site_current", binaryen.i32));
    for (let i = 0; i < names.length; i++) {
      dispatch = m.block(null, [m.block(labels[i], [dispatch]), m.global.set(`site_${i}`, m.i32.add(m.global.get(`site_${i}`, binaryen.i32), m.i32.const(1))), m.br("site_done")]);
    }
    const counted = m.block("site_done", [dispatch]);
    m.removeFunction(fn);
    m.addFunction(fn, info.params, info.results, info.vars, m.block(null, [counted, info.body], info.results));
  }
  m.setFeatures(binaryen.Features.All);
  if (!m.validate()) throw new Error("instrumented module does not validate");
  const out = m.emitBinary();
  m.dispose();
  return { wasm: out, names };
}

async function main() {
  const { values: o } = parseArgs({ options: { scenario: { type: "string" }, requests: { type: "string" }, filter: { type: "string" }, top: { type: "string" } } });
  const scenario = SCENARIOS.find((s) => s.id === (o.scenario ?? "maas"));
  if (!scenario) throw new Error(`unknown scenario; one of ${SCENARIOS.map((s) => s.id).join(", ")}`);
  const n = Number(o.requests ?? 2000);
  const { wasm, names } = instrumentSites(readFileSync(resolve(o.filter ?? `${ROOT}build/filter.names.wasm`)));
  const host = await EnvoyHost.start(wasm, { pluginConfig: scenario.config()!, clusters: inProcessClusters(), logLevel: 3 });
  const perRequest = await countersPerRequest(host, scenario, n, () => names.map((_, i) => host.vm.exportedGlobal(`site_${i}`) ?? 0));
  host.close();
  const rows = names.map((name, i) => [name, perRequest[i]] as const).filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((s, [, c]) => s + c, 0);
  console.log(`\n${scenario.title}: ${total.toFixed(1)} managed objects per request, by the innermost function of ours that made them\n`);
  console.log(markdownTable([["function", "objects/request"], ...rows.slice(0, Number(o.top ?? 40)).map(([name, c]) => [name, c.toFixed(2)])]));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
}
