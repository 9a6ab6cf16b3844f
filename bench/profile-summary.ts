// The hottest functions (self time) of a `node --cpu-prof` profile, printed to stderr.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export function printCpuProfile(dir: string, what: string): void {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) { console.error("no profile written"); return; }
  const p = JSON.parse(readFileSync(join(dir, file), "utf8"));
  const self = new Map<number, number>();
  p.samples.forEach((id: number, i: number) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  for (const n of p.nodes) {
    const key = `${n.callFrame.functionName || "(anonymous)"} ${String(n.callFrame.url).replace(/^.*\/(node_modules|build)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + (self.get(n.id) ?? 0));
  }
  const busy = [...byFunction].filter(([k]) => !k.startsWith("(idle)"));
  const total = busy.reduce((a, [, t]) => a + t, 0);
  console.error(`\n${what} profile (${file}), self time of the busiest functions, % of busy time:`);
  for (const [k, t] of busy.sort((a, b) => b[1] - a[1]).slice(0, 25)) console.error(`  ${(100 * t / total).toFixed(1).padStart(5)}%  ${k}`);
}
