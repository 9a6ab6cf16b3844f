// Whole-system figures: the local gateway (auth, limits, tokens over real gRPC) against the model
// simulator it fronts, errors counted by kind. (limitador-mock's load: limitador-load.ts.)
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startStack } from "../local/stack.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export interface LoadFigures { perSecond: number; p50Ms: number; p99Ms: number; errors: ErrorCount }

/** Errors by kind: a benchmark reports them beside its figures instead of dying on the first. */
export class ErrorCount {
  readonly byKind = new Map<string, number>();
  total = 0;
  add(kind: string): void { this.total++; this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1); }
  toString(): string { return this.total === 0 ? "no errors" : `${this.total} error(s): ${[...this.byKind].map(([k, n]) => `${k} ×${n}`).join(", ")}`; }
  toJSON(): Record<string, number> { return Object.fromEntries(this.byKind); }
}

const percentile = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

async function load(url: string, n: number, concurrency: number, init: () => RequestInit): Promise<LoadFigures> {
  const latencies: number[] = [];
  const errors = new ErrorCount();
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      const t = process.hrtime.bigint();
      try {
        const res = await fetch(url, init());
        await res.arrayBuffer();
        if (res.status !== 200) { errors.add(`status ${res.status}`); continue; }
      } catch (err) {
        errors.add((err as Error).message);
        continue;
      }
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  return { perSecond: latencies.length / ((Date.now() - started) / 1000), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors };
}

export async function gatewayLoad(n: number): Promise<{ direct: LoadFigures; through: LoadFigures }> {
  const apiKeys = join(mkdtempSync(join(tmpdir(), "bench-keys-")), "keys.yaml");
  writeFileSync(apiKeys, Array.from({ length: 20 }, (_, i) => `- key: k${i}\n  userid: user${i}\n  tier: enterprise\n`).join(""));
  const limits = join(mkdtempSync(join(tmpdir(), "bench-limits-")), "limits.yaml");
  writeFileSync(limits, readFileSync(`${ROOT}local/config/limits.yaml`, "utf8").replace(/max_value: \d+/g, "max_value: 100000000"));
  const stack = await startStack({ apiKeys, limits, quiet: true, ports: { gateway: 0, admin: 0, limitadorGrpc: 0, limitadorHttp: 0, authorino: 0, model: 0 } });
  const body = JSON.stringify({ model: "facebook-opt-125m-simulated", max_tokens: 4, messages: [{ role: "user", content: "hi" }] });
  let i = 0;
  const init = () => ({ method: "POST", headers: { authorization: `APIKEY k${i++ % 20}`, "content-type": "application/json" }, body });
  const path = "/llm/facebook-opt-125m-simulated/v1/chat/completions";
  try {
    await load(`http://127.0.0.1:${stack.ports.model}${path}`, 200, 10, init);
    const direct = await load(`http://127.0.0.1:${stack.ports.model}${path}`, n, 20, init);
    await load(`http://127.0.0.1:${stack.ports.gateway}${path}`, 200, 10, init);
    const through = await load(`http://127.0.0.1:${stack.ports.gateway}${path}`, n, 20, init);
    return { direct, through };
  } finally {
    await stack.close();
  }
}
