// Kuadrant's newer configuration (wasm-shim ≥ 0.13, operator main): typed actions on `dynamic`
// services, through the same pipeline as the classic shape, over real gRPC. Each classic MaaS
// fixture is also run as its typed twin (envoy/typed-config.ts: what operator main emits for the
// same policies) and must send Limitador and Authorino the same things and answer the same way.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestLimitador, type Answer, type DecodedRequest } from "../helpers/test-limitador.js";
import { startTestAuthorino, type AuthAnswer } from "../helpers/test-authorino.js";
import { startFilter, configFixture, chatRequest, upstreamChat, identity } from "../helpers/filter-host.js";
import { toTypedConfig } from "../../envoy/typed-config.js";

const KEYS: Record<string, { userid: string; tier: string }> = { "key-alice": { userid: "alice", tier: "free" }, "key-bob": { userid: "bob", tier: "premium" }, "key-erin": { userid: "erin", tier: "enterprise" } };
const defaultAuth = (req: any): AuthAnswer => {
  const key = (req.attributes.request.http.headers.authorization ?? "").replace(/^APIKEY /, "");
  const id = KEYS[key];
  return id ? { ok: { identity: id, headers: [["x-maas-user", id.userid]] } } : { denied: { status: 401, headers: [["www-authenticate", "APIKEY realm=\"maas\""]], body: "unauthorized\n" } };
};
let auth: (req: any) => AuthAnswer = defaultAuth;
let rl: (req: DecodedRequest) => Answer = () => ({ overall_code: "OK" });
let authorino: Awaited<ReturnType<typeof startTestAuthorino>>;
let limitador: Awaited<ReturnType<typeof startTestLimitador>>;
before(async () => {
  authorino = await startTestAuthorino((r) => auth(r));
  limitador = await startTestLimitador((r) => rl(r));
});
after(async () => { await authorino.close(); await limitador.close(); });

const clusters = () => ({ "kuadrant-auth-service": authorino.address, "kuadrant-ratelimit-service": limitador.address });
const start = (config: unknown) => startFilter(config, { clusters: clusters() });
const asUser = (key: string) => chatRequest("maas.apps.example.com", undefined, [["authorization", `APIKEY ${key}`]]);
const reset = () => { auth = defaultAuth; rl = () => ({ overall_code: "OK" }); authorino.requests.length = 0; limitador.requests.length = 0; };
const settle = () => new Promise((r) => setTimeout(r, 50)); // Reports are fire-and-forget

/** A classic fixture with auth, request limits and a token limit (check + report). */
function maasFull(): any {
  const c = configFixture("maas-auth");
  const tokens = configFixture("maas-tokens");
  Object.assign(c.services, tokens.services);
  c.actionSets[0].actions.push(...tokens.actionSets[0].actions);
  return c;
}

/** What one scenario did, in a shape both config shapes must agree on. */
async function scenario(config: unknown) {
  reset();
  const host = await start(config);
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  const outcomes: unknown[] = [];
  for (const [key, answer] of [["key-alice", "OK"], ["key-bob", "OK"], ["key-alice", "OVER_LIMIT"], ["nobody", "OK"], ["key-erin", "OK"]] as const) {
    rl = (req) => ({ overall_code: req.method === "ShouldRateLimit" ? answer : "OK", response_headers_to_add: [{ key: "x-ratelimit-remaining", value: answer === "OK" ? "4" : "0" }] });
    const { response, stream } = await host.request(asUser(key), { upstream: upstreamChat({ prompt: 11, completion: 7 }) });
    await settle();
    outcomes.push({ status: response.status, body: response.status === 200 ? "" : response.body.toString(), remaining: response.headers.find(([k]) => k === "x-ratelimit-remaining")?.[1], upstreamUser: stream.forwarded.headers.find(([k]) => k === "x-maas-user")?.[1] ?? null });
  }
  const calls = limitador.requests.map((r) => ({ method: r.method, domain: r.domain, descriptors: r.descriptors, hits: r.hits_addend }));
  const checks = authorino.requests.map((r: any) => ({ host: r.attributes.request.http.host, path: r.attributes.request.http.path, method: r.attributes.request.http.method, key: r.attributes.request.http.headers.authorization, ctx: r.attributes.context_extensions, source: r.attributes.source.address.socket_address.address.replace(/:\d+$/, ""), labels: Object.keys(r.attributes.metadata_context?.filter_metadata?.["io.kuadrant.metrics.labels"]?.fields ?? {}).sort() }));
  host.close();
  return { outcomes, calls, checks };
}

