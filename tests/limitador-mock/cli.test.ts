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
  assert.equal(ko.stderr, "Invalid limit file: Couldn't parse: .[0]: missing field `seconds` at line 1 column 3\n", "serde_yaml's words, as Limitador prints them");
});

test("--help documents Limitador's flags", () => {
  const r = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0);
  for (const flag of ["--rls-ip", "--rls-port", "--http-ip", "--http-port", "--metric-labels-default", "--limit-name-in-labels", "--rate-limit-headers", "--validate", "--custom-metric-labels", "--tracing-endpoint", "--structured-logs", "--grpc-reflection-service", "redis_cached"]) assert.ok(r.stdout.includes(flag), flag);
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

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env } });

test("15: -V/--version prints the Limitador version the mock answers as", () => {
  for (const flag of ["-V", "--version"]) {
    const r = run([flag]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Limitador Server v2\.4\.0-dev \(limitador-mock [\d.]+\) \[\] mock\n$/);
  }
});

test("15: the flags Limitador accepts are accepted (-L, --tracing-endpoint, --structured-logs, --grpc-reflection-service, memory --cache, disk, redis_cached)", () => {
  const labels = join(dir, "labels.yaml");
  writeFileSync(labels, "tier: descriptors[0].tier\n");
  const accepted = [
    ["-L", labels, "--validate", good],
    ["--custom-metric-labels", labels, "--validate", good],
    ["--tracing-endpoint", "http://127.0.0.1:4317", "--structured-logs", "--grpc-reflection-service", "-vvvv", "--validate", good],
    ["--validate", good, "memory", "--cache", "1000"],
    ["--validate", good, "memory", "-c", "10"],
    ["--validate", good, "disk", join(dir, "db")],
    ["--validate", good, "disk", "--optimize", "disk", join(dir, "db")],
    ["--validate", good, "redis_cached", "redis://127.0.0.1:1", "--batch-size", "10", "--flush-period", "500", "--max-cached", "5", "--response-timeout", "100"],
  ];
  for (const args of accepted) assert.equal(run(args).status, 0, `${args.join(" ")}: ${run(args).stderr}`);
});

test("15: -H values are case-sensitive and --validate checks -H and --metric-labels-default too (exit 2, clap's message)", () => {
  const lower = run(["--validate", "-H", "draft_version_03", good]);
  assert.equal(lower.status, 2);
  assert.equal(lower.stderr.split("\n")[0], "error: invalid value 'draft_version_03' for '--rate-limit-headers <rate_limit_headers>'");
  assert.match(lower.stderr, /\[possible values: NONE, DRAFT_VERSION_03\]/);
  const cel = run(["--validate", "--metric-labels-default", "descriptors[", good]);
  assert.equal(cel.status, 2);
  assert.match(cel.stderr, /^error: invalid value 'descriptors\[' for '--metric-labels-default <metric_labels_default>': couldn't parse descriptors\[/);
  const env = run(["--validate", good], { RATE_LIMIT_HEADERS: "draft" });
  assert.equal(env.status, 2, "a default taken from the environment is checked too");
  for (const args of [["--validate", "-p", "70000", good], ["--validate", good, "etcd"], ["--validate", good, "disk"], ["--validate", "--nope", good], ["--validate"]]) assert.equal(run(args).status, 2, args.join(" "));
});

test("16: bin.mjs starts from one JavaScript bundle, rebuilt only when a source is newer (no TypeScript compiled at start)", async () => {
  const { cpSync, mkdirSync, statSync, symlinkSync, utimesSync } = await import("node:fs");
  const root = new URL("../../", import.meta.url).pathname;
  const copy = mkdtempSync(join(tmpdir(), "limitador-bundle-"));
  for (const part of ["limitador-mock", "proto", "package.json"]) cpSync(join(root, part), join(copy, part), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
  mkdirSync(join(copy, "build"));
  const bin = join(copy, "limitador-mock/bin.mjs"), bundle = join(copy, "build/limitador-mock.mjs");
  const version = () => spawnSync(process.execPath, [bin, "-V"], { encoding: "utf8" });
  assert.equal(version().status, 0);
  const built = statSync(bundle).mtimeMs;
  assert.equal(version().status, 0);
  assert.equal(statSync(bundle).mtimeMs, built, "fresh: not rebuilt");
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(copy, "limitador-mock/limiter.ts"), later, later);
  assert.equal(version().status, 0);
  assert.ok(statSync(bundle).mtimeMs > built, "a newer source: rebuilt");
});
