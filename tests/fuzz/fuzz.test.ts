// 10,000 seeded fuzz cases in process (the same engine as `npm run fuzz`): mutated configurations,
// hostile requests, ext_authz metadata and filter state, gRPC replies and response bodies. The
// filter may refuse or fail a request; it never traps, never hangs a stream, never leaves one stuck.
// (tests/filter/fuzz.test.ts does the same over real gRPC, with fewer cases.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { FuzzEngine } from "./engine.js";
import { filterWasm } from "../helpers/wasm.js";

test("10,000 seeded cases (seed 20261201): no trap, hang or stuck stream", async () => {
  const engine = new FuzzEngine(filterWasm(), 20261201, 64);
  try {
    for (let i = 0; i < 10000; i++) await engine.runCase(i);
  } finally {
    engine.close();
  }
  const { failures, ...stats } = engine.stats;
  const first = failures[0];
  assert.equal(failures.length, 0, first && `${first.kind} in case ${first.index}: ${first.detail}\nreplay: npm run fuzz -- --seed ${first.seed} --case ${first.index} --config-one-in 64`);
  assert.equal(stats.cases, 10000);
  assert.ok(stats.configCases > 100 && stats.configsAccepted > 10, `configurations: ${JSON.stringify(stats)}`);
});
