// `npm run bench`: the per-request cost of the filter in every scenario beside the no-op filter
// (same run, interleaved), host calls by kind, sizes, memory over a long run, limitador-mock and
// gateway throughput. One table on stdout; the figures as JSON in bench/results/<--out>.json.
//   npm run bench -- --requests 20000 --rounds 20 --memory-requests 10000000 --skip mock,gateway
//   npm run bench -- --only cost --scenarios noop,maas --filter build/other.wasm
//   npm run bench -- --only cost --baseline old/filter.wasm   (adds "MaaS classic" on another build, same run)
//   npm run bench -- --only mock [--profile-mock] (LIMITADOR_BIN=... adds a real Limitador beside the mock)
import { parseArgs } from "node:util";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { ensureFilterBuilt } from "../local/build-wasm.js";
import { SCENARIOS, type Scenario } from "./scenarios.js";
import { CostRun, calibrateTimer } from "./guest-cost.js";
import { memoryOverRequests, type MemoryFigures } from "./memory.js";
import { gatewayLoad, type LoadFigures } from "./services.js";
import { compareLimitadors } from "./limitador-load.js";
import { printCpuProfile } from "./profile-summary.js";
import { costRows, machine, markdownTable, type Column } from "./report.js";
import { allocationsPerRequest } from "./alloc-count.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SECTIONS = ["cost", "size", "memory", "mock", "gateway"] as const;

const { values: o } = parseArgs({ options: {
  requests: { type: "string" }, rounds: { type: "string" }, "memory-requests": { type: "string" },
  "load-seconds": { type: "string" }, "profile-mock": { type: "boolean" }, "gateway-requests": { type: "string" },
  only: { type: "string" }, skip: { type: "string" }, scenarios: { type: "string" },
  filter: { type: "string" }, baseline: { type: "string" }, out: { type: "string" },
} });
const N = Number(o.requests ?? 20000);
const ROUNDS = Math.max(1, Number(o.rounds ?? 20));
const MEMORY_N = Number(o["memory-requests"] ?? 1_000_000);
const LOAD_SECONDS = Number(o["load-seconds"] ?? 5);
const GATEWAY_N = Number(o["gateway-requests"] ?? 2000);
const list = (s: string | undefined) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : null);
const only = list(o.only?.replace("limitador", "mock")), skip = list(o.skip) ?? [], wanted = list(o.scenarios);
const runs = (section: (typeof SECTIONS)[number]) => (only ? only.includes(section) : true) && !skip.includes(section);
const progress = (line: string) => console.error(line);

async function buildNoop(): Promise<Uint8Array> {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "noop.wasm");
  const config = JSON.parse(readFileSync(`${ROOT}asconfig.json`, "utf8"));
  const args = ["bench/noop-filter.ts", "--config", "asconfig.json", "--target", "release", "--outFile", out];
  if (!config.targets?.release) throw new Error("asconfig.json has no release target");
  const { error, stderr } = await asc.main(args);
  if (error) throw new Error(stderr.toString());
  return readFileSync(out);
}

async function costs(scenarios: Scenario[], wasm: Record<Scenario["wasm"], Uint8Array | null>): Promise<Column[]> {
  const runsByScenario = new Map<string, CostRun>();
  for (const s of scenarios) {
    const config = s.config(), bytes = wasm[s.wasm];
    if (config === null || bytes === null) continue;
    runsByScenario.set(s.id, await CostRun.start(s, bytes, config));
  }
  const all = [...runsByScenario.values()];
  progress(`  per request: ${all.length} scenarios, ${ROUNDS} rounds of ${Math.ceil(N / ROUNDS)} requests (untimed, then timed host functions)`);
  for (const r of all) await r.send(1000);
  const timer = calibrateTimer(all[0].host.vm);
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of all) await r.round(Math.ceil(N / ROUNDS));
    progress(`    round ${round + 1}/${ROUNDS} done`);
  }
  const columns = scenarios.map((s) => {
    const r = runsByScenario.get(s.id);
    return { id: s.id, title: s.title, cost: r ? r.figures(timer) : null };
  });
  all.forEach((r) => r.close());
  progress(`  timer cost per timed host call: ${timer.recordedNs.toFixed(0)} ns recorded as host time, ${timer.unrecordedNs.toFixed(0)} ns outside (both taken out)`);
  return columns;
}

