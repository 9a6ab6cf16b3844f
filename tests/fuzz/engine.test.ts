// The fuzz engine itself: a trap is caught, reported with its inputs, and replays from them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FuzzEngine } from "./engine.js";
import { fixtureWasm } from "../helpers/wasm.js";
import type { RequestCase } from "./generators.js";

const trapping: RequestCase = {
  headers: [[":method", "GET"], [":path", "/x"], [":authority", "h"], ["x-probe", "trap-headers"]],
  dynamicMetadata: {}, filterState: {}, replies: {},
  upstream: { status: 200, contentType: "text/plain", chunks: ["ok"] },
};

test("a trap is reported with its configuration and requests, and replays from them", async () => {
  const engine = new FuzzEngine(fixtureWasm("probe-filter"), 1);
  const failure = await engine.replay({ config: "", requests: [trapping], index: 7 });
  assert.equal(failure?.kind, "trap");
  assert.equal(failure?.index, 7);
  assert.deepEqual(failure?.requests, [trapping]);
  const again = await engine.replay(JSON.parse(JSON.stringify(failure)));
  assert.equal(again?.kind, "trap", "the JSON reproducer replays");
  const clean = await engine.replay({ config: "", requests: [{ ...trapping, headers: trapping.headers.slice(0, 3) }], index: 8 });
  assert.equal(clean, null);
  engine.close();
});
