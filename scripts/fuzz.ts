// `npm run fuzz -- --cases N --seed S [--workers W]`: the filter under seeded hostile configs,
// requests, metadata, gRPC replies and bodies, on every core. Prints cases/s; writes a
// reproducer (JSON, plus the command that replays it) for every trap, hang or stuck stream.
//   npm run fuzz -- --seed S --case I     regenerates and runs one case in this process
//   npm run fuzz -- --replay FILE         runs a reproducer's recorded inputs again
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ensureFilterBuilt } from "../local/build-wasm.js";
import { FuzzEngine, type FuzzFailure } from "../tests/fuzz/engine.js";

const { values: v } = parseArgs({ options: {
  cases: { type: "string" }, seed: { type: "string" }, workers: { type: "string" }, case: { type: "string" }, out: { type: "string" },
  "config-one-in": { type: "string" }, "stuck-ms": { type: "string" }, replay: { type: "string" }, help: { type: "boolean", short: "h" },
} });
if (v.help) {
  console.log("npm run fuzz -- [--cases N (100000)] [--seed S (1)] [--workers W (cores)] [--config-one-in K (256)] [--stuck-ms MS (10000)] [--out DIR (fuzz-failures)] [--case I] [--replay FILE]");
  process.exit(0);
}
const seed = Number(v.seed ?? 1);
const configOneIn = Number(v["config-one-in"] ?? 256);
const stuckMs = Number(v["stuck-ms"] ?? 10000);
const out = v.out ?? "fuzz-failures";
const wasmPath = await ensureFilterBuilt((l) => console.error(l));

function writeReproducer(f: FuzzFailure): string {
  mkdirSync(out, { recursive: true });
  const file = `${out}/${f.kind}-seed${f.seed}-case${f.index}.json`;
  writeFileSync(file, JSON.stringify({ replay: `npm run fuzz -- --seed ${f.seed} --case ${f.index} --config-one-in ${configOneIn}`, ...f }, null, 2));
  return file;
}

if (v.replay !== undefined) {
  const engine = new FuzzEngine(readFileSync(wasmPath), seed, configOneIn, stuckMs);
  const f = await engine.replay(JSON.parse(readFileSync(v.replay, "utf8")));
  engine.close();
  console.log(f ? `reproduced: ${f.kind}: ${f.detail}` : "not reproduced on a fresh VM (the failure may depend on earlier cases: rerun from a lower index)");
  process.exit(f ? 1 : 0);
}

if (v.case !== undefined) {
  const engine = new FuzzEngine(readFileSync(wasmPath), seed, configOneIn, stuckMs);
  await engine.runCase(Number(v.case));
  engine.close();
  const f = engine.stats.failures[0];
  console.log(f ? `${f.kind}: ${f.detail}\n${JSON.stringify(f, null, 2).slice(0, 4000)}` : `case ${v.case} (seed ${seed}) passes`);
  process.exit(f ? 1 : 0);
}

const cases = Number(v.cases ?? 100000);
const workers = Math.max(1, Math.min(Number(v.workers ?? availableParallelism()), cases));
const progress = new Array(workers).fill(0);
const failures: FuzzFailure[] = [];
const totals = { cases: 0, configCases: 0, configsAccepted: 0, requests: 0 };
const started = performance.now();
const cpuStart = process.cpuUsage();
const ticker = setInterval(() => {
  const done = progress.reduce((a, b) => a + b, 0);
  console.error(`  ${done} / ${cases} cases, ${(done / ((performance.now() - started) / 1000)).toFixed(0)} cases/s, ${failures.length} failure(s)`);
}, 10000);
await Promise.all(Array.from({ length: workers }, (_, w) => new Promise<void>((resolve, reject) => {
  const worker = new Worker(fileURLToPath(new URL("../tests/fuzz/worker-entry.mjs", import.meta.url)), {
    workerData: { wasmPath, seed, from: 0, to: cases, worker: w, workers, configOneIn, stuckMs },
  });
  worker.on("message", (m) => {
    if (m.progress !== undefined) progress[w] = m.progress;
    if (m.failure) { failures.push(m.failure); console.error(`  ${m.failure.kind} in case ${m.failure.index}: ${m.failure.detail} → ${writeReproducer(m.failure)}`); }
    if (m.done) { progress[w] = m.done.cases; for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += m.done[k]; }
  });
  worker.on("error", reject);
  worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`fuzz worker ${w} exited with ${code}`))));
})));
clearInterval(ticker);
const seconds = (performance.now() - started) / 1000;
// CPU time (every thread of this process): the rate a dedicated core would give, even on a shared machine.
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(`fuzz: ${totals.cases} cases (${totals.requests} requests, ${totals.configCases} configurations of which ${totals.configsAccepted} accepted) `
  + `in ${seconds.toFixed(1)} s on ${workers} worker(s): ${(totals.cases / seconds).toFixed(0)} cases/s; `
  + `${cpuSeconds.toFixed(0)} CPU-s, ${(totals.cases / cpuSeconds).toFixed(0)} cases per CPU-second; seed ${seed}; ${failures.length} failure(s)`);
process.exit(failures.length ? 1 : 0);