test("the MaaS policies as operator main emits them answer exactly as the classic config: same calls, same outcomes", async () => {
  const classic = maasFull();
  const typed = toTypedConfig(classic);
  assert.equal(typed.actionSets[0].actions[0].type, "store", "body values come from a store action, as operator main emits");
  const a = await scenario(classic);
  const b = await scenario(typed);
  assert.deepEqual(b.outcomes, a.outcomes);
  // (The typed builder sends `source.address` as Envoy has it, "ip:port", like wasm-shim; our classic
  // auth sends the IP alone, as Envoy's ext_authz does: compared without the port.)
  assert.deepEqual(b.checks, a.checks);
  // Counting calls are identical. The typed actions after auth are `parallel` (operator main), so
  // the read-only token check is also made for a request its request limit rejects; the classic
  // chain stops at the 429.
  const counting = (calls: any[]) => calls.filter((c) => c.method !== "CheckRateLimit");
  assert.deepEqual(counting(b.calls), counting(a.calls));
  const checks = (calls: any[]) => calls.filter((c) => c.method === "CheckRateLimit").map((c) => JSON.stringify(c));
  assert.deepEqual(checks(b.calls).filter((c) => !checks(a.calls).includes(c)).length <= 1, true);
  assert.ok(checks(a.calls).every((c) => checks(b.calls).includes(c)));
  // And what that is: alice (free) is limited per request and per token; bob only per request.
  assert.deepEqual(a.outcomes.map((o: any) => o.status), [200, 200, 429, 401, 200]);
  assert.deepEqual(a.calls.filter((c: any) => c.method === "Report").map((c: any) => c.hits), [18]);
  assert.deepEqual(a.calls[0], { method: "ShouldRateLimit", domain: "llm/facebook-opt-125m-simulated-kserve-route", hits: 1, descriptors: [
    { "limit.free__340814a7": "1", "auth.identity.userid": "alice" }, { user: "alice", tier: "free", model: "facebook-opt-125m-simulated" }] });
});

test("every classic fixture and its typed twin send Limitador the same requests", async () => {
  for (const name of ["maas-ratelimit", "maas-tokens"]) {
    const classic = configFixture(name);
    const results = [];
    for (const config of [classic, toTypedConfig(classic)]) {
      reset();
      const host = await start(config);
      assert.equal(host.configured, true, host.logText(3).join("\n"));
      for (const [user, tier] of [["alice", "free"], ["bob", "premium"], ["erin", "enterprise"]]) {
        await host.request(chatRequest(), { ...identity(user, tier), upstream: upstreamChat({ prompt: 3, completion: 4 }) });
      }
      await settle();
      results.push(limitador.requests.map((r) => [r.method, r.domain, r.descriptors, r.hits_addend]));
      host.close();
    }
    assert.deepEqual(results[1], results[0], name);
    assert.ok(results[0].length >= 2, `${name}: the scenario reaches Limitador`);
  }
});

test("auth (typed): identity drives the limits, ok_response headers reach the upstream, the identity is exported as filter state", async () => {
  reset();
  const host = await start(toTypedConfig(maasFull()));
  const { response, stream } = await host.request(asUser("key-alice"), { upstream: upstreamChat() });
  assert.equal(response.status, 200);
  assert.equal(stream.forwarded.headers.find(([k]) => k === "x-maas-user")?.[1], "alice");
  const fs = stream.attributes().get("filter_state") as Map<string, Uint8Array>;
  assert.ok(fs.has("wasm.kuadrant.auth"), "store.exportToHost writes filter state kuadrant.auth");
  const labels = authorino.requests[0].attributes.metadata_context.filter_metadata["io.kuadrant.metrics.labels"].fields;
  assert.equal(labels.user.structValue.fields.cel_expr.stringValue, "auth.identity.userid");
  assert.equal(labels.model.stringValue, "facebook-opt-125m-simulated");
  host.close();
});