/** Allocations per request, on the release build with names (built here) and a counter per runtime function. */
async function countAllocations(columns: Column[], scenarios: Scenario[]): Promise<void> {
  progress("  allocations per request (build/filter.names.wasm, counted)");
  const names = { filter: await buildNamed("assembly/index.ts", `${ROOT}build/filter.names.wasm`), noop: await buildNamed("bench/noop-filter.ts", join(mkdtempSync(join(tmpdir(), "bench-")), "noop.names.wasm")) };
  for (const c of columns) {
    const s = scenarios.find((x) => x.id === c.id)!;
    if (c.cost && s.wasm !== "baseline") c.allocations = await allocationsPerRequest(s, names[s.wasm], s.config()!, 1000);
  }
}

async function buildNamed(entry: string, out: string): Promise<Uint8Array> {
  const { error, stderr } = await asc.main([entry, "--config", "asconfig.json", "--target", "names", "--outFile", out]);
  if (error) throw new Error(stderr.toString());
  return readFileSync(out);
}

async function main() {
  progress("measuring…");
  const filterPath = o.filter ? resolve(o.filter) : await ensureFilterBuilt(progress);
  const filter = readFileSync(filterPath);
  const noop = await buildNoop();
  const scenarios = SCENARIOS.filter((s) => (!wanted || wanted.includes(s.id)) && (s.wasm !== "baseline" || o.baseline));
  const results: Record<string, unknown> = { machine: machine(), filterWasm: filterPath.replace(ROOT, ""), requestsPerScenario: N, rounds: ROUNDS };
  const systemRows: string[][] = [];

  let columns: Column[] = [];
  if (runs("cost")) {
    columns = await costs(scenarios, { filter, noop, baseline: o.baseline ? readFileSync(resolve(o.baseline)) : null });
    if (!o.filter) await countAllocations(columns, scenarios);
    results.perRequest = Object.fromEntries(columns.map((c) => [c.id, c.cost ? { ...c.cost, allocations: c.allocations } : null]));
  }
  if (runs("size")) {
    results.sizeBytes = { filter: filter.length, noop: noop.length };
    systemRows.push([".wasm size", `${(filter.length / 1024).toFixed(1)} KiB (${filterPath.replace(ROOT, "")}); no-op filter on the same ABI layer and flags: ${(noop.length / 1024).toFixed(1)} KiB`]);
  }
  const maas = SCENARIOS.find((s) => s.id === "maas")!;
  if (runs("memory")) {
    progress(`  memory: ${MEMORY_N} MaaS requests`);
    const mem: MemoryFigures = await memoryOverRequests(maas, filter, maas.config()!, MEMORY_N, progress);
    results.memory = mem;
    systemRows.push([`linear memory over ${MEMORY_N} MaaS requests (64 KiB pages)`, mem.samples.map((s) => `${s.requests}: ${s.linearMemoryPages}`).join(", ") + (mem.flat ? " (flat)" : " (GROWING)")]);
    systemRows.push([`host RSS over ${MEMORY_N} MaaS requests (MiB)`, mem.samples.map((s) => `${s.requests}: ${s.hostRssMiB.toFixed(0)}`).join(", ")]);
  }
  const load = (f: LoadFigures) => `${f.perSecond.toFixed(0)}/s, p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms`;
  if (runs("mock")) {
    progress("  limitador-mock (and LIMITADOR_BIN's limitador-server) at 1, 16 and 64 concurrent calls");
    const profileDir = o["profile-mock"] ? mkdtempSync(join(tmpdir(), "bench-mock-profile-")) : null;
    results.limitador = await compareLimitadors(LOAD_SECONDS, (what, value) => systemRows.push([what, value]), profileDir);
    if (profileDir) printCpuProfile(profileDir, "limitador-mock");
  }
  if (runs("gateway")) {
    progress("  local gateway");
    const g = await gatewayLoad(GATEWAY_N);
    results.gateway = g;
    systemRows.push(["local gateway (auth + limits + tokens), 20 concurrent", load(g.through) + `, ${g.through.errors}`]);
    systemRows.push(["model simulator direct, 20 concurrent", load(g.direct) + `, ${g.direct.errors}`]);
    systemRows.push(["added latency through the gateway (p50)", `${(g.through.p50Ms - g.direct.p50Ms).toFixed(2)} ms`]);
  }

  const m = results.machine as ReturnType<typeof machine>;
  console.log(`\n${m.date.slice(0, 10)}, ${m.cpu} (${m.cores} cores), Node ${m.node}, load ${m.loadAverage.join(" ")}, ${m.commit}\n`);
  if (columns.length) console.log(markdownTable(costRows(columns)) + "\n");
  if (systemRows.length) console.log(markdownTable([["whole system", "result"], ...systemRows]));
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  const out = `${ROOT}bench/results/${o.out ?? "latest"}.json`;
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  progress(`\nfigures written to ${out.replace(ROOT, "")}`);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
