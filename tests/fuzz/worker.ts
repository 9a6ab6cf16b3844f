// One fuzz worker thread: runs the case indexes i ≡ worker (mod workers) in [from, to) and posts
// progress and failures to the runner (scripts/fuzz.ts).
import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { FuzzEngine } from "./engine.js";

const { wasmPath, seed, from, to, worker, workers, configOneIn, stuckMs } = workerData as { wasmPath: string; seed: number; from: number; to: number; worker: number; workers: number; configOneIn: number; stuckMs: number };
const engine = new FuzzEngine(readFileSync(wasmPath), seed, configOneIn, stuckMs);
let reported = 0;
let lastPost = Date.now();
for (let i = from + ((worker - from % workers + workers) % workers); i < to; i += workers) {
  await engine.runCase(i);
  if (engine.stats.failures.length > reported) {
    for (const f of engine.stats.failures.slice(reported)) parentPort!.postMessage({ failure: f });
    reported = engine.stats.failures.length;
  }
  if (Date.now() - lastPost > 1000) { parentPort!.postMessage({ progress: engine.stats.cases }); lastPost = Date.now(); }
}
const { failures: _f, ...stats } = engine.stats;
engine.close();
parentPort!.postMessage({ done: stats });
