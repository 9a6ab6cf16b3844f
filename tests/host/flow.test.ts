// Pause/continue, deferred local replies that re-enter the response callbacks, header maps and
// bodies per phase (research/proxy-wasm-abi.md §2.3–§2.5).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost } from "../../host/index.js";
import { fixtureWasm, GET } from "../helpers/wasm.js";
import { startRawGrpcServer } from "../helpers/raw-grpc-server.js";

let grpc: Awaited<ReturnType<typeof startRawGrpcServer>>;
let release: (() => void) | null = null;
before(async () => {
  grpc = await startRawGrpcServer({
    "/probe.Echo/Call": async (message) => {
      if (message.toString().includes("hold")) await new Promise<void>((resolve) => { release = resolve; });
      return Buffer.from(`echo:${message.toString()}`);
    },
  });
});
after(() => grpc.close());

const start = async (opts = {}) => {
  const host = await EnvoyHost.start(fixtureWasm("probe-filter"), { clusters: { echo: grpc.address }, logLevel: 0, ...opts });
  await host.warmClusters();
  return host;
};
const messages = (host: EnvoyHost) => host.logs.map((l) => l.message);

test("a paused request holds its body: no body callback until continue, then one accumulated chunk", async () => {
  const host = await start();
  const stream = await host.newStream({ upstream: () => ({ status: 200 }) });
  stream.sendRequestHeaders([[":method", "POST"], [":path", "/hold"], [":authority", "h"], ["x-probe-grpc", "echo"], ["x-probe-timeout", "30000"]], false);
  stream.sendRequestBody("part1-", false);
  stream.sendRequestBody("part2", true);
  assert.equal(stream.requestPaused, true);
  assert.ok(!stream.calls.includes("proxy_on_request_body"), "body must not reach a filter paused on headers");
  assert.equal(stream.forwarded.headersForwarded, false);
  await stream.waitFor(() => release !== null, 30000);
  release!(); release = null;
  const response = await stream.completion;
  assert.equal(response.status, 200);
  assert.ok(messages(host).includes("cb on_request_body ctx=2 size=11 eos=1"), messages(host).join("\n"));
  assert.equal(stream.forwarded.body.toString(), "part1-part2");
  host.close();
});

test("continue from a gRPC callback needs the effective context: the reply lands on the root context", async () => {
  const host = await start();
  const { response } = await host.request({ headers: GET("/ok", [["x-probe-grpc", "echo"]]) }, { upstream: () => ({ status: 200, body: "up" }) });
  assert.equal(response.status, 200);
  const reply = host.logs.find((l) => l.message.startsWith("grpc reply"))!;
  assert.equal(reply.message, "grpc reply ctx=2 token=5 text=echo:/ok");
  // Logged after proxy_set_effective_context(2): the host attributes it to the stream.
  assert.equal(reply.contextId, 2);
  host.close();
});

test("a local reply is deferred, forces a stop, and re-enters this filter's response callbacks", async () => {
  const host = await start();
  const { stream, response } = await host.request({ headers: GET("/x", [["x-probe", "local-reply"]]) }, { upstream: () => { throw new Error("must not be called"); } });
  assert.equal(response.status, 429);
  assert.equal(response.body.toString(), "Too Many Requests\n");
  assert.deepEqual(response.headers.filter(([k]) => k !== ":status"), [["content-length", "18"], ["content-type", "text/plain"], ["x-probe-reason", "limit"], ["x-probe-seen", "1"]]);
  assert.equal(stream.localReply!.details, "probe_denied");
  assert.equal(stream.forwarded.headersForwarded, false, "nothing goes upstream");
  assert.ok(messages(host).includes("cb on_response_headers ctx=2 n=4 eos=0 status=429"));
  assert.ok(messages(host).includes("cb on_response_body ctx=2 size=18 eos=1 text=Too Many Requests\n"));
  host.close();
});

test("a second local reply while the first is encoding hangs the stream, as in Envoy (envoy#28826)", async () => {
  const host = await start();
  const stream = await host.newStream();
  stream.sendRequestHeaders(GET("/x", [["x-probe", "local-reply,local-reply-twice"]]), true);
  assert.equal(stream.hung, true);
  assert.match(stream.errors.join(), /Envoy would hang/);
  assert.equal(stream.finished, false);
  host.close();
});

test("request headers are unreachable once the filter continued (BAD_ARGUMENT, property NOT_FOUND)", async () => {
  const host = await start();
  await host.request({ headers: [[":method", "POST"], [":path", "/p"], [":authority", "h"], ["x-probe", "read-after-continue"]], body: "b" }, { upstream: () => ({ status: 200 }) });
  assert.ok(messages(host).includes("after-continue header absent"));
  assert.ok(messages(host).includes("after-continue property status=1"));
  host.close();
});

test("in on_log, headers are readable again and request.* properties come back", async () => {
  const host = await start();
  await host.request({ headers: GET("/logged") }, { upstream: () => ({ status: 201 }) });
  assert.ok(messages(host).includes("cb on_log ctx=2 status=201 request.path=/logged"));
  host.close();
});

test("header writes in on_request_headers reach upstream; response header writes reach the client", async () => {
  const host = await start();
  const { stream, response } = await host.request({ headers: GET("/x", [["x-probe", "add-request-header"]]) }, { upstream: () => ({ status: 200 }) });
  assert.deepEqual(stream.forwarded.headers.find(([k]) => k === "x-probe-added"), ["x-probe-added", "yes"]);
  assert.deepEqual(response.headers.find(([k]) => k === "x-probe-seen"), ["x-probe-seen", "1"]);
  host.close();
});

test("StopIterationAndBuffer accumulates the body; set_buffer_bytes(0, 0, x) prepends", async () => {
  const host = await start();
  const stream = await host.newStream({ upstream: () => ({ status: 200 }) });
  stream.sendRequestHeaders([[":method", "POST"], [":path", "/b"], [":authority", "h"], ["x-probe", "buffer-request-body"]], false);
  stream.sendRequestBody("abc", false);
  stream.sendRequestBody("def", true);
  await stream.completion;
  const bodies = messages(host).filter((m) => m.startsWith("cb on_request_body"));
  assert.deepEqual(bodies, ["cb on_request_body ctx=2 size=3 eos=0", "cb on_request_body ctx=2 size=6 eos=1"]);
  assert.ok(messages(host).includes("request body abcdef"));
  assert.equal(stream.forwarded.body.toString(), "probe:abcdef");
  host.close();
});

test("a response with trailers never delivers eos=1 to the body callback", async () => {
  const host = await start();
  await host.request({ headers: GET("/t") }, { upstream: () => ({ status: 200, body: "x", trailers: [["grpc-status", "0"]] }) });
  assert.ok(messages(host).includes("cb on_response_body ctx=2 size=1 eos=0 text=x"));
  host.close();
});
