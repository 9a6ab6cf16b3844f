// Runs the conformance scenario against one Limitador and returns its transcript. Run directly with
// LIMITADOR_BIN set, it records the real Limitador's transcript as the fixture the suite compares
// the mock with:  LIMITADOR_BIN=/path/limitador-server node --import tsx tests/helpers/conformance/record.ts
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand, startTarget } from "./target.js";
import { CUSTOM_LABELS, LIMITS, runScenario, serverArgs, type Step } from "./scenario.js";
import { runCliScenario } from "./cli-scenario.js";

export interface Transcript { server: Step[]; cli: Step[] }

export async function runTranscript(name: "mock" | "real"): Promise<Transcript & { startupMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "limitador-conformance-"));
  const files = { limits: join(dir, "limits.yaml"), labels: join(dir, "labels.yaml"), bad: join(dir, "bad.yaml"), missing: join(dir, "missing.yaml") };
  writeFileSync(files.limits, LIMITS);
  writeFileSync(files.labels, CUSTOM_LABELS);
  writeFileSync(files.bad, "- namespace: ns\n  max_value: 1\n  conditions: []\n  variables: []\n");
  const target = await startTarget(name, (ports) => serverArgs(files.limits, files.labels, ports));
  let server: Step[];
  try {
    server = await runScenario(target);
  } finally {
    await target.stop();
  }
  const cli = await runCliScenario(name, files);
  return { server, cli, startupMs: target.startupMs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const version = (await runCommand("real", ["-V"])).stdout.trim();
  const { server, cli } = await runTranscript("real");
  const out = fileURLToPath(new URL("../../fixtures/limitador-conformance.json", import.meta.url));
  // RECORD_NOTE: how that binary was built, when it is not a plain release build of a tagged commit.
  writeFileSync(out, JSON.stringify({ limitador: version.replace(/^Limitador Server /, ""), note: process.env.RECORD_NOTE ?? null, server, cli }, null, 1) + "\n");
  console.log(`recorded ${server.length} server and ${cli.length} CLI steps from ${version} into ${out}`);
}