test("typed onReply: an unknown rate-limit code is a terminal fail (500); an auth answer with unsupported fields too", async () => {
  reset();
  const host = await start(toTypedConfig(maasFull()));
  rl = () => ({ overall_code: "UNKNOWN" });
  assert.equal((await host.request(asUser("key-alice"), { upstream: upstreamChat() })).response.status, 500);
  rl = () => ({ overall_code: "OK" });
  auth = () => ({ ok: { identity: { userid: "alice", tier: "free" }, responseHeadersToAdd: [["x-extra", "1"]] } });
  assert.equal((await host.request(asUser("key-alice"), { upstream: upstreamChat() })).response.status, 500);
  host.close();
});

test("failure modes (typed): Authorino down → deny → 500; Limitador down → allow → the request goes on", async () => {
  reset();
  const { unusedAddress } = await import("../helpers/raw-grpc-server.js");
  const down = await unusedAddress();
  const typed = toTypedConfig(maasFull());
  const authDown = await startFilter(typed, { clusters: { ...clusters(), "kuadrant-auth-service": down } });
  const r1 = await authDown.request(asUser("key-alice"), { upstream: upstreamChat() });
  assert.equal(r1.response.status, 500);
  assert.equal(r1.response.body.toString(), "Internal Server Error.\n");
  authDown.close();
  const rlDown = await startFilter(typed, { clusters: { ...clusters(), "kuadrant-ratelimit-service": down } });
  assert.equal((await rlDown.request(asUser("key-alice"), { upstream: upstreamChat() })).response.status, 200);
  rlDown.close();
});

test("hazard §6.3 #8 does not happen: a post-auth typed limit with failureMode deny answers 500 when Limitador fails", async () => {
  reset();
  const typed = toTypedConfig(maasFull());
  typed.services["ratelimit-service"].failureMode = "deny";
  rl = (req) => (req.method === "ShouldRateLimit" ? { grpcError: 14, details: "down" } : { overall_code: "OK" });
  const host = await start(typed);
  let upstreamCalls = 0;
  const { response } = await host.request(asUser("key-alice"), { upstream: () => { upstreamCalls++; return upstreamChat()(); } });
  assert.equal(response.status, 500);
  assert.equal(upstreamCalls, 0);
  host.close();
});

/** Operator main with a pre-auth limit (#2153): [store(response body), ratelimit(sequential), auth, check, report]. */
function preAuthLayout(): any {
  const typed = toTypedConfig(maasFull());
  const actions = typed.actionSets[0].actions;
  const rlIndex = actions.findIndex((a: any) => a.service === "ratelimit-service");
  const preAuth = actions.splice(rlIndex, 1)[0];
  preAuth.execution = "sequential";
  preAuth.predicate = "true";
  preAuth.messageBuilder = `envoy.service.ratelimit.v3.RateLimitRequest{domain: "llm/ip", hits_addend: 1u, descriptors: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor{entries: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry{key: "ip", value: source.remote_address}]}]}`;
  actions.splice(1, 0, preAuth);
  return typed;
}

test("hazard §6.3 #2 does not happen: a response-body store before a sequential pre-auth limit never lets the request through unchecked", async () => {
  reset();
  let releaseLimit!: () => void;
  const limitHeld = new Promise<void>((r) => { releaseLimit = r; });
  rl = (req) => (req.domain === "llm/ip" ? { until: limitHeld, then: { overall_code: "OK" } } : { overall_code: "OK" });
  const host = await start(preAuthLayout());
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  const stream = await host.newStream({ source: { address: "10.9.8.7", port: 4000 }, upstream: upstreamChat() });
  const req = asUser("key-alice");
  stream.sendRequestHeaders(req.headers, false);
  stream.sendRequestBody(req.body, true);
  await stream.waitFor(() => limitador.requests.length === 1);
  assert.deepEqual(limitador.requests[0].descriptors, [{ ip: "10.9.8.7" }]);
  assert.equal(stream.requestPaused, true, "held while the pre-auth limit is in flight");
  assert.equal(authorino.requests.length, 0, "auth waits for the sequential limit before it");
  releaseLimit();
  const response = await stream.completion;
  assert.equal(response.status, 200);
  assert.equal(authorino.requests.length, 1);
  await settle();
  assert.deepEqual(limitador.requests.map((r) => r.method), ["ShouldRateLimit", "CheckRateLimit", "Report"]);
  host.close();
});

