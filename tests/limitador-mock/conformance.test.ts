// Conformance: one scenario (tests/helpers/conformance/) run against limitador-mock and compared,
// normalised, with the transcript recorded from the real Limitador (tests/fixtures/limitador-
// conformance.json); with LIMITADOR_BIN pointing at a `limitador-server`, against that one too, live.
//   LIMITADOR_BIN=/path/to/limitador-server npm run test:node -- conformance
//   LIMITADOR_BIN=... node --import tsx tests/helpers/conformance/record.ts   (re-records the fixture)
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { runTranscript, type Transcript } from "../helpers/conformance/record.js";

const FIXTURE = new URL("../fixtures/limitador-conformance.json", import.meta.url);
const recorded = JSON.parse(readFileSync(FIXTURE, "utf8")) as Transcript & { limitador: string };

function assertSameTranscript(actual: Transcript, expected: Transcript, what: string): void {
  for (const part of ["server", "cli"] as const) {
    const a = actual[part], e = expected[part];
    assert.deepEqual(a.map((s) => s.step), e.map((s) => s.step), `${what}: the same ${part} steps`);
    // Through JSON, as the recorded transcript was (undefined fields drop out).
    for (let i = 0; i < e.length; i++) assert.deepEqual(JSON.parse(JSON.stringify(a[i].result)), JSON.parse(JSON.stringify(e[i].result)), `${what}, ${part} step "${e[i].step}"`);
  }
}

test(`limitador-mock answers the scenario as Limitador ${recorded.limitador} did (recorded transcript)`, async () => {
  const mock = await runTranscript("mock");
  assertSameTranscript(mock, recorded, "mock vs recorded Limitador");
});

const bin = process.env.LIMITADOR_BIN;
const skip = !bin ? "LIMITADOR_BIN is not set: point it at a limitador-server binary to compare live (the recorded transcript is compared above)"
  : !existsSync(bin) ? `LIMITADOR_BIN=${bin} does not exist` : false;

test("limitador-mock and a live limitador-server give identical normalised transcripts", { skip }, async () => {
  const [real, mock] = [await runTranscript("real"), await runTranscript("mock")];
  assertSameTranscript(mock, real, "mock vs live Limitador");
});
