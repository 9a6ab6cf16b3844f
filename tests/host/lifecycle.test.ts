// Start-up order, context ids and the per-stream callback order (research/proxy-wasm-abi.md §1.7, §2.2, §2.3).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost } from "../../host/index.js";
import { fixtureWasm, GET } from "../helpers/wasm.js";

const probe = () => fixtureWasm("probe-filter");
const callbacks = (host: EnvoyHost) => host.logs.map((l) => l.message).filter((m) => m.startsWith("cb ")).map((m) => m.split(" ").slice(0, 3).join(" "));

test("root start: context_create(1, 0) → vm_start with the VM config → configure with the plugin config", async () => {
  const host = await EnvoyHost.start(probe(), { pluginConfig: "{\"a\":1}", vmConfig: "vmconf", logLevel: 0 });
  assert.equal(host.configured, true);
  assert.deepEqual(host.logs.slice(0, 2).map((l) => l.message), ["cb on_vm_start root=1 vm_config=vmconf", "cb on_configure root=1 config={\"a\":1}"]);
  host.close();
});

test("on_configure returning false marks the plugin unconfigured", async () => {
  const host = await EnvoyHost.start(probe(), { pluginConfig: "reject" });
  assert.equal(host.configured, false);
  host.close();
});

test("a trap in on_configure fails the VM and the configuration", async () => {
  const host = await EnvoyHost.start(probe(), { pluginConfig: "trap" });
  assert.equal(host.configured, false);
  assert.equal(host.vm.failed, true);
  assert.match(host.logText().join("\n"), /Function: proxy_on_configure failed: Uncaught RuntimeError: unreachable/);
  host.close();
});

test("streams get ids 2, 3, … created lazily; callbacks run headers → body → response → log → done → delete", async () => {
  const host = await EnvoyHost.start(probe(), { logLevel: 0 });
  const upstream = () => ({ status: 200, body: ["ab", "cd"] });
  await host.request({ headers: [[":method", "POST"], [":path", "/a"], [":authority", "h"]], body: "hello" }, { upstream });
  await host.request({ headers: GET("/b") }, { upstream });
  assert.deepEqual(callbacks(host), [
    "cb on_vm_start root=1", "cb on_configure root=1",
    "cb on_context_create ctx=2", "cb on_request_headers ctx=2", "cb on_request_body ctx=2",
    "cb on_response_headers ctx=2", "cb on_response_body ctx=2", "cb on_response_body ctx=2",
    "cb on_log ctx=2", "cb on_done ctx=2", "cb on_delete ctx=2",
    "cb on_context_create ctx=3", "cb on_request_headers ctx=3",
    "cb on_response_headers ctx=3", "cb on_response_body ctx=3", "cb on_response_body ctx=3",
    "cb on_log ctx=3", "cb on_done ctx=3", "cb on_delete ctx=3",
  ]);
  host.close();
});

test("header count and end_of_stream arguments are Envoy's (count of pairs; eos=1 for bodiless requests)", async () => {
  const host = await EnvoyHost.start(probe(), { logLevel: 0 });
  await host.request({ headers: GET("/x") }, { upstream: () => ({ status: 204 }), generateRequestId: false });
  const messages = host.logs.map((l) => l.message);
  assert.ok(messages.includes("cb on_request_headers ctx=2 n=4 eos=1 pairs=4"), messages.join("\n"));
  assert.ok(messages.some((m) => m.startsWith("cb on_response_headers ctx=2 n=1 eos=1 status=204")));
  assert.ok(!messages.some((m) => m.startsWith("cb on_response_body")), "no body callback for a bodiless response");
  host.close();
});

test("on_log order is configurable: Envoy (log, done, delete) or the spec's (done, log, delete)", async () => {
  const host = await EnvoyHost.start(probe(), { onLogOrder: "spec" });
  const { stream } = await host.request({ headers: GET("/x") }, { upstream: () => ({ status: 200 }) });
  assert.deepEqual(stream.calls.slice(-3), ["proxy_on_done", "proxy_on_log", "proxy_on_delete"]);
  host.close();
});

test("HCM adds x-request-id when the client sent none", async () => {
  const host = await EnvoyHost.start(probe());
  const { stream } = await host.request({ headers: GET("/x") }, { upstream: () => ({ status: 200 }) });
  assert.match(stream.forwarded.headers.find(([k]) => k === "x-request-id")![1], /^[0-9a-f-]{36}$/);
  host.close();
});
