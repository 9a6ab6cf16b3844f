// The bench's output: one markdown table on stdout (rows = measures, columns = scenarios, then
// the whole-system figures), and the same figures as JSON under bench/results/.
import { cpus, loadavg, hostname, totalmem } from "node:os";
import { execSync } from "node:child_process";
import type { CostFigures } from "./guest-cost.js";
import type { AllocationCounts } from "./alloc-count.js";

export interface Column { id: string; title: string; cost: CostFigures | null; allocations?: AllocationCounts | null }

const us = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const times = (x: number, base: number) => (base > 0 ? `×${(x / base).toFixed(1)}` : "–");

export function costRows(columns: Column[]): string[][] {
  const base = columns.find((c) => c.id === "noop")?.cost ?? null;
  const cell = (f: (c: CostFigures) => string) => columns.map((c) => (c.cost ? f(c.cost) : "skipped"));
  const rows: string[][] = [
    ["per request", ...columns.map((c) => c.title)],
    ["time in guest callbacks, host functions included (µs)", ...cell((c) => us(c.callbacksUs))],
    ["  vs no-op", ...cell((c) => times(c.callbacksUs, base?.callbacksUs ?? 0))],
    ["guest self-time (µs)", ...cell((c) => us(c.guestSelfUs))],
    ["  vs no-op", ...cell((c) => times(c.guestSelfUs, base?.guestSelfUs ?? 0))],
    ["  of which guest malloc called by the host (µs)", ...cell((c) => us(c.guestMallocUs))],
    ["time in host functions (µs)", ...cell((c) => us(c.hostFunctionsUs))],
    ["host calls", ...cell((c) => String(round(c.hostCalls)))],
  ];
  const kinds = new Set(columns.flatMap((c) => (c.cost ? Object.keys(c.cost.hostCallsByKind) : [])));
  for (const kind of kinds) {
    rows.push([`  ${kind}`, ...cell((c) => {
      const k = c.hostCallsByKind[kind];
      return k ? `${round(k.perRequest)} (${us(k.us)} µs)` : "0";
    })]);
  }
  const alloc = (what: string) => columns.map((c) => (c.allocations && what in c.allocations ? String(round(c.allocations[what])) : c.cost ? "–" : "skipped"));
  if (columns.some((c) => c.allocations)) {
    rows.push(["guest allocations: managed objects", ...alloc("objects")]);
    rows.push(["  heap blocks (objects, buffers, host malloc)", ...alloc("blocks")]);
    rows.push(["  full collections", ...alloc("collections")]);
  }
  rows.push(["whole request through the Node host (µs)", ...cell((c) => us(c.wallUs))]);
  rows.push(["requests measured", ...cell((c) => String(c.requests))]);
  return rows;
}

const round = (x: number) => Math.round(x * 100) / 100;

export function markdownTable(rows: string[][]): string {
  const width = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (c ?? "").padEnd(width[i])).join(" | ")} |`;
  return [line(rows[0]), `|${width.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

export function machine() {
  let commit = "";
  try { commit = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim(); } catch { /* not a checkout */ }
  return {
    date: new Date().toISOString(),
    host: hostname(),
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    commit,
  };
}
