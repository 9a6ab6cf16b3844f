// A trap fails the VM; later streams follow the failure policy (research/proxy-wasm-abi.md §2.8).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost } from "../../host/index.js";
import { fixtureWasm, GET } from "../helpers/wasm.js";

const up = () => ({ status: 200, body: "upstream" });

test("FAIL_CLOSED (default): the trapping stream and every later one get 503", async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"));
  const first = await host.request({ headers: GET("/x", [["x-probe", "trap-headers"]]) }, { upstream: up });
  assert.equal(first.response.status, 503);
  assert.match(first.stream.errors[0], /proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
  assert.equal(host.vm.failed, true);
  const second = await host.request({ headers: GET("/y") }, { upstream: up });
  assert.equal(second.response.status, 503);
  host.close();
});

test("FAIL_OPEN: the failed filter is skipped, requests reach upstream untouched", async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"), { failurePolicy: "FAIL_OPEN" });
  const first = await host.request({ headers: GET("/x", [["x-probe", "trap-headers"]]) }, { upstream: up });
  assert.equal(first.response.status, 200);
  assert.equal(first.response.body.toString(), "upstream");
  const second = await host.request({ headers: GET("/y") }, { upstream: up });
  assert.equal(second.response.status, 200);
  assert.ok(!second.response.headers.some(([k]) => k === "x-probe-seen"), "filter not run");
  host.close();
});

test("FAIL_RELOAD: the failing stream gets 503, the next one runs on a fresh VM", async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"), { failurePolicy: "FAIL_RELOAD" });
  const first = await host.request({ headers: GET("/x", [["x-probe", "trap-response"]]) }, { upstream: up });
  assert.equal(first.response.status, 503);
  const second = await host.request({ headers: GET("/y") }, { upstream: up });
  assert.equal(second.response.status, 200);
  assert.ok(second.response.headers.some(([k]) => k === "x-probe-seen"), "filter ran on the new VM");
  assert.equal(host.reloads, 1);
  host.close();
});
