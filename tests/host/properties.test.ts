// Property paths and Envoy's value encodings (research/proxy-wasm-abi.md §3).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost, Prop, serializeProperty, encodePairs, decodePairs } from "../../host/index.js";
import { fixtureWasm, GET } from "../helpers/wasm.js";

const hex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString("hex") : null);

test("encodings: strings raw, ints 8-byte LE, doubles f64 LE, bools 1 byte, timestamps ns, maps as pairs, null unserializable", () => {
  assert.equal(hex(serializeProperty("abc")), "616263");
  assert.equal(hex(serializeProperty(Prop.int(45000))), "c8af000000000000");
  assert.equal(hex(serializeProperty(Prop.double(1.5))), "000000000000f83f");
  assert.equal(hex(serializeProperty(true)), "01");
  assert.equal(hex(serializeProperty(Prop.timestampNs(1730987538880438000n))), "f09e98d5feb30518");
  assert.equal(hex(serializeProperty(Prop.map({ a: "1", b: "22" }))), "0200000001000000010000000100000002000000610031006200323200");
  assert.equal(serializeProperty(null), null);
});

test("pairs codec round-trips and treats truncated input as empty, as Envoy does", () => {
  const encoded = encodePairs([["a", "1"], ["b", "22"]]);
  assert.equal(encoded.length, 29);
  assert.deepEqual(decodePairs(encoded), [["a", "1"], ["b", "22"]]);
  assert.deepEqual(decodePairs(encoded.subarray(0, 20)), []);
});

async function readProperty(spec: string, options = {}): Promise<string> {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"));
  await host.request({ headers: GET("/p/q?x=1", [["x-probe-property", spec], ["user-agent", "ua"]]) }, { upstream: () => ({ status: 200 }), ...options });
  host.close();
  return host.logs.map((l) => l.message).find((m) => m.startsWith(`property ${spec} `))!;
}

test("request.* from the held request headers: path keeps the query, url_path does not", async () => {
  assert.equal(await readProperty("request|path"), `property request|path status=0 hex=${Buffer.from("/p/q?x=1").toString("hex")}`);
  assert.equal(await readProperty("request|url_path"), `property request|url_path status=0 hex=${Buffer.from("/p/q").toString("hex")}`);
  assert.equal(await readProperty("request|headers|user-agent"), `property request|headers|user-agent status=0 hex=${Buffer.from("ua").toString("hex")}`);
});

test("ext_authz dynamic metadata: strings raw, JSON numbers as doubles; a missing key is NOT_FOUND", async () => {
  const dynamicMetadata = { "envoy.filters.http.ext_authz": { identity: { userid: "alice", tier: "free", quota: 3 } } };
  const base = "metadata|filter_metadata|envoy.filters.http.ext_authz|identity|";
  assert.equal(await readProperty(base + "userid", { dynamicMetadata }), `property ${base}userid status=0 hex=616c696365`);
  assert.equal(await readProperty(base + "quota", { dynamicMetadata }), `property ${base}quota status=0 hex=0000000000000840`);
  assert.equal(await readProperty(base + "nope", { dynamicMetadata }), `property ${base}nope status=1 hex=`);
});

test("source.address is ip:port and source.port an int64", async () => {
  const source = { address: "10.0.0.7", port: 45000 };
  assert.equal(await readProperty("source|address", { source }), `property source|address status=0 hex=${Buffer.from("10.0.0.7:45000").toString("hex")}`);
  assert.equal(await readProperty("source|port", { source }), "property source|port status=0 hex=c8af000000000000");
});

test("set_property stores wasm.<name> filter state, readable by its name and via filter_state", async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"));
  await host.request({ headers: GET("/x", [["x-probe", "set-filter-state"]]) }, { upstream: () => ({ status: 200 }) });
  const m = host.logs.map((l) => l.message);
  assert.ok(m.includes("property probe.state status=0 hex=68656c6c6f"), m.join("\n"));
  assert.ok(m.includes("property filter_state|wasm.probe.state status=0 hex=68656c6c6f"));
  host.close();
});

test("plugin_name and plugin_root_id are readable", async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"), { pluginName: "kuadrant-wasm", rootId: "kuadrant_wasm" });
  await host.request({ headers: GET("/x", [["x-probe-property", "plugin_root_id"]]) }, { upstream: () => ({ status: 200 }) });
  assert.ok(host.logs.some((l) => l.message === `property plugin_root_id status=0 hex=${Buffer.from("kuadrant_wasm").toString("hex")}`));
  host.close();
});
