// gRPC calls as Envoy makes them: real grpc-js to named clusters, token scheme, timeouts,
// failures on proxy_on_grpc_close, replies outliving their stream (research/proxy-wasm-abi.md §2.6).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost } from "../../host/index.js";
import { fixtureWasm, GET } from "../helpers/wasm.js";
import { startRawGrpcServer, unusedAddress } from "../helpers/raw-grpc-server.js";

let grpc: Awaited<ReturnType<typeof startRawGrpcServer>>;
let down: string;
before(async () => {
  grpc = await startRawGrpcServer({
    "/probe.Echo/Call": async (message) => {
      const text = message.toString();
      if (text.includes("slow")) await new Promise((r) => setTimeout(r, 300));
      if (text.includes("hang")) await new Promise(() => {}); // never answers: the deadline decides
      if (text.includes("fail")) return { code: 8, details: "quota gone" };
      return Buffer.from(`echo:${text}`);
    },
  });
  down = await unusedAddress();
});
after(() => grpc.close());

const start = async () => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"), { clusters: { echo: grpc.address, down }, logLevel: 0 });
  await host.warmClusters();
  return host;
};
const messages = (host: EnvoyHost) => host.logs.map((l) => l.message);

test("the call reaches the server with its path, bare message, initial metadata and deadline", async () => {
  const host = await start();
  const before = Date.now();
  await host.request({ headers: GET("/meta", [["x-probe-grpc", "echo"], ["x-probe-timeout", "2500"]]) }, { upstream: () => ({ status: 200 }) });
  const call = grpc.calls.at(-1)!;
  assert.equal(call.path, "/probe.Echo/Call");
  assert.equal(call.message.toString(), "/meta");
  assert.equal(call.metadata["x-probe-md"], "1");
  assert.ok(call.deadline !== null && call.deadline >= before + 2400 && call.deadline <= Date.now() + 2600, `deadline ${call.deadline}`);
  host.close();
});

test("tokens follow cpp-host's gRPC scheme 5, 9, 13", async () => {
  const host = await start();
  for (const p of ["/1", "/2", "/3"]) await host.request({ headers: GET(p, [["x-probe-grpc", "echo"]]) }, { upstream: () => ({ status: 200 }) });
  assert.deepEqual(messages(host).filter((m) => m.startsWith("grpc dispatch")).map((m) => m.split("token=")[1]), ["5", "9", "13"]);
  host.close();
});

test("a non-OK status arrives on proxy_on_grpc_close with proxy_get_status's message", async () => {
  const host = await start();
  const { response } = await host.request({ headers: GET("/fail", [["x-probe-grpc", "echo"]]) }, { upstream: () => ({ status: 200 }) });
  assert.equal(response.status, 500);
  assert.ok(messages(host).includes("grpc failure ctx=2 token=5 status=8 message=quota gone"), messages(host).join("\n"));
  assert.ok(!messages(host).some((m) => m.startsWith("grpc reply")), "exactly one of receive/close");
  host.close();
});

test("an unreachable cluster closes with UNAVAILABLE (14)", async () => {
  const host = await start();
  const { response } = await host.request({ headers: GET("/x", [["x-probe-grpc", "down"]]) }, { upstream: () => ({ status: 200 }) });
  assert.equal(response.body.toString(), "grpc failed 14");
  host.close();
});

test("a timeout closes with DEADLINE_EXCEEDED (4)", async () => {
  const host = await start();
  const { response } = await host.request({ headers: GET("/hang", [["x-probe-grpc", "echo"], ["x-probe-timeout", "50"]]) }, { upstream: () => ({ status: 200 }) });
  assert.equal(response.body.toString(), "grpc failed 4");
  host.close();
});

test("an unknown cluster is PARSE_FAILURE (4) at dispatch", async () => {
  const host = await start();
  const { response } = await host.request({ headers: GET("/x", [["x-probe-grpc", "nosuchcluster"]]) }, { upstream: () => ({ status: 200 }) });
  assert.ok(messages(host).includes("grpc dispatch status=4 token=0"));
  assert.equal(response.body.toString(), "dispatch 4");
  host.close();
});

test("a stream reset while its call is in flight: the late reply is dropped, nothing crashes, the VM lives on", async () => {
  const host = await start();
  const stream = await host.newStream();
  stream.sendRequestHeaders(GET("/slow", [["x-probe-grpc", "echo"], ["x-probe-timeout", "30000"]]), true);
  stream.reset();
  assert.deepEqual(stream.calls.slice(-3), ["proxy_on_log", "proxy_on_done", "proxy_on_delete"]);
  await host.grpcIdle(); // the reply (after 300 ms) has come back
  assert.equal(host.vm.failed, false);
  assert.ok(messages(host).some((m) => /grpc reply for token 5 dropped: its stream is gone/.test(m)), messages(host).join("\n"));
  const { response } = await host.request({ headers: GET("/after", [["x-probe-grpc", "echo"]]) }, { upstream: () => ({ status: 200 }) });
  assert.equal(response.status, 200);
  host.close();
});
