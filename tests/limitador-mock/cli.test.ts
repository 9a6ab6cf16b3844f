// The `limitador-mock` command: Limitador's flags, --validate, --help, a real process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LimitadorClient } from "../helpers/limitador-client.js";
import { unusedAddress } from "../helpers/raw-grpc-server.js";

const BIN = new URL("../../limitador-mock/bin.mjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "limitador-cli-"));
const good = join(dir, "limits.yaml");
writeFileSync(good, "- namespace: ns\n  max_value: 1\n  seconds: 60\n  conditions: []\n  variables: []\n");
const bad = join(dir, "bad.yaml");
writeFileSync(bad, "- namespace: ns\n  max_value: 1\n  conditions: []\n  variables: []\n");

test("--validate prints the normalized limits and exits 0; a bad file exits 1 naming the problem", () => {
  const ok = spawnSync(process.execPath, [BIN, "--validate", good], { encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /- id: null\n {2}namespace: ns\n {2}max_value: 1\n {2}seconds: 60/);
  const ko = spawnSync(process.execPath, [BIN, "--validate", bad], { encoding: "utf8" });
  assert.equal(ko.status, 1);
  assert.match(ko.stderr, /Invalid limit file: .*\[0\]\.seconds \(line 1\): missing field `seconds`/s);
});

test("--help documents Limitador's flags", () => {
  const r = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0);
  for (const flag of ["--rls-ip", "--rls-port", "--http-ip", "--http-port", "--metric-labels-default", "--limit-name-in-labels", "--rate-limit-headers", "--validate", "redis <URL>"]) assert.ok(r.stdout.includes(flag), flag);
});

test("runs as a process with -p/-P and serves gRPC and HTTP", async (t) => {
  const grpcPort = Number((await unusedAddress()).split(":")[1]);
  const httpPort = Number((await unusedAddress()).split(":")[1]);
  const child = spawn(process.execPath, [BIN, "-b", "127.0.0.1", "-p", String(grpcPort), "-B", "127.0.0.1", "-P", String(httpPort), "--metric-labels-default", "descriptors[1]", good, "memory"], { stdio: ["ignore", "ignore", "pipe"] });
  t.after(() => child.kill());
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const end = Date.now() + 60000;
  while (!/gRPC on :/.test(stderr)) {
    if (Date.now() > end) throw new Error(`did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const client = new LimitadorClient(`127.0.0.1:${grpcPort}`);
  assert.equal((await client.shouldRateLimit("ns", [{ a: "b" }, { user: "u" }])).overall_code, "OK");
  assert.equal((await client.shouldRateLimit("ns", [{ a: "b" }])).overall_code, "OVER_LIMIT");
  client.close();
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  assert.match(metrics, /^authorized_calls\{user="u",limitador_namespace="ns"\} 1$/m);
});

test("a port already in use is reported clearly", async (t) => {
  const net = await import("node:net");
  const blocker = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => blocker.once("listening", r));
  t.after(() => blocker.close());
  const port = (blocker.address() as import("node:net").AddressInfo).port;
  const r = spawnSync(process.execPath, [BIN, "-B", "127.0.0.1", "-P", String(port), "-p", "0", good], { encoding: "utf8", timeout: 60000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /port already in use/);
});
