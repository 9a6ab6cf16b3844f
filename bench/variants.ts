// `npm run bench:variants`: the runtime, collection policy and optimisation flags measured side by
// side: each variant's filter and no-op filter built with the same flags, per-request cost in
// interleaved rounds, size, and linear memory over a run of MaaS requests.
//   npm run bench:variants -- --requests 8000 --memory-requests 100000 --only minimal-64,incremental-16k
import { parseArgs } from "node:util";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { SCENARIOS } from "./scenarios.js";
import { CostRun, calibrateTimer } from "./guest-cost.js";
import { memoryOverRequests } from "./memory.js";
import { machine, markdownTable } from "./report.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const COMMON = ["--exportStart", "_initialize", "--use", "abort=assembly/abi/abort/abortHandler", "--converge"];

/**
 * options: asconfig options beyond the flags (the CLI cannot pass a negative stackSize: the
 * filter's own runtime, assembly/rt, needs -1 so that no shadow stack is added).
 */
interface Variant { id: string; title: string; flags: string[]; memory: boolean; options?: Record<string, unknown> }

const SIZE_CLASS: Record<string, unknown> = { runtime: "assembly/rt/index", stackSize: -1 };

const VARIANTS: Variant[] = [
  { id: "incremental-16k", title: "incremental GC, 16 KiB steps, -O3 (before)", flags: ["--runtime", "incremental", "--use", "ASC_GC_GRANULARITY=16384", "-O3", "--shrinkLevel", "1"], memory: true },
  { id: "incremental-64k-idle400", title: "incremental GC, 64 KiB steps, idle until ×4, -O3", flags: ["--runtime", "incremental", "--use", "ASC_GC_GRANULARITY=65536", "--use", "ASC_GC_IDLEFACTOR=400", "-O3", "--shrinkLevel", "1"], memory: true },
  { id: "minimal-16", title: "mark & sweep every 16 callbacks, -O3", flags: ["--runtime", "minimal", "--use", "FILTER_GC_EVERY=16", "-O3", "--shrinkLevel", "1"], memory: true },
  { id: "minimal-64", title: "mark & sweep every 64 callbacks, -O3", flags: ["--runtime", "minimal", "--use", "FILTER_GC_EVERY=64", "-O3", "--shrinkLevel", "1"], memory: true },
  { id: "minimal-256", title: "mark & sweep every 256 callbacks, -O3", flags: ["--runtime", "minimal", "--use", "FILTER_GC_EVERY=256", "-O3", "--shrinkLevel", "1"], memory: true },
  { id: "minimal-64-Oz", title: "mark & sweep every 64 callbacks, -O3 shrink 2", flags: ["--runtime", "minimal", "--use", "FILTER_GC_EVERY=64", "-O3", "--shrinkLevel", "2"], memory: true },
  { id: "size-class-256", title: "size-class allocator + mark & sweep every 256 callbacks, -O3", flags: ["--use", "FILTER_GC_EVERY=256", "-O3", "--shrinkLevel", "1"], options: SIZE_CLASS, memory: true },
  { id: "size-class-256k", title: "size-class allocator + mark & sweep after 256 KiB allocated, -O3", flags: ["--use", "FILTER_GC_BYTES=262144", "-O3", "--shrinkLevel", "1"], options: SIZE_CLASS, memory: true },
  { id: "size-class-512k", title: "size-class allocator + mark & sweep after 512 KiB allocated, -O3 (assembly/rt: chosen)", flags: ["--use", "FILTER_GC_BYTES=524288", "-O3", "--shrinkLevel", "1"], options: SIZE_CLASS, memory: true },
  { id: "size-class-1m", title: "size-class allocator + mark & sweep after 1 MiB allocated, -O3", flags: ["--use", "FILTER_GC_BYTES=1048576", "-O3", "--shrinkLevel", "1"], options: SIZE_CLASS, memory: true },
  { id: "stub", title: "stub: bump allocator, never frees (lower bound; memory grows)", flags: ["--runtime", "stub", "-O3", "--shrinkLevel", "1"], memory: false },
];

const { values: o } = parseArgs({ options: {
  requests: { type: "string" }, rounds: { type: "string" }, "memory-requests": { type: "string" }, only: { type: "string" }, out: { type: "string" },
} });
const N = Number(o.requests ?? 8000);
const ROUNDS = Number(o.rounds ?? 16);
const MEMORY_N = Number(o["memory-requests"] ?? 100_000);
const only = o.only ? o.only.split(",") : null;
const variants = VARIANTS.filter((v) => !only || only.includes(v.id));
const scenarios = SCENARIOS.filter((s) => ["noop", "maas", "maas-typed", "sets20-labels10-first"].includes(s.id));
const progress = (line: string) => console.error(line);