test("execution fences: parallel actions after auth are in flight together; the request waits for both", async () => {
  reset();
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  rl = (req) => (req.method === "Report" ? { overall_code: "OK" } : { until: held, then: { overall_code: "OK" } });
  const host = await start(toTypedConfig(maasFull()));
  const stream = await host.newStream({ upstream: upstreamChat() });
  const req = asUser("key-alice");
  stream.sendRequestHeaders(req.headers, false);
  stream.sendRequestBody(req.body, true);
  await stream.waitFor(() => limitador.requests.length === 2);
  assert.deepEqual(limitador.requests.map((r) => r.method).sort(), ["CheckRateLimit", "ShouldRateLimit"]);
  assert.equal(stream.requestPaused, true);
  release();
  assert.equal((await stream.completion).status, 200);
  host.close();
});

test("a typed config whose sequential actions would wait for each other loads with a warning and checks everything", async () => {
  reset();
  const typed = toTypedConfig(configFixture("maas-auth"));
  const actions = typed.actionSets[0].actions;
  // The limit reads auth.* (written by auth's onReply store) yet is declared before auth, sequential.
  const limit = actions.pop();
  limit.execution = "sequential";
  actions.unshift(limit);
  actions[1].execution = "sequential";
  const host = await start(typed);
  assert.equal(host.configured, true);
  assert.ok(host.logs.some((l) => l.level === 3 && l.message.includes("the declared order is not kept")), host.logText(3).join("\n"));
  const { response } = await host.request(asUser("key-alice"), { upstream: upstreamChat() });
  assert.equal(response.status, 200);
  assert.equal(authorino.requests.length, 1);
  assert.equal(limitador.requests.length, 1, "the limit ran, after auth");
  host.close();
});

test("store, headers, deny and fail actions", async () => {
  reset();
  const config = {
    services: { lim: { type: "dynamic", endpoint: "kuadrant-ratelimit-service", failureMode: "deny", timeout: "5s", grpcService: "envoy.service.ratelimit.v3.RateLimitService", grpcMethod: "ShouldRateLimit" } },
    actionSets: [{ name: "s", routeRuleConditions: { hostnames: ["*"] }, actions: [
      { type: "store", predicate: "true", terminal: false, path: "probe.tenant", value: "request.headers['x-tenant']", exportToHost: true },
      { type: "headers", predicate: "has(probe.tenant)", terminal: false, target: "request", headers: "[['x-tenant-seen', probe.tenant]]" },
      { type: "deny", predicate: "probe.tenant == 'blocked'", terminal: true, denyWith: "DenyResponse{status: 403u, headers: [['x-reason', 'blocked tenant']], body: 'no\\n'}" },
      { type: "fail", predicate: "probe.tenant == 'broken'", terminal: true, logMessage: "broken tenant" },
      { type: "grpc", predicate: "true", terminal: false, var: "rl", service: "lim", messageBuilder: "envoy.service.ratelimit.v3.RateLimitRequest{domain: 't', hits_addend: 1u, descriptors: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor{entries: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry{key: 'tenant', value: probe.tenant}]}]}",
        onReply: [{ type: "headers", predicate: "rl.overall_code == 1", terminal: false, target: "response", headers: "rl.response_headers_to_add + [['x-tenant', probe.tenant]]" }] },
    ] }],
  };
  rl = () => ({ overall_code: "OK", response_headers_to_add: [{ key: "x-ratelimit-remaining", value: "9" }] });
  const host = await start(config);
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  const get = (tenant: string) => host.request({ headers: [[":method", "GET"], [":path", "/"], [":authority", "h"], ["x-tenant", tenant]] }, { upstream: () => ({ status: 200, body: "ok" }) });
  const ok = await get("acme");
  assert.equal(ok.response.status, 200);
  assert.equal(ok.stream.forwarded.headers.find(([k]) => k === "x-tenant-seen")?.[1], "acme");
  assert.deepEqual(ok.response.headers.filter(([k]) => k === "x-ratelimit-remaining" || k === "x-tenant"), [["x-ratelimit-remaining", "9"], ["x-tenant", "acme"]]);
  assert.deepEqual(limitador.requests[0].descriptors, [{ tenant: "acme" }]);
  const exported = (ok.stream.attributes().get("filter_state") as Map<string, Uint8Array>).get("wasm.kuadrant.probe.tenant")!;
  assert.deepEqual([...exported], [0x1a, 4, ...Buffer.from("acme")], "a scalar is exported as a google.protobuf.Value");
  const blocked = await get("blocked");
  assert.equal(blocked.response.status, 403);
  assert.equal(blocked.response.body.toString(), "no\n");
  assert.equal(blocked.response.headers.find(([k]) => k === "x-reason")?.[1], "blocked tenant");
  assert.equal((await get("broken")).response.status, 500);
  assert.equal(limitador.requests.length, 1, "deny and fail stop the pipeline before the call");
  host.close();
});

