// `npm run soak -- --seconds 60 --clients 64 [--fault NAME]... [--failure-mode allow|deny]`: the
// local stack under a realistic mix, faults on a schedule, and the books at the end.
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { runSoak } from "./soak/run.js";
import { FAULTS, type FaultName } from "./soak/faults.js";

const HELP = `npm run soak -- [options]
  --seconds N         how long the clients send (default 60)
  --clients N         concurrent clients (default 64)
  --fault NAME        inject a fault during the run (repeatable; "all" for every one):
                      ${FAULTS.join(", ")}
  --failure-mode M    the rate-limit services' failureMode: allow (default) or deny
  --storage S         limitador-mock storage: memory or redis (default: redis when a fault needs it)
  --timeout MS        service timeout in the plugin configuration (default 2000)
  --seed N            the traffic mix's seed (default 1)
  --json FILE         also write the books and memory samples as JSON
`;

const { values: v } = parseArgs({ options: {
  seconds: { type: "string" }, clients: { type: "string" }, fault: { type: "string", multiple: true }, "failure-mode": { type: "string" },
  storage: { type: "string" }, timeout: { type: "string" }, seed: { type: "string" }, json: { type: "string" }, help: { type: "boolean", short: "h" },
} });
if (v.help) { console.log(HELP); process.exit(0); }
const chosen = (v.fault ?? []).flatMap((f) => (f === "all" ? FAULTS : [f]));
const unknown = chosen.find((f) => !FAULTS.includes(f as FaultName));
if (unknown) { console.error(`unknown fault '${unknown}'\n\n${HELP}`); process.exit(2); }
const mode = v["failure-mode"] ?? "allow";
if (mode !== "allow" && mode !== "deny") { console.error("--failure-mode is allow or deny"); process.exit(2); }

const result = await runSoak({
  seconds: Number(v.seconds ?? 60), clients: Number(v.clients ?? 64), seed: Number(v.seed ?? 1), faults: chosen as FaultName[],
  failureMode: mode, storage: v.storage as "memory" | "redis" | undefined, timeoutMs: v.timeout ? Number(v.timeout) : undefined,
});
console.log(`\nBooks (${result.records} requests, ${result.requestsPerSecond.toFixed(0)} req/s):`);
for (const line of result.books.lines) console.log(`  ${line}`);
console.log(`  gateway memory: ${result.memory.line}${!result.memory.judged ? "" : result.memory.flat ? " (flat)" : " (GROWING)"}`);
if (v.json) writeFileSync(v.json, JSON.stringify(result, null, 2));
if (!result.ok) {
  console.log("\nVIOLATIONS:");
  for (const x of result.books.violations) console.log(`  ${x}`);
  process.exit(1);
}
console.log("\nall books balance");
