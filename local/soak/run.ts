// One soak: the local stack's components (limitador-mock, the Authorino stand-in and the gateway as
// processes, the model simulator in this one), a client mix for a fixed time, faults on a schedule,
// then the books and the gateway's memory over the run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { allocatePorts, authorino, gateway, limitadorMock, redis, type Component } from "./processes.js";
import { startFaultyModel } from "./model.js";
import { runTraffic, soakUsers, apiKeysYaml, MODELS, type RequestRecord } from "./traffic.js";
import { computeBooks, type Books, type LimitSpec } from "./books.js";
import { faults, type FaultName, type FaultWindow, type FaultContext } from "./faults.js";

const CONFIG = fileURLToPath(new URL("../config/", import.meta.url));

export interface SoakOptions {
  seconds: number;
  clients: number;
  seed?: number;
  faults?: FaultName[];
  failureMode?: "allow" | "deny";
  storage?: "memory" | "redis";
  /** Service timeout in the plugin configuration (the operator writes 100 ms; a soak on a shared machine needs more). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface MemorySample { t: number; requests: number; rss: number; heapUsed: number; linear: number }
export interface SoakResult { books: Books; memory: ReturnType<typeof memoryVerdict>; records: number; requestsPerSecond: number; ok: boolean }

/**
 * Per user and model, scaled with the run (clients × seconds) so that free users meet their
 * request limit and premium users their token budget partway, and enterprise never does.
 */
export function soakLimits(seconds: number, clients: number): Record<string, LimitSpec> {
  const volume = seconds * clients;
  return { free: { requests: Math.max(5, Math.round(volume / 8)), tokens: 1_000_000_000 }, premium: { requests: 1_000_000_000, tokens: 2 * volume }, enterprise: { requests: 1_000_000_000, tokens: 1_000_000_000 } };
}

const namespaceOf = (model: string) => `llm/${model}-kserve-route`;

function writeConfigs(dir: string, o: Required<Pick<SoakOptions, "seconds" | "clients" | "failureMode" | "timeoutMs">>) {
  const limits = soakLimits(o.seconds, o.clients);
  const shipped = parse(readFileSync(`${CONFIG}limits.yaml`, "utf8")) as Array<Record<string, any>>;
  for (const l of shipped) {
    const [tier, kind] = String(l.name).split("-");
    l.max_value = kind === "tokens" ? limits[tier].tokens : limits[tier].requests;
    l.seconds = 86400; // one window for the whole run: the books compare totals
  }
  writeFileSync(join(dir, "limits.yaml"), stringify(shipped));
  const users = soakUsers();
  writeFileSync(join(dir, "api-keys.yaml"), apiKeysYaml(users));
  const plugin = JSON.parse(readFileSync(`${CONFIG}plugin-config.json`, "utf8"));
  for (const svc of Object.values(plugin.services) as any[]) {
    svc.timeout = `${o.timeoutMs}ms`;
    if (svc.type !== "auth") svc.failureMode = o.failureMode;
  }
  writeFileSync(join(dir, "plugin-config.json"), JSON.stringify(plugin));
  return { limits, users };
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as SoakOptions;
  const o = { seed: 1, faults: [] as FaultName[], failureMode: "allow" as "allow" | "deny", timeoutMs: 2000, log: (l: string) => console.error(l), ...given };
  const storage = o.storage ?? (o.faults.some((f) => f === "limitador-kill" || f === "redis-stop") ? "redis" : "memory");
  const dir = mkdtempSync(join(tmpdir(), "soak-"));
  const { limits, users } = writeConfigs(dir, o);
  const ports = await allocatePorts();
  const started: Component[] = [];
  const up = async (c: Component) => { await c.start(); started.push(c); return c; };
  const model = await startFaultyModel(MODELS);
  ports.model = model.port;
  try {
    const redisServer = storage === "redis" ? await up(redis(ports, dir)) : null;
    const mock = await up(limitadorMock(ports, join(dir, "limits.yaml"), storage));
    const auth = await up(authorino(ports, join(dir, "api-keys.yaml")));
    const gw = await up(gateway(ports, join(dir, "plugin-config.json")));
    const admin = `http://127.0.0.1:${ports.admin}`;
    o.log(`soak: ${o.seconds} s, ${o.clients} clients, storage ${storage}, failureMode ${o.failureMode}, timeout ${o.timeoutMs} ms${o.faults.length ? `, faults ${o.faults.join(", ")}` : ""}`);

    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const samples: MemorySample[] = [];
    let answered = 0;
    const sampleMemory = async () => {
      const m = await (await fetch(`${admin}/memory?gc=1`)).json();
      samples.push({ t: now(), requests: answered, rss: m.rss, heapUsed: m.heap_used, linear: m.wasm_linear_memory });
    };
    await sampleMemory();
    let sampling = true;
    const sampler = (async () => { while (sampling) { await new Promise((r) => setTimeout(r, 1000)); if (sampling) await sampleMemory().catch(() => {}); } })();

    const ctx: FaultContext = { limitador: mock, authorino: auth, redis: redisServer, failureMode: o.failureMode, timeoutMs: o.timeoutMs, now, log: o.log };
    const windows: FaultWindow[] = [];
    const scheduled = o.faults.filter((f): f is Exclude<FaultName, "sse-reset"> => f !== "sse-reset");
    let faultsSettled = scheduled.length === 0;
    const faultRun = (async () => {
      // Spread the faults over the middle of the run, each with time to recover before the next.
      const slot = (o.seconds * 1000 * 0.7) / Math.max(1, scheduled.length);
      for (let i = 0; i < scheduled.length; i++) {
        const at = o.seconds * 1000 * 0.15 + i * slot;
        await new Promise((r) => setTimeout(r, Math.max(0, at - now())));
        windows.push(await faults[scheduled[i]].inject(ctx));
      }
      // Recovery is observed, not assumed: traffic goes on for 4 s after the last fault ends.
      await new Promise((r) => setTimeout(r, 4000));
      faultsSettled = true;
    })();
    const records: RequestRecord[] = await runTraffic({
      gateway: `http://127.0.0.1:${ports.gateway}`, users, clients: o.clients, durationMs: o.seconds * 1000, seed: o.seed, startedAt: t0,
      resetShare: o.faults.includes("sse-reset") ? 0.15 : 0, holdOpen: () => !faultsSettled, onRecord: () => { answered++; },
    });
    await faultRun;
    const elapsed = now();
    sampling = false;
    await sampler;
    // Reports are fire-and-forget: the books close once the gateway has none in flight.
    for (let i = 0; i < 600; i++) {
      const m = await (await fetch(`${admin}/memory`)).json();
      if (m.grpc_calls_in_flight === 0 && m.active_streams === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await sampleMemory();

    const limitadorHttp = `http://127.0.0.1:${ports.limitadorHttp}`;
    // `remaining` is a u64 in Limitador: past max (a Report overshooting) it wraps around 2^64,
    // beyond a double's precision. Read it exactly, as a string, and let the books unwrap it.
    const countersOf = async (m: string) => JSON.parse((await (await fetch(`${limitadorHttp}/counters/${encodeURIComponent(namespaceOf(m))}`)).text()).replace(/"remaining":\s*(\d+)/g, '"remaining":"$1"'));
    const counters = (await Promise.all(MODELS.map(countersOf))).flat();
    const books = computeBooks({
      records, limits, namespaceOf, counters,
      limitadorMetrics: o.faults.includes("limitador-kill") ? null : await (await fetch(`${limitadorHttp}/metrics`)).text(),
      gatewayMetrics: await (await fetch(`${admin}/stats/prometheus`)).text(),
      faultWindows: windows, recoveryMs: 1000,
    });
    const memory = memoryVerdict(samples);
    if (!memory.flat) books.violations.push(`gateway memory grew: ${memory.line}`);
    return { books, memory, records: records.length, requestsPerSecond: records.length / (elapsed / 1000), ok: books.violations.length === 0 };
  } catch (err) {
    for (const c of started) if (c.output) o.log(`--- ${c.name} output ---\n${c.output.slice(-3000)}`);
    throw err;
  } finally {
    for (const c of started.reverse()) await c.stop().catch(() => {});
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Requests before the allocator and caches settle (the bench sees linear memory final by ~300). */
const WARM_UP_REQUESTS = 500;

/**
 * Flat: after a warm-up (the first quarter of the run and WARM_UP_REQUESTS answers), linear memory
 * does not grow and the heap after GC stays put. A run too short to warm up is not judged.
 */
export function memoryVerdict(samples: MemorySample[]): { samples: MemorySample[]; flat: boolean; judged: boolean; line: string } {
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  const last = samples[samples.length - 1];
  const warm = samples.find((s) => s.t >= last.t * 0.25 && s.requests >= WARM_UP_REQUESTS);
  if (!warm || last.requests - warm.requests < WARM_UP_REQUESTS) {
    return { samples, flat: true, judged: false, line: `not judged: ${last.requests} requests, too few after a warm-up of ${WARM_UP_REQUESTS} (linear memory ${mb(last.linear)}, heap after GC ${mb(last.heapUsed)}, RSS ${mb(last.rss)} at the end)` };
  }
  const linearGrowth = last.linear - warm.linear;
  const heapGrowth = last.heapUsed - warm.heapUsed;
  const rssGrowth = last.rss - warm.rss;
  const flat = linearGrowth <= 0 && heapGrowth <= Math.max(8 * 1048576, warm.heapUsed * 0.1) && rssGrowth <= Math.max(48 * 1048576, warm.rss * 0.25);
  const line = `linear memory ${mb(warm.linear)} → ${mb(last.linear)}, heap after GC ${mb(warm.heapUsed)} → ${mb(last.heapUsed)}, RSS ${mb(warm.rss)} → ${mb(last.rss)} (from request ${warm.requests} at ${(warm.t / 1000).toFixed(0)} s to request ${last.requests}, ${samples.length} samples)`;
  return { samples, flat, judged: true, line };
}