test("a store below a stored reply writes a copy: the reply bound to the var keeps its values", async () => {
  reset();
  const config = {
    services: { lim: { type: "dynamic", endpoint: "kuadrant-ratelimit-service", failureMode: "deny", timeout: "5s", grpcService: "envoy.service.ratelimit.v3.RateLimitService", grpcMethod: "ShouldRateLimit" } },
    actionSets: [{ name: "s", routeRuleConditions: { hostnames: ["*"] }, actions: [
      { type: "grpc", predicate: "true", terminal: false, var: "rl", service: "lim",
        messageBuilder: "envoy.service.ratelimit.v3.RateLimitRequest{domain: 'd', hits_addend: 1u, descriptors: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor{entries: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry{key: 'k', value: 'v'}]}]}",
        onReply: [
          { type: "store", predicate: "true", terminal: false, path: "saved.reply", value: "rl" },
          { type: "store", predicate: "true", terminal: false, path: "saved.reply.overall_code", value: "7" },
          { type: "headers", predicate: "true", terminal: false, target: "response", headers: "[['x-rl', string(rl.overall_code)], ['x-saved', string(saved.reply.overall_code)], ['x-items', string(size(rl.response_headers_to_add))]]" },
        ] },
    ] }],
  };
  rl = () => ({ overall_code: "OK" });
  const host = await start(config);
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  for (let i = 0; i < 2; i++) {
    const { response } = await host.request({ headers: [[":method", "GET"], [":path", "/"], [":authority", "h"]] }, { upstream: () => ({ status: 200, body: "ok" }) });
    assert.equal(response.status, 200, host.logText(3).join("\n"));
    assert.deepEqual(response.headers.filter(([k]) => k.startsWith("x-rl") || k === "x-saved" || k === "x-items"), [["x-rl", "1"], ["x-saved", "7"], ["x-items", "0"]]);
  }
  host.close();
});

test("a typed builder that does not fit its method fails that action only (failureMode), with a warning at configure time", async () => {
  reset();
  const config = {
    services: { lim: { type: "dynamic", endpoint: "kuadrant-ratelimit-service", failureMode: "deny", grpcService: "envoy.service.ratelimit.v3.RateLimitService", grpcMethod: "ShouldRateLimit" } },
    actionSets: [
      { name: "wrong-type", routeRuleConditions: { hostnames: ["a.example.com"] }, actions: [{ type: "grpc", predicate: "true", terminal: false, var: "r", service: "lim", messageBuilder: "envoy.service.auth.v3.CheckRequest{}" }] },
      { name: "int-for-uint", routeRuleConditions: { hostnames: ["b.example.com"] }, actions: [{ type: "grpc", predicate: "true", terminal: false, var: "r", service: "lim", messageBuilder: "envoy.service.ratelimit.v3.RateLimitRequest{domain: 'd', hits_addend: 1}" }] },
    ],
  };
  const host = await start(config);
  assert.equal(host.configured, true);
  assert.ok(host.logs.some((l) => l.level === 3 && l.message.includes("builds a envoy.service.auth.v3.CheckRequest but envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit takes a envoy.service.ratelimit.v3.RateLimitRequest")));
  const req = (h: string) => host.request({ headers: [[":method", "GET"], [":path", "/"], [":authority", h]] }, { upstream: () => ({ status: 200 }) });
  assert.equal((await req("a.example.com")).response.status, 500);
  assert.equal((await req("b.example.com")).response.status, 500);
  assert.ok(host.logs.some((l) => l.message.includes("hits_addend: expected uint, got int")));
  assert.equal(limitador.requests.length, 0);
  host.close();
});

