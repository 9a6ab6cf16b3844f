// The 10-second version of `npm run soak`: the local stack under the client mix, then exact books
// (clients = gateway = Limitador metrics and counters), zero 5xx, every request answered, and
// the gateway's memory flat.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSoak } from "../../local/soak/run.js";

test("10-second soak, 16 clients: the books balance exactly and memory stays flat", async () => {
  const logs: string[] = [];
  const result = await runSoak({ seconds: 10, clients: 16, seed: 7, timeoutMs: 5000, log: (l) => logs.push(l) });
  const report = [...result.books.lines, result.memory.line, ...logs].join("\n");
  assert.deepEqual(result.books.violations, [], report);
  assert.ok(result.records > 50, `only ${result.records} requests:\n${report}`);
  assert.match(report, /\+ 5xx 0 \+ other 0 \+ no answer 0/);
  // Judged once the run is long enough to warm up (it is on an idle machine; under stress-ng it may not be).
  if (result.memory.judged) assert.ok(result.memory.flat, result.memory.line);
});