async function build(entry: string, out: string, v: Variant): Promise<Uint8Array> {
  const config = `build/variants/${v.id}.asconfig.json`;
  writeFileSync(config, JSON.stringify({ options: v.options ?? {} }));
  const { error, stderr } = await asc.main([entry, "--outFile", out, "--config", config, ...COMMON, ...v.flags]);
  if (error) throw new Error(`${out}: ${stderr.toString()}`);
  return readFileSync(out);
}

async function main() {
  mkdirSync(`${ROOT}build/variants`, { recursive: true });
  const builds = new Map<string, { filter: Uint8Array; noop: Uint8Array }>();
  for (const v of variants) {
    progress(`  building ${v.id}`);
    builds.set(v.id, {
      filter: await build("assembly/index.ts", `build/variants/${v.id}.wasm`, v),
      noop: await build("bench/noop-filter.ts", `build/variants/${v.id}.noop.wasm`, v),
    });
  }
  const runs: Array<{ variant: string; scenario: string; run: CostRun }> = [];
  for (const v of variants) {
    for (const s of scenarios) {
      const b = builds.get(v.id)!;
      runs.push({ variant: v.id, scenario: s.id, run: await CostRun.start(s, s.wasm === "noop" ? b.noop : b.filter, s.config()!) });
    }
  }
  for (const r of runs) await r.run.send(500);
  const timer = calibrateTimer(runs[0].run.host.vm);
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of runs) await r.run.round(Math.ceil(N / ROUNDS));
    progress(`    round ${round + 1}/${ROUNDS}`);
  }
  const figures = runs.map((r) => ({ ...r, cost: r.run.figures(timer) }));
  runs.forEach((r) => r.run.close());

  const memory = new Map<string, string>();
  const maas = SCENARIOS.find((s) => s.id === "maas")!;
  for (const v of variants) {
    if (!v.memory) { memory.set(v.id, "grows with every request"); continue; }
    progress(`  memory: ${v.id}, ${MEMORY_N} requests`);
    const m = await memoryOverRequests(maas, builds.get(v.id)!.filter, maas.config()!, MEMORY_N, () => {});
    memory.set(v.id, `${m.samples.map((s) => s.linearMemoryPages).join(" → ")}${m.flat ? " (flat)" : " (GROWING)"}`);
  }

  const get = (v: string, s: string) => figures.find((f) => f.variant === v && f.scenario === s)!.cost;
  const us = (x: number) => x.toFixed(1);
  const rows = [["variant", ".wasm KiB (no-op)", "MaaS: callbacks µs (× no-op)", "MaaS: guest self µs (× no-op)", "MaaS typed: guest self µs", "20 sets: guest self µs", `pages, ${MEMORY_N} MaaS requests`]];
  for (const v of variants) {
    const noop = get(v.id, "noop"), m = get(v.id, "maas"), typed = get(v.id, "maas-typed"), big = get(v.id, "sets20-labels10-first");
    const b = builds.get(v.id)!;
    rows.push([v.title, `${(b.filter.length / 1024).toFixed(1)} (${(b.noop.length / 1024).toFixed(1)})`,
      `${us(m.callbacksUs)} (×${(m.callbacksUs / noop.callbacksUs).toFixed(1)})`,
      `${us(m.guestSelfUs)} (×${(m.guestSelfUs / noop.guestSelfUs).toFixed(1)})`, us(typed.guestSelfUs), us(big.guestSelfUs), memory.get(v.id)!]);
  }
  const mach = machine();
  console.log(`\n${mach.date.slice(0, 10)}, ${mach.cpu} (${mach.cores} cores), Node ${mach.node}, load ${mach.loadAverage.join(" ")}, ${mach.commit}, ${N} requests per cell\n`);
  console.log(markdownTable(rows));
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  const out = `${ROOT}bench/results/${o.out ?? "variants-latest"}.json`;
  writeFileSync(out, JSON.stringify({ machine: mach, requests: N, variants: variants.map((v) => ({ ...v, size: builds.get(v.id)!.filter.length, noopSize: builds.get(v.id)!.noop.length, memory: memory.get(v.id), perRequest: Object.fromEntries(scenarios.map((s) => [s.id, get(v.id, s.id)])) })) }, null, 2) + "\n");
  progress(`figures written to ${out.replace(ROOT, "")}`);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
