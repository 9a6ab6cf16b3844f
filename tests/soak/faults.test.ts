// Faults during a soak, each with its books: what failureMode promises while a component is gone
// (allow → traffic goes on; deny → 500 only while it is down), recovery within a second of its
// return, and Limitador's counts equal to the clients' wherever a call's fate is knowable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSoak } from "../../local/soak/run.js";
import { missing } from "../helpers/services.js";
import type { FaultName } from "../../local/soak/faults.js";

async function soakWith(fault: FaultName, failureMode: "allow" | "deny") {
  const logs: string[] = [];
  const result = await runSoak({ seconds: 12, clients: 16, seed: 11, timeoutMs: 5000, faults: [fault], failureMode, log: (l) => logs.push(l) });
  const report = [...result.books.lines, result.memory.line, ...logs].join("\n");
  assert.deepEqual(result.books.violations, [], report);
  return { result, report };
}

const noRedis = missing("redis-server", "redis-server");

test("Limitador killed and restarted, failureMode deny: 500 only while it is down, then served again", { skip: noRedis }, async () => {
  const { report } = await soakWith("limitador-kill", "deny");
  assert.match(report, /fault limitador-kill: down \d+ ms; \d+ requests overlapped it: [1-9]\d* got 5xx/);
});

test("Limitador killed and restarted, failureMode allow: no 5xx, traffic goes on unchecked, then checked again", { skip: noRedis }, async () => {
  const { report } = await soakWith("limitador-kill", "allow");
  assert.match(report, /\+ 5xx 0 \+/);
  assert.match(report, /0 got 5xx, [1-9]\d* passed unchecked/);
});

test("Limitador answering past the timeout (paused): failureMode allow lets traffic through", async () => {
  const { report } = await soakWith("limitador-slow", "allow");
  assert.match(report, /\+ 5xx 0 \+/);
  assert.match(report, /fault limitador-slow: .* [1-9]\d* passed unchecked/);
});

test("Redis storage stopped and started: Limitador answers UNAVAILABLE, then reconnects; deny → 500 only meanwhile", { skip: noRedis }, async () => {
  const { report } = await soakWith("redis-stop", "deny");
  assert.match(report, /fault redis-stop: .* [1-9]\d* got 5xx/);
});

test("the Authorino stand-in killed: auth (failureMode deny) answers 500 while it is gone, 401/200 after", async () => {
  const { report } = await soakWith("authorino-kill", "allow");
  assert.match(report, /fault authorino-kill: .* [1-9]\d* got 5xx/);
});

test("the model resets SSE streams mid-way: the client sees the reset, the Report counts nothing, never twice", async () => {
  const { report } = await soakWith("sse-reset", "allow");
  assert.match(report, /[1-9]\d* cut mid-stream by the model \(injected: [1-9]\d*\)/);
  assert.match(report, /\+ 5xx 0 \+/);
});
