// The first run: a plugin configuration without an auth action still works in `npm start` (ext_authz
// goes in front, as envoy/envoy.yaml does, and the launcher says so), and `npm install` has no
// dependency install script left unreviewed (npm ≥ 11 warns about each one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startStackProcess } from "../helpers/stack-process.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

test("a plugin configuration without an auth action: ext_authz in front by itself, announced, the identity reaches the filter", async (t) => {
  const config = JSON.parse(readFileSync(`${ROOT}local/config/plugin-config.json`, "utf8"));
  delete config.services["auth-service"];
  for (const set of config.actionSets) set.actions = set.actions.filter((a: any) => a.service !== "auth-service");
  const dir = mkdtempSync("/tmp/first-run-");
  writeFileSync(`${dir}/plugin.json`, JSON.stringify(config));
  const s = await startStackProcess(t, ["--plugin-config", `${dir}/plugin.json`]);
  assert.match(s.output(), /has no auth action, so Envoy's ext_authz filter asks Authorino/);
  assert.match(s.output(), /gateway +http:\/\/127\.0\.0\.1:\d+ +\(ext_authz → wasm filter/);
  assert.equal((await s.chat("nobody")).status, 401);
  assert.equal((await s.chat("alice-free-key")).status, 200);
  // Her identity reached the filter: Limitador counted her call under her user and tier.
  await new Promise((r) => setTimeout(r, 150));
  assert.match(await s.limitadorMetrics(), /^authorized_calls\{model="facebook-opt-125m-simulated",tier="free",user="alice",[^}]*\} [1-9]/m);
  assert.doesNotMatch(s.output(), /no such key: auth\.identity/);
});

test("the default configuration (with an auth action) gets no ext_authz and no note", async (t) => {
  const s = await startStackProcess(t);
  assert.doesNotMatch(s.output(), /ext_authz/);
});

test("every dependency install script is reviewed in package.json allowScripts (npm install prints no warning)", (t) => {
  // Under `npm test`, nested scripts find node_modules/.bin first, where @as-pect/cli's dependency
  // chain (glob-promise → npm-install-peers) installs an npm 6: ask the npm installed on the machine.
  const PATH = (process.env.PATH ?? "").split(":").filter((dir) => !dir.includes("node_modules")).join(":");
  const npm = spawnSync("npm", ["install-scripts", "ls"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH } });
  if (npm.error || /Unknown command|Usage: npm/i.test(npm.stdout + npm.stderr)) return t.skip("this npm has no install-scripts command (older than 11; it runs install scripts unasked)");
  assert.equal(npm.status, 0, npm.stderr);
  assert.match(npm.stdout, /No packages with unreviewed install scripts/, npm.stdout);
});
