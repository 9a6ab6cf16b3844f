// `npm run bench:profile`: a CPU profile of one scenario's requests only (start-up excluded),
// on the release build with function names (build/filter.names.wasm). Writes the profile for
// Chrome DevTools or speedscope, and prints self-time per function: guest (wasm) functions
// by name and by source area, then the host's JavaScript.
//   npm run bench:profile -- --scenario maas --requests 20000
import { Session } from "node:inspector/promises";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { SCENARIOS } from "./scenarios.js";
import { CostRun } from "./guest-cost.js";
import { markdownTable } from "./report.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const { values: o } = parseArgs({ options: {
  scenario: { type: "string" }, requests: { type: "string" }, filter: { type: "string" }, top: { type: "string" },
} });
const N = Number(o.requests ?? 20000);
const TOP = Number(o.top ?? 40);
const scenario = SCENARIOS.find((s) => s.id === (o.scenario ?? "maas"));
if (!scenario) throw new Error(`unknown scenario; one of ${SCENARIOS.map((s) => s.id).join(", ")}`);

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Where a sampled frame belongs: guest functions by AssemblyScript source area, host JS by file. */
function area(frame: ProfileNode["callFrame"]): { side: "guest" | "host" | "other"; area: string } {
  if (frame.url.startsWith("wasm://")) {
    const name = frame.functionName;
    const m = /^(~lib\/rt\/(tlsf|itcms|tcms|stub|common)|~lib\/[a-z]+|assembly\/rt\/[a-z]+|assembly\/[a-z]+(\/[a-z-]+)?)/.exec(name);
    return { side: "guest", area: m ? m[1] : "(other wasm)" };
  }
  const file = frame.url.replace(/^file:\/\//, "").replace(ROOT, "");
  if (file.startsWith("host/")) return { side: "host", area: file };
  return { side: "other", area: frame.functionName.startsWith("(") ? frame.functionName : file || "(native)" };
}

async function main() {
  const wasmPath = resolve(o.filter ?? `${ROOT}build/filter.names.wasm`);
  const run = await CostRun.start(scenario!, readFileSync(wasmPath), scenario!.config()!);
  await run.send(2000);
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 50 });
  await session.post("Profiler.start");
  const started = process.hrtime.bigint();
  await run.send(N);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
  session.disconnect();
  run.close();

  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  const out = `${ROOT}bench/results/${scenario!.id}.cpuprofile`;
  writeFileSync(out, JSON.stringify(profile));

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The nearest of our own functions (assembly/*) at or above a guest frame: who caused the work. */
  const owner = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      if (name.includes("__collect")) return "(full collection at callback end, abi/callbacks.ts)";
      if (name.startsWith("assembly/") && !name.startsWith("assembly/rt/")) return name; // the runtime is work for its caller
      if (!byId.get(at)!.callFrame.url.startsWith("wasm://")) break;
    }
    return "(runtime or std library, called from the host)";
  };
  const owners = new Map<string, number>();
  const fns = new Map<string, { us: number; side: string; area: string }>();
  const areas = new Map<string, { us: number; side: string }>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const a = area(frame);
    const key = a.side === "guest" ? frame.functionName : `${frame.functionName || "(anonymous)"} ${a.area}`;
    const f = fns.get(key) ?? { us: 0, side: a.side, area: a.area };
    f.us += dt;
    fns.set(key, f);
    if (a.side === "guest") { const o = owner(id); owners.set(o, (owners.get(o) ?? 0) + dt); }
    const g = areas.get(`${a.side}: ${a.area}`) ?? { us: 0, side: a.side };
    g.us += dt;
    areas.set(`${a.side}: ${a.area}`, g);
  });
  const n = N;
  const perReq = (us: number) => (us / n).toFixed(2);
  const share = (us: number) => `${((100 * us) / total).toFixed(1)}%`;
  const sideTotal = (side: string) => [...areas.values()].filter((a) => a.side === side).reduce((s, a) => s + a.us, 0);
  console.log(`\n${scenario!.title}: ${n} requests in ${wallMs.toFixed(0)} ms under the profiler (${wasmPath.replace(ROOT, "")})`);
  console.log(`guest ${perReq(sideTotal("guest"))} µs/request, host JS ${perReq(sideTotal("host"))}, other ${perReq(sideTotal("other"))} (Node, GC, idle)\n`);
  console.log(markdownTable([["area", "µs/request", "share"], ...[...areas].sort((a, b) => b[1].us - a[1].us).slice(0, 25).map(([k, v]) => [k, perReq(v.us), share(v.us)])]));
  console.log();
  const guest = [...fns].filter(([, v]) => v.side === "guest").sort((a, b) => b[1].us - a[1].us).slice(0, TOP);
  console.log(markdownTable([["guest function (self time)", "µs/request", "share"], ...guest.map(([k, v]) => [k, perReq(v.us), share(v.us)])]));
  console.log();
  const ours = [...owners].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  console.log(markdownTable([["our function, with the std library, allocator and collector work it calls", "µs/request", "share"], ...ours.map(([k, us]) => [k, perReq(us), share(us)])]));
  console.log();
  const host = [...fns].filter(([, v]) => v.side === "host").sort((a, b) => b[1].us - a[1].us).slice(0, 15);
  console.log(markdownTable([["host function (self time)", "µs/request", "share"], ...host.map(([k, v]) => [k, perReq(v.us), share(v.us)])]));
  console.log(`\nprofile written to ${out.replace(ROOT, "")} (open in Chrome DevTools → Performance, or speedscope.app)`);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