test("the generated builtin descriptors match proto/ (node scripts/gen-builtin-descriptors.mjs --check)", async () => {
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync(process.execPath, ["scripts/gen-builtin-descriptors.mjs", "--check"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});

test("hazard §6.3 #4 does not happen: a store that fails counts as finished, so the sequential call after it still runs", async () => {
  reset();
  const config = {
    services: { lim: { type: "dynamic", endpoint: "kuadrant-ratelimit-service", failureMode: "deny", timeout: "5s", grpcService: "envoy.service.ratelimit.v3.RateLimitService", grpcMethod: "ShouldRateLimit" } },
    actionSets: [{ name: "s", routeRuleConditions: { hostnames: ["*"] }, actions: [
      { type: "store", predicate: "true", terminal: false, path: "probe.plan", value: "request.headers['x-plan']" },
      { type: "grpc", predicate: "true", terminal: false, execution: "sequential", var: "rl", service: "lim",
        messageBuilder: "envoy.service.ratelimit.v3.RateLimitRequest{domain: 'd', hits_addend: 1u, descriptors: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor{entries: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry{key: 'plan', value: has(probe.plan) ? probe.plan : 'none'}]}]}" },
    ] }],
  };
  const host = await start(config);
  const { response } = await host.request({ headers: [[":method", "GET"], [":path", "/"], [":authority", "h"]] }, { upstream: () => ({ status: 200 }) });
  assert.equal(response.status, 200);
  assert.deepEqual(limitador.requests.map((r) => r.descriptors), [[{ plan: "none" }]], "the limit ran, without the value the failed store would have written");
  assert.ok(host.logs.some((l) => l.level === 3 && l.message.includes("actions[0] (store) failed")));
  host.close();
});

test("a dynamic service the filter has no descriptors for: calls fail (failureMode) until the descriptor service answers, then work; retried every 2 s", async () => {
  reset();
  const grpc = await import("@grpc/grpc-js");
  const protoLoader = await import("@grpc/proto-loader");
  const { fileURLToPath } = await import("node:url");
  // @ts-expect-error: a plain .mjs module without types
  const { loadRoot, buildDescriptorSet } = await import("../../scripts/gen-builtin-descriptors.mjs");
  const protos = fileURLToPath(new URL("../wasm-shim/protos/", import.meta.url));
  const projectProtos = fileURLToPath(new URL("../../proto/", import.meta.url));
  const load = (file: string, dirs: string[]) => grpc.loadPackageDefinition(protoLoader.loadSync(file, { keepCase: true, includeDirs: dirs })) as any;
  const probe = load("compat/probe/v1/probe.proto", [protos]).compat.probe.v1;
  const descriptorApi = load("kuadrant/v1/descriptor_service.proto", [projectProtos]).kuadrant.v1;
  const set = Buffer.from(buildDescriptorSet(loadRoot(["compat/probe/v1/probe.proto"], protos)));

  let descriptorsUp = false;
  const asked: any[] = [];
  const judged: string[] = [];
  const server = new grpc.Server();
  server.addService(descriptorApi.DescriptorService.service, {
    GetServiceDescriptors: (call: any, cb: any) => {
      asked.push(call.request);
      if (!descriptorsUp) return cb({ code: grpc.status.UNAVAILABLE, details: "starting" });
      cb(null, { descriptors: call.request.services.map((s: any) => ({ cluster_name: s.cluster_name, service: s.service, file_descriptor_set: set })) });
    },
  });
  server.addService(probe.VerdictService.service, {
    Judge: (call: any, cb: any) => { judged.push(call.request.subject); cb(null, { verdict: call.request.subject === "mallory" ? "denied" : "allowed" }); },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const address = `127.0.0.1:${port}`;
  const config = {
    services: { judge: { type: "dynamic", endpoint: "judge-cluster", failureMode: "deny", timeout: "30s", grpcService: "compat.probe.v1.VerdictService", grpcMethod: "Judge" } },
    descriptorService: "descriptors-cluster",
    actionSets: [{ name: "s", routeRuleConditions: { hostnames: ["*"] }, actions: [
      { type: "grpc", predicate: "true", terminal: false, var: "verdict", service: "judge", messageBuilder: "compat.probe.v1.JudgeRequest{subject: request.headers['x-user']}",
        onReply: [{ type: "deny", predicate: "verdict.verdict == 'denied'", terminal: true, denyWith: "DenyResponse{status: 403u, headers: [['x-verdict', verdict.verdict]]}" }] },
    ] }],
  };
  const host = await startFilter(config, { clusters: { "judge-cluster": address, "descriptors-cluster": address } });
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  const get = (user: string) => host.request({ headers: [[":method", "GET"], [":path", "/"], [":authority", "h"], ["x-user", user]] }, { upstream: () => ({ status: 200 }) });
  const until = async (what: string, ok: () => boolean) => { for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50)); assert.ok(ok(), what); };
  await until("the descriptor service is asked at configure time", () => asked.length >= 1);
  assert.deepEqual(asked[0].services, [{ cluster_name: "judge-cluster", service: "compat.probe.v1.VerdictService" }]);
  assert.equal((await get("alice")).response.status, 500, "no descriptors yet: failureMode deny");
  assert.deepEqual(judged, []);
  descriptorsUp = true;
  await until("asked again on the 2 s tick", () => host.logs.some((l) => l.message.includes("descriptors for compat.probe.v1.VerdictService/Judge loaded")));
  assert.equal((await get("alice")).response.status, 200);
  const denied = await get("mallory");
  assert.equal(denied.response.status, 403);
  assert.equal(denied.response.headers.find(([k]) => k === "x-verdict")?.[1], "denied");
  assert.deepEqual(judged, ["alice", "mallory"]);
  host.close();
  await new Promise<void>((r) => server.tryShutdown(() => r()));
});

test("the operator-main example (research §5: AuthPolicy, RateLimitPolicy, TokenRateLimitPolicy, TelemetryPolicy) runs as written", async () => {
  reset();
  const { withGenerousTimeouts } = await import("../helpers/filter-host.js");
  const config = withGenerousTimeouts(JSON.parse((await import("node:fs")).readFileSync(new URL("../fixtures/configs/typed/operator-main-example.json", import.meta.url), "utf8")));
  const host = await start(config);
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  const chat = (key: string) => ({
    headers: [[":method", "POST"], [":path", "/v1/chat/completions"], [":authority", "api.example.com"], [":scheme", "https"], ["content-type", "application/json"], ["authorization", `APIKEY ${key}`]] as Array<[string, string]>,
    body: JSON.stringify({ model: "granite-8b", messages: [] }),
  });
  const upstream = () => ({ status: 200, headers: [["content-type", "application/json"]] as Array<[string, string]>, body: JSON.stringify({ model: "granite-8b-2026-06", usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 } }) });
  const alice = await host.request(chat("key-alice"), { upstream });
  assert.equal(alice.response.status, 200);
  await host.grpcIdle();
  const check = authorino.requests[0].attributes;
  assert.deepEqual(check.context_extensions, { host: "85de874d3e4752f0340b27879b4a87f88c303c044784088405e0897d2390ac14" });
  assert.equal(check.metadata_context.filter_metadata["io.kuadrant.metrics.labels"].fields.user.structValue.fields.cel_expr.stringValue, "auth.identity.userid");
  assert.deepEqual(limitador.requests.map((r) => [r.method, r.domain, r.descriptors, r.hits_addend]).sort(), [
    ["CheckRateLimit", "llm/llm-route", [{ "tokenlimit.free__f7a7d899": "1", "auth.identity.userid": "alice" }, { user: "alice" }], 0],
    ["Report", "llm/llm-route", [{ "tokenlimit.free__f7a7d899": "1", "auth.identity.userid": "alice" }, { user: "alice", model: "granite-8b-2026-06" }], 42],
    ["ShouldRateLimit", "llm/llm-route", [{ "limit.per_user__601201cf": "1", "auth.identity.userid": "alice" }, { user: "alice" }], 1],
  ].sort());
  // bob (premium): the per-user limit only; the token policy's predicate (tier == 'free') skips check and report.
  limitador.requests.length = 0;
  assert.equal((await host.request(chat("key-bob"), { upstream })).response.status, 200);
  await host.grpcIdle();
  assert.deepEqual(limitador.requests.map((r) => r.method), ["ShouldRateLimit"]);
  assert.equal((await host.request(chat("nobody"), { upstream })).response.status, 401);
  host.close();
});

test("typed token report from an SSE stream: the usage chunk's total, once", async () => {
  reset();
  const host = await start(toTypedConfig(maasFull()));
  const chunks = [
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "facebook-opt-125m-simulated", choices: [{ index: 0, delta: { content: "Hi" } }] })}\n\n`,
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 } })}\n\n`,
    "data: [DONE]\n\n",
  ];
  const { response } = await host.request(asUser("key-alice"), { upstream: () => ({ status: 200, headers: [["content-type", "text/event-stream"]], body: chunks }) });
  assert.equal(response.status, 200);
  await host.grpcIdle();
  assert.deepEqual(limitador.requests.filter((r) => r.method === "Report").map((r) => r.hits_addend), [13]);
  host.close();
});

