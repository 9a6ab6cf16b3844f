// Envoy's link step: what a module may import and must export (research/proxy-wasm-abi.md §1.3, §2.1).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost, WasmLoadError, checkModule, readWasmSurface } from "../../host/index.js";
import { ENVOY_ENV_IMPORTS } from "../../host/envoy-abi.js";
import { filterWasm, fixtureWasm } from "../helpers/wasm.js";

test("a module importing env.abort is refused, as Envoy refuses it", async () => {
  await assert.rejects(EnvoyHost.start(fixtureWasm("imports-env-abort")),
    (err: Error) => err instanceof WasmLoadError && /missing import: env\.abort/.test(err.message));
});

test("the old SDKs' 10-parameter proxy_grpc_call is an import type mismatch", () => {
  assert.throws(() => checkModule(fixtureWasm("old-sdk-grpc-call")),
    /import type mismatch: env\.proxy_grpc_call, want \(i32(,i32){9}\)->\(i32\), but host exports \(i32(,i32){11}\)->\(i32\)/);
});

test("proxy_clear_route_cache (ABI 0.1.0 only) is a missing import", () => {
  assert.throws(() => checkModule(fixtureWasm("clear-route-cache")), /missing import: env\.proxy_clear_route_cache/);
});

test("a module without malloc or proxy_on_memory_allocate is refused", () => {
  assert.throws(() => checkModule(fixtureWasm("no-malloc")), /missing malloc function/);
});

test("calling a non-whitelisted host function during _initialize traps (restricted_callback)", async () => {
  await assert.rejects(EnvoyHost.start(fixtureWasm("restricted-init")), /restricted_callback: proxy_define_metric/);
});

test("build/filter.wasm imports only what Envoy provides, with Envoy's signatures, and exports the ABI surface", () => {
  const wasm = filterWasm();
  checkModule(wasm);
  const surface = readWasmSurface(wasm);
  for (const imp of surface.imports) {
    assert.equal(imp.module, "env", `${imp.module}.${imp.name}`);
    assert.ok(ENVOY_ENV_IMPORTS[imp.name], imp.name);
  }
  const exports = new Set(surface.exports.map((e) => e.name));
  for (const name of ["memory", "proxy_abi_version_0_2_1", "malloc", "_initialize", "proxy_on_context_create",
    "proxy_on_configure", "proxy_on_request_headers", "proxy_on_response_headers", "proxy_on_response_body",
    "proxy_on_log", "proxy_on_done", "proxy_on_delete", "proxy_on_grpc_receive", "proxy_on_grpc_close"]) {
    assert.ok(exports.has(name), `missing export ${name}`);
  }
  assert.ok(!exports.has("proxy_on_memory_allocate"), "export exactly one allocator");
});
