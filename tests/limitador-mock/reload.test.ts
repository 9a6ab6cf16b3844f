// Hot reload: counters survive a max_value change, an atomic rename is picked up, a bad file keeps
// the old limits (research/limitador.md §3 "Hot reload").
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { startMock } from "../helpers/limitador-mock.js";

const limits = (max: number, seconds = 60) => `
- namespace: ns
  max_value: ${max}
  seconds: ${seconds}
  conditions: []
  variables: ["descriptors[0].user"]
`;

async function until(check: () => Promise<boolean>, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await check()) return; await new Promise((r) => setTimeout(r, 25)); }
  throw new Error("condition not reached");
}

const version = async (m: Awaited<ReturnType<typeof startMock>>) => (await (await m.http("/status")).json()).config_version;

test("changing only max_value keeps the counters", async (t) => {
  const m = await startMock(t, limits(3));
  for (let i = 0; i < 3; i++) await m.client.shouldRateLimit("ns", [{ user: "a" }]);
  assert.equal((await m.client.shouldRateLimit("ns", [{ user: "a" }])).overall_code, "OVER_LIMIT");
  writeFileSync(m.limitsFile, limits(5));
  await until(async () => (await version(m)) === 1);
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push((await m.client.shouldRateLimit("ns", [{ user: "a" }])).overall_code);
  assert.deepEqual(codes, ["OK", "OK", "OVER_LIMIT"], "3 hits were kept: 2 more fit under 5");
});

test("an atomic rename in the same directory is picked up (Limitador issue #523)", async (t) => {
  const m = await startMock(t, limits(1));
  const tmp = join(m.dir, "limits.yaml.tmp");
  writeFileSync(tmp, limits(1, 30));
  renameSync(tmp, m.limitsFile);
  await until(async () => (await (await m.http("/limits/ns")).json())[0]?.seconds === 30);
  assert.equal(await version(m), 1);
});

test("a bad file keeps the old limits and counts the error", async (t) => {
  const m = await startMock(t, limits(1));
  await m.client.shouldRateLimit("ns", [{ user: "a" }]);
  writeFileSync(m.limitsFile, "- namespace: ns\n  seconds: x\n");
  await until(async () => (await (await m.http("/status")).json()).config_err_since === 1);
  assert.equal((await m.client.shouldRateLimit("ns", [{ user: "a" }])).overall_code, "OVER_LIMIT", "old limit and counter still in force");
  assert.ok(m.logs.some((l) => l.startsWith("Failed reloading limit file: ")), m.logs.join("\n"));
});

test("a new condition is a new limit with fresh counters", async (t) => {
  const m = await startMock(t, limits(1));
  await m.client.shouldRateLimit("ns", [{ user: "a" }]);
  writeFileSync(m.limitsFile, limits(1).replace("conditions: []", "conditions: [\"descriptors[0].user != ''\"]"));
  await until(async () => (await version(m)) === 1);
  assert.equal((await m.client.shouldRateLimit("ns", [{ user: "a" }])).overall_code, "OK");
});