test("hazard §6.3 #6 does not happen: extension header actions with an empty target and a CEL map are applied, not dropped or refused", async () => {
  reset();
  const config = { services: {}, actionSets: [{ name: "s", routeRuleConditions: { hostnames: ["*"] }, actions: [
    { type: "headers", predicate: "true", terminal: false, target: "", headers: '{"x-checked": "true", "x-by": "extension"}' },
  ] }] };
  const host = await start(config);
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  assert.ok(host.logs.some((l) => l.level === 3 && l.message.includes(".target: empty, taken as 'request'")));
  const { stream } = await host.request({ headers: [[":method", "GET"], [":path", "/"], [":authority", "h"]] }, { upstream: () => ({ status: 200 }) });
  assert.deepEqual(stream.forwarded.headers.filter(([k]) => k.startsWith("x-checked") || k === "x-by"), [["x-checked", "true"], ["x-by", "extension"]]);
  host.close();
});

test("CEL timestamps and durations in actions: request.time against timestamp(), getters, duration arithmetic", async () => {
  reset();
  const config = {
    services: {},
    actionSets: [{ name: "s", routeRuleConditions: { hostnames: ["*"], predicates: ["request.time > timestamp('2020-01-01T00:00:00Z')"] }, actions: [
      { type: "deny", predicate: "request.time.getHours() < 9 || request.time.getDayOfWeek() == 0", terminal: true, denyWith: "DenyResponse{status: 403u, body: 'closed\\n'}" },
      { type: "headers", predicate: "true", terminal: false, target: "response",
        headers: "[['x-opened', string(request.time - duration('4h45m30s'))], ['x-hour-plus-2', string(request.time.getHours('+02:00'))], ['x-window', string(duration('90m') + duration('30s'))]]" },
    ] }],
  };
  const at = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
  let now = at("2024-02-29T13:45:30Z"); // a Thursday
  const host = await startFilter(config, { clusters: clusters(), clockNs: () => now });
  assert.equal(host.configured, true, host.logText(3).join("\n"));
  const get = () => host.request({ headers: [[":method", "GET"], [":path", "/"], [":authority", "h"]] }, { upstream: () => ({ status: 200, body: "ok" }) });
  const open = await get();
  assert.equal(open.response.status, 200, host.logText(3).join("\n"));
  const h = (k: string) => open.response.headers.find(([n]) => n === k)?.[1];
  assert.deepEqual([h("x-opened"), h("x-hour-plus-2"), h("x-window")], ["2024-02-29T09:00:00Z", "15", "5430s"]);
  now = at("2024-03-03T13:45:30Z"); // a Sunday
  assert.equal((await get()).response.status, 403);
  now = at("2024-02-29T08:59:59Z");
  assert.equal((await get()).response.status, 403);
  now = at("2019-12-31T23:00:00Z"); // the route's predicate is false: no action set applies
  assert.equal((await get()).response.status, 200);
  host.close();
});
