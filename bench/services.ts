// Whole-system figures: limitador-mock under concurrent clients, and the local gateway (auth,
// limits, tokens over real gRPC) against the model simulator it fronts.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLimitadorMock } from "../limitador-mock/server.js";
import { startStack } from "../local/stack.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export interface LoadFigures { perSecond: number; p50Ms: number; p99Ms: number }

const percentile = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

export async function mockLoad(calls: number): Promise<LoadFigures> {
  const dir = mkdtempSync(join(tmpdir(), "bench-limits-"));
  writeFileSync(join(dir, "limits.yaml"), "- namespace: bench\n  max_value: 1000000000\n  seconds: 3600\n  conditions: [\"descriptors[0].tier == 'free'\"]\n  variables: [\"descriptors[0].user\"]\n");
  const mock = await startLimitadorMock({ limitsFile: join(dir, "limits.yaml"), rlsIp: "127.0.0.1", rlsPort: 0, httpIp: "127.0.0.1", httpPort: 0, metricLabelsDefault: "descriptors[1]", log: () => {} });
  const { LimitadorClient } = await import("../tests/helpers/limitador-client.js");
  const clients = Array.from({ length: 50 }, () => new LimitadorClient(`127.0.0.1:${mock.grpcPort}`));
  const latencies: number[] = [];
  const started = Date.now();
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < calls / clients.length; k++) {
      const t = process.hrtime.bigint();
      await c.shouldRateLimit("bench", [{ tier: "free", user: `u${(i * 7 + k) % 500}` }, { user: `u${i}`, tier: "free", model: "m" }]);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  clients.forEach((c) => c.close());
  await mock.close();
  return { perSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

async function load(url: string, n: number, concurrency: number, init: () => RequestInit): Promise<LoadFigures> {
  const latencies: number[] = [];
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      const t = process.hrtime.bigint();
      const res = await fetch(url, init());
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  return { perSecond: latencies.length / ((Date.now() - started) / 1000), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
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
