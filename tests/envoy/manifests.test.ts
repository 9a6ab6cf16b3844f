// The real Envoy path must be right by construction and by schema: envoy.yaml parsed strictly
// with Envoy's protos, the Istio WasmPlugin validated with @kubernetes-models/istio, and every
// file derived from the one plugin configuration the local stack runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync, writeFileSync, mkdtempSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";
import { WasmPlugin } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin";
import {
  renderEnvoyYaml, renderWasmPlugin, renderTypedPluginConfig, PLUGIN_CONFIG_FILE, ENVOY_YAML, WASMPLUGIN_YAML, VM_CONFIG,
  PLUGIN_CONFIG_TYPED_FILE, ENVOY_TYPED_YAML, WASMPLUGIN_TYPED_YAML,
} from "../../envoy/render.js";
import { FILTER_STATS_TAGS } from "../../host/stats-tags.js";
import { extractTags } from "../../host/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const pluginConfig = readFileSync(PLUGIN_CONFIG_FILE, "utf8");

function python(): string | null {
  for (const candidate of [`${ROOT}.venv-envoy/bin/python`, "python3"]) {
    const probe = spawnSync(candidate, ["-c", "import envoy.config.bootstrap.v3.bootstrap_pb2, yaml"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  return null;
}
const py = python();
if (!py && process.env.REQUIRE_SERVICES) throw new Error("Envoy protos are required here (REQUIRE_SERVICES is set): bash scripts/setup-envoy-protos.sh");

test("envoy.yaml and the WasmPlugin are the render of local/config/plugin-config.json (one source of truth)", () => {
  assert.equal(readFileSync(ENVOY_YAML, "utf8"), renderEnvoyYaml(pluginConfig), "run `npm run envoy:render`");
  assert.equal(readFileSync(WASMPLUGIN_YAML, "utf8"), renderWasmPlugin(pluginConfig), "run `npm run envoy:render`");
});

test("the typed twin (operator main's shape) and its envoy-typed.yaml and WasmPlugin are the render of the same configuration", () => {
  const typed = readFileSync(PLUGIN_CONFIG_TYPED_FILE, "utf8");
  assert.equal(typed, renderTypedPluginConfig(pluginConfig), "run `npm run envoy:render`");
  assert.equal(readFileSync(ENVOY_TYPED_YAML, "utf8"), renderEnvoyYaml(typed, "local/config/plugin-config-typed.json"), "run `npm run envoy:render`");
  assert.equal(readFileSync(WASMPLUGIN_TYPED_YAML, "utf8"), renderWasmPlugin(typed, "local/config/plugin-config-typed.json"), "run `npm run envoy:render`");
  const doc = JSON.parse(typed);
  assert.ok(Object.values<any>(doc.services).every((s) => s.type === "dynamic"), "every service is dynamic, as operator main emits");
  assert.ok(doc.actionSets.every((set: any) => set.actions.every((a: any) => typeof a.type === "string")), "every action is typed");
  assert.equal(doc.requestData, undefined);
  // No ext_authz in front: the typed auth action calls Authorino, as the classic one does.
  assert.ok(!readFileSync(ENVOY_TYPED_YAML, "utf8").includes("envoy.filters.http.ext_authz"));
});

test("envoy-typed.yaml parses strictly as an Envoy v3 Bootstrap too, and the typed WasmPlugin passes the istio.io schema", { skip: py ? false : "Envoy protos not installed" }, () => {
  const r = spawnSync(py!, [`${ROOT}tests/envoy/validate_bootstrap.py`, ENVOY_TYPED_YAML], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const manifest = parse(readFileSync(WASMPLUGIN_TYPED_YAML, "utf8"));
  new WasmPlugin(manifest).validate();
});

test("envoy.yaml parses strictly as an Envoy v3 Bootstrap (xds-protos)", { skip: py ? false : "Envoy protos not installed (python3 -m venv .venv-envoy && .venv-envoy/bin/pip install xds-protos pyyaml); CI installs them" }, () => {
  const r = spawnSync(py!, [`${ROOT}tests/envoy/validate_bootstrap.py`, ENVOY_YAML], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const summary = JSON.parse(r.stdout.slice(3));
  assert.deepEqual(summary.listeners, [10000]);
  assert.equal(summary.admin_port, 9901);
  assert.deepEqual(summary.http2_clusters, ["limitador", "kuadrant-ratelimit-service", "authorino", "kuadrant-auth-service"]);
  assert.deepEqual(summary.stats_tags, ["model_name", "target_model_name", "tier", "user", "response_code", "error_class"]);
});

test("the strict check does catch mistakes (an unknown field, a wrong type)", { skip: py ? false : "Envoy protos not installed" }, () => {
  const dir = mkdtempSync("/tmp/envoy-");
  for (const [what, mutate] of [
    ["unknown field", (s: string) => s.replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n                stat_prefx: typo")],
    ["wrong type", (s: string) => s.replace("port_value: 10000", "port_value: ten-thousand")],
    ["unknown typed_config", (s: string) => s.replace("filters.http.router.v3.Router", "filters.http.router.v3.Routr")],
  ] as const) {
    writeFileSync(`${dir}/bad.yaml`, mutate(readFileSync(ENVOY_YAML, "utf8")));
    const r = spawnSync(py!, [`${ROOT}tests/envoy/validate_bootstrap.py`, `${dir}/bad.yaml`], { encoding: "utf8" });
    assert.equal(r.status, 1, `${what} was accepted`);
  }
});

test("envoy.yaml wires what the filter needs: clusters the config names, the plugin and VM configuration, the wasm path", () => {
  const doc = parse(readFileSync(ENVOY_YAML, "utf8"));
  const hcm = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  const wasm = hcm.http_filters.find((f: any) => f.name === "envoy.filters.http.wasm").typed_config.config;
  assert.deepEqual(JSON.parse(wasm.configuration.value), JSON.parse(pluginConfig));
  assert.deepEqual(JSON.parse(wasm.vm_config.configuration.value), VM_CONFIG);
  assert.equal(wasm.vm_config.code.local.filename, "build/filter.wasm");
  assert.ok(existsSync(`${ROOT}build/filter.wasm`));
  const clusters = new Set(doc.static_resources.clusters.map((c: any) => c.name));
  for (const svc of Object.values(JSON.parse(pluginConfig).services) as any[]) assert.ok(clusters.has(svc.endpoint), `cluster ${svc.endpoint}`);
  assert.deepEqual(hcm.http_filters.map((f: any) => f.name), ["envoy.filters.http.wasm", "envoy.filters.http.router"], "the auth action calls Authorino itself: no ext_authz");
  const withoutAuth = JSON.parse(pluginConfig);
  delete withoutAuth.services["auth-service"];
  for (const set of withoutAuth.actionSets) set.actions = set.actions.filter((a: any) => a.service !== "auth-service");
  const istioStyle = parse(renderEnvoyYaml(JSON.stringify(withoutAuth)));
  assert.equal(istioStyle.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].name, "envoy.filters.http.ext_authz");
});

test("the stats_tags regexes extract the labels the filter encodes", () => {
  assert.deepEqual(extractTags("wasmcustom.model_name=.=opt-125m;.;tier=.=free;.;inference_model_request_total", FILTER_STATS_TAGS),
    { name: "wasmcustom.inference_model_request_total", labels: [["model_name", "opt-125m"], ["tier", "free"]] });
});

test("the Istio WasmPlugin passes the istio.io schema and carries the same plugin configuration", () => {
  const manifest = parse(readFileSync(WASMPLUGIN_YAML, "utf8"));
  const plugin = new WasmPlugin(manifest);
  plugin.validate();
  assert.equal(manifest.spec.phase, "STATS", "after Istio's authn/authz, so ext_authz metadata is there");
  assert.deepEqual(manifest.spec.pluginConfig, JSON.parse(pluginConfig));
  const broken = new WasmPlugin({ ...manifest, spec: { ...manifest.spec, phase: "EARLY" } });
  assert.throws(() => broken.validate());
});

test("the Kuadrant policies match the local stack: TelemetryPolicy labels = requestData, limits = limits.yaml", () => {
  const config = JSON.parse(pluginConfig);
  const docs = parseAllDocuments(readFileSync(`${ROOT}envoy/kuadrant/policies.yaml`, "utf8")).map((d) => d.toJS());
  const byKind = Object.fromEntries(docs.map((d: any) => [d.kind, d]));
  assert.deepEqual(Object.keys(byKind).sort(), ["AuthPolicy", "Limitador", "RateLimitPolicy", "TelemetryPolicy", "TokenRateLimitPolicy"]);
  const labels = byKind.TelemetryPolicy.spec.metrics.default.labels;
  assert.deepEqual(Object.fromEntries(Object.entries(labels).map(([k, v]) => [`metrics.labels.${k}`, v])), config.requestData);
  assert.equal(byKind.Limitador.spec.metricLabelsDefault, "descriptors[1]");
  const limitsYaml = parse(readFileSync(`${ROOT}local/config/limits.yaml`, "utf8"));
  const perMinute = (name: string) => limitsYaml.find((l: any) => l.name === name).max_value;
  for (const [tier, limit] of Object.entries(byKind.RateLimitPolicy.spec.limits) as any) {
    assert.equal(limit.rates[0].limit, perMinute(tier), `${tier} requests`);
    assert.equal(limit.rates[0].window, "1m");
  }
  for (const [name, limit] of Object.entries(byKind.TokenRateLimitPolicy.spec.limits) as any) {
    assert.equal(limit.rates[0].limit, perMinute(name), `${name} tokens`);
  }
});
