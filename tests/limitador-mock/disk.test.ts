// `disk PATH`: counters in a file that outlive the process, with Limitador's disk-storage semantics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMock } from "../helpers/limitador-mock.js";

const LIMITS = `
- namespace: tok
  name: tokens
  max_value: 10
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
`;

test("counters survive a restart on the same PATH", async (t) => {
  const path = mkdtempSync(join(tmpdir(), "limitador-disk-"));
  const first = await startMock(t, LIMITS, { storage: { kind: "disk", path } });
  for (let i = 0; i < 4; i++) assert.equal((await first.client.shouldRateLimit("tok", [{ user: "alice" }], 2)).overall_code, "OK");
  await first.close();
  const second = await startMock(t, LIMITS, { storage: { kind: "disk", path } });
  assert.equal((await second.client.shouldRateLimit("tok", [{ user: "alice" }], 2)).overall_code, "OK", "8 + 2 = 10");
  assert.equal((await second.client.shouldRateLimit("tok", [{ user: "alice" }])).overall_code, "OVER_LIMIT");
  const [counter] = await (await second.http("/counters/tok")).json();
  assert.equal(counter.remaining, 0);
});

test("as Limitador's disk storage: a Report is written only if it keeps the counter within max; a new counter's Reset is the whole window", async (t) => {
  const path = mkdtempSync(join(tmpdir(), "limitador-disk-"));
  const m = await startMock(t, LIMITS, { storage: { kind: "disk", path }, rateLimitHeaders: "DRAFT_VERSION_03" });
  const first = await m.client.shouldRateLimit("tok", [{ user: "bob" }]);
  assert.equal(first.response_headers_to_add.find((h) => h.key === "X-RateLimit-Reset")!.value, "60");
  await m.client.report("tok", [{ user: "bob" }], 20); // 1 + 20 > 10: dropped
  let [counter] = await (await m.http("/counters/tok")).json();
  assert.equal(counter.remaining, 9);
  await m.client.report("tok", [{ user: "bob" }], 9);
  [counter] = await (await m.http("/counters/tok")).json();
  assert.equal(counter.remaining, 0);
  assert.ok(counter.expires_in_seconds >= 58 && counter.expires_in_seconds <= 60, "window ends are kept in whole seconds");
});

test("a counter left on disk by a limit that is gone makes /counters fail, as it panics in Limitador", async (t) => {
  const path = mkdtempSync(join(tmpdir(), "limitador-disk-"));
  const before = await startMock(t, LIMITS, { storage: { kind: "disk", path } });
  await before.client.shouldRateLimit("tok", [{ user: "carol" }]);
  await before.close();
  const after = await startMock(t, LIMITS.replace("seconds: 60", "seconds: 30"), { storage: { kind: "disk", path } });
  await assert.rejects(after.http("/counters/tok"), "the connection is dropped without an answer");
  assert.equal((await after.client.shouldRateLimit("tok", [{ user: "carol" }])).overall_code, "OK", "the server keeps serving");
});

test("a limit removed by a reload takes its stored counters with it: a restart finds no orphan", async (t) => {
  const { writeFileSync } = await import("node:fs");
  const path = mkdtempSync(join(tmpdir(), "limitador-disk-"));
  const two = LIMITS + "- namespace: tok\n  name: other\n  max_value: 5\n  seconds: 30\n  conditions: []\n  variables: [\"descriptors[0].user\"]\n";
  const m = await startMock(t, two, { storage: { kind: "disk", path } });
  await m.client.shouldRateLimit("tok", [{ user: "dana" }]);
  writeFileSync(m.limitsFile, LIMITS);
  const end = Date.now() + 10000;
  while (!m.logs.some((l) => /limits reloaded/.test(l)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await m.close();
  const again = await startMock(t, LIMITS, { storage: { kind: "disk", path } });
  const counters = await (await again.http("/counters/tok")).json();
  assert.deepEqual(counters.map((c: any) => c.limit.name), ["tokens"]);
});
