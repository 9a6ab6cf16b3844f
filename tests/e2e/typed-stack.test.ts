// The local stack run with the typed configuration (local/config/plugin-config-typed.json, what
// Kuadrant operator main emits for the same policies) gives what it gives with the classic one:
// same answers, same Limitador counters and metric lines, same gateway metrics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStackProcess } from "../helpers/stack-process.js";
import { withGenerousTimeouts } from "../helpers/filter-host.js";

const NS = "llm/facebook-opt-125m-simulated-kserve-route";
const TYPED = new URL("../../local/config/plugin-config-typed.json", import.meta.url).pathname;

/** The typed file with generous timeouts, as the classic one gets them (a busy machine must not make failureMode answer). */
function generousTyped(): string {
  const file = join(mkdtempSync(join(tmpdir(), "stack-typed-")), "plugin-config-typed.json");
  writeFileSync(file, JSON.stringify(withGenerousTimeouts(JSON.parse(readFileSync(TYPED, "utf8")))));
  return file;
}

type Stack = Awaited<ReturnType<typeof startStackProcess>>;

async function run(s: Stack) {
  const statuses: Record<string, number[]> = {};
  for (const key of ["alice-free-key", "carol-premium-key", "dave-enterprise-key", "nobody-key"]) {
    statuses[key] = [];
    for (let i = 0; i < 7; i++) statuses[key].push((await s.chat(key)).status);
  }
  // Reports are fire-and-forget: wait until Limitador has seen every one (hits stop moving).
  let previous = "";
  for (let i = 0; i < 50; i++) {
    const now = (await s.limitadorMetrics()).split("\n").filter((l) => l.startsWith("authorized_hits")).join("\n");
    if (now === previous && now !== "") break;
    previous = now;
    await new Promise((r) => setTimeout(r, 100));
  }
  const metrics = (await s.limitadorMetrics()).split("\n").filter((l) => /^(authorized_calls|authorized_hits|limited_calls)\{/.test(l)).sort();
  const counters = await (await fetch(`http://127.0.0.1:${s.ports.limitadorHttp}/counters/${encodeURIComponent(NS)}`)).json();
  const remaining = counters.map((c: any) => `${c.limit.name}:${JSON.stringify(c.set_variables)}:${c.remaining}`).sort();
  const gateway = (await s.gatewayMetrics()).split("\n").filter((l) => l.startsWith("inference_model_request_total{")).sort();
  return { statuses, metrics, remaining, gateway };
}

test("the typed configuration (operator main's shape) gives the classic one's answers, counters and metric lines", async (t) => {
  const classic = await run(await startStackProcess(t));
  const typed = await run(await startStackProcess(t, ["--plugin-config", generousTyped()]));
  assert.deepEqual(classic.statuses["alice-free-key"], [200, 200, 200, 200, 200, 429, 429]);
  assert.deepEqual(typed.statuses, classic.statuses);
  assert.deepEqual(typed.remaining, classic.remaining);
  assert.deepEqual(typed.gateway, classic.gateway);
  // One difference, by design of operator main's typed actions: after auth, the request limit and
  // the (read-only) token check are `parallel`, so each 429 also made one CheckRateLimit, counted
  // in authorized_calls; the classic chain stops at the 429. Everything else is identical.
  const calls = (lines: string[]) => lines.filter((l) => !l.startsWith("authorized_calls{") || !l.includes('user="alice"'));
  assert.deepEqual(calls(typed.metrics), calls(classic.metrics));
  const alice = (lines: string[]) => Number(lines.find((l) => l.startsWith("authorized_calls{") && l.includes('user="alice"'))!.split(" ").pop());
  assert.equal(alice(typed.metrics), alice(classic.metrics) + 2);
});
