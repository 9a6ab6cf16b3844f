// Configuration: what the operator generates is accepted as is; anything malformed or
// unsupported is refused in on_configure with the JSON path and reason, and nothing traps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startFilter, configFixture } from "../helpers/filter-host.js";

const maas = configFixture("maas-ratelimit");
const clone = () => structuredClone(maas);
const svc = { type: "ratelimit", endpoint: "limitador", failureMode: "allow" };
const set = (actions: unknown[], extra: Record<string, unknown> = {}) => ({ name: "s", routeRuleConditions: { hostnames: ["*"], ...extra }, actions });
const rl = (extra: Record<string, unknown> = {}) => ({ service: "rl", scope: "ns/route", conditionalData: [{ data: [{ expression: { key: "k", value: "'v'" } }] }], ...extra });
const base = (actions: unknown[] = [rl()], more: Record<string, unknown> = {}) => ({ services: { rl: svc }, actionSets: [set(actions)], ...more });
const typedGrpc = (extra: Record<string, unknown> = {}) => ({ type: "grpc", predicate: "true", terminal: false, var: "r", service: "rl", messageBuilder: "envoy.service.ratelimit.v3.RateLimitRequest{domain: 'd'}", ...extra });

function mutate(f: (c: any) => void): any { const c = clone(); f(c); return c; }

/** [description, config, expected fragment of the refusal log] */
const refused: Array<[string, unknown, string | RegExp]> = [
  ["not JSON", "{services:", "$: not valid JSON"],
  ["truncated JSON", '{"services": {}, "actionSets": [', "$: not valid JSON"],
  ["a JSON array", "[]", "$: must be an object, got array"],
  ["a JSON string", '"config"', "$: must be an object, got string"],
  ["empty object", {}, "$.services: is required"],
  ["no actionSets", { services: {} }, "$.actionSets: is required"],
  ["services not an object", { services: [], actionSets: [] }, "$.services: must be an object, got array"],
  ["actionSets not an array", { services: {}, actionSets: {} }, "$.actionSets: must be an array, got object"],
  ["service without type", { services: { rl: { endpoint: "x", failureMode: "allow" } }, actionSets: [] }, '$.services.rl.type: is required'],
  ["unknown service type", { services: { rl: { ...svc, type: "quota" } }, actionSets: [] }, "$.services.rl.type: unknown service type 'quota'"],
  ["service without endpoint", { services: { rl: { type: "ratelimit", failureMode: "allow" } }, actionSets: [] }, "$.services.rl.endpoint: is required"],
  ["empty endpoint", { services: { rl: { ...svc, endpoint: "" } }, actionSets: [] }, "$.services.rl.endpoint: must name an Envoy cluster"],
  ["service without failureMode", { services: { rl: { type: "ratelimit", endpoint: "x" } }, actionSets: [] }, "$.services.rl.failureMode: is required"],
  ["bad failureMode", { services: { rl: { ...svc, failureMode: "open" } }, actionSets: [] }, "$.services.rl.failureMode: must be 'deny' or 'allow', got 'open'"],
  ["bad timeout", { services: { rl: { ...svc, timeout: "soon" } }, actionSets: [] }, "$.services.rl.timeout: must be a positive duration"],
  ["numeric timeout", { services: { rl: { ...svc, timeout: 100 } }, actionSets: [] }, "$.services.rl.timeout: must be a string, got number"],
  ["action set without routeRuleConditions", { services: { rl: svc }, actionSets: [{ name: "a", actions: [] }] }, "$.actionSets[0].routeRuleConditions: is required"],
  ["hostnames missing", { services: { rl: svc }, actionSets: [{ name: "a", routeRuleConditions: {}, actions: [] }] }, "$.actionSets[0].routeRuleConditions.hostnames: is required"],
  ["bad hostname wildcard", { services: { rl: svc }, actionSets: [set([], { hostnames: ["api.*.com"] })] }, "$.actionSets[0].routeRuleConditions.hostnames[0]: 'api.*.com' is not a hostname"],
  ["route predicate not CEL", { services: { rl: svc }, actionSets: [set([], { predicates: ["request.method =="] })] }, /\$\.actionSets\[0\]\.routeRuleConditions\.predicates\[0\]: invalid CEL expression 'request\.method ==': unexpected end of expression at offset 17/],
  ["route predicate not a string", { services: { rl: svc }, actionSets: [set([], { predicates: [true] })] }, "$.actionSets[0].routeRuleConditions.predicates[0]: must be a string, got boolean"],
  ["pre-1.0 matches", { services: { rl: svc }, actionSets: [set([], { matches: [] })] }, "routeRuleConditions.matches: not supported"],
  ["action with unknown service", base([rl({ service: "nope" })]), "$.actionSets[0].actions[0].service: unknown service 'nope' (services defines: rl)"],
  ["action without scope", base([rl({ scope: undefined })]), "$.actionSets[0].actions[0].scope: is required"],
  ["action predicate bad CEL", base([rl({ predicates: ["auth.identity.tier = 'free'"] })]), /actions\[0\]\.predicates\[0\]: invalid CEL expression/],
  ["conditionalData not an array", base([rl({ conditionalData: {} })]), "$.actionSets[0].actions[0].conditionalData: must be an array, got object"],
  ["data item with both kinds", base([rl({ conditionalData: [{ data: [{ static: { key: "a", value: "b" }, expression: { key: "a", value: "'b'" } }] }] })]), "conditionalData[0].data[0]: must have exactly one of 'static' or 'expression'"],
  ["data item with neither", base([rl({ conditionalData: [{ data: [{}] }] })]), "conditionalData[0].data[0]: must have exactly one of 'static' or 'expression'"],
  ["selector data item (pre-1.0)", base([rl({ conditionalData: [{ data: [{ selector: { selector: "request.path" } }] }] })]), "data[0].selector: selector data items come from Kuadrant operator < 1.0"],
  ["expression data item without key", base([rl({ conditionalData: [{ data: [{ expression: { value: "1" } }] }] })]), "data[0].expression.key: is required"],
  ["expression data item bad CEL", base([rl({ conditionalData: [{ data: [{ expression: { key: "k", value: "(" } }] }] })]), /data\[0\]\.expression\.value: invalid CEL expression '\('/],
  ["data and conditionalData together", base([rl({ data: [{ static: { key: "a", value: "b" } }] })]), "$.actionSets[0].actions[0].data: use either 'data' (Kuadrant 1.0–1.2) or 'conditionalData', not both"],
  ["requestData value not a string", base(undefined, { requestData: { "metrics.labels.user": 1 } }), '$.requestData["metrics.labels.user"]: must be a string, got number'],
  ["requestData key without field", base(undefined, { requestData: { "metrics.labels.": "'x'" } }), "must end with a field name"],
  ["bad defaultLevel", base(undefined, { observability: { defaultLevel: "LOUD" } }), "$.observability.defaultLevel: must be one of TRACE, DEBUG, INFO, WARN, ERROR, OFF; got 'LOUD'"],
  ["deeply nested JSON", "[".repeat(10000), "$: not valid JSON: nesting deeper than 64"],
  // Typed shapes (wasm-shim ≥ 0.13): what wasm-shim refuses at configure time (§2.6), refused here too.
  ["dynamic service without grpcService", { services: { x: { type: "dynamic", endpoint: "c", failureMode: "deny", grpcMethod: "M" } }, actionSets: [] }, "$.services.x.grpcService: is required"],
  ["dynamic service without grpcMethod", { services: { x: { type: "dynamic", endpoint: "c", failureMode: "deny", grpcService: "a.B" } }, actionSets: [] }, "$.services.x.grpcMethod: is required"],
  ["built-in service with an unknown method", { services: { x: { type: "dynamic", endpoint: "c", failureMode: "deny", grpcService: "envoy.service.ratelimit.v3.RateLimitService", grpcMethod: "Nope" } }, actionSets: [] }, "$.services.x.grpcMethod: 'Nope' is not a method of envoy.service.ratelimit.v3.RateLimitService"],
  ["classic action on a dynamic service", { services: { d: { type: "dynamic", endpoint: "c", failureMode: "deny", grpcService: "a.B", grpcMethod: "M" } }, actionSets: [set([{ service: "d", scope: "s" }])] }, "$.actionSets[0].actions[0].service: a classic action (service + scope) cannot use a 'dynamic' service"],
  ["typed grpc without var", base([{ type: "grpc", predicate: "true", terminal: false, service: "rl", messageBuilder: "x" }]), "$.actionSets[0].actions[0].var: is required"],
  ["typed grpc on an unknown service", base([typedGrpc({ service: "nope" })]), "$.actionSets[0].actions[0].service: unknown service 'nope'"],
  ["typed grpc on a tracing service", { services: { t: { type: "tracing", endpoint: "c", failureMode: "allow" } }, actionSets: [set([typedGrpc({ service: "t" })])] }, "a grpc action cannot call a 'tracing' service"],
  ["typed predicate not CEL", base([typedGrpc({ predicate: "request.method ==" })]), /actions\[0\]\.predicate: invalid CEL expression/],
  ["typed messageBuilder not CEL", base([typedGrpc({ messageBuilder: "envoy.service.ratelimit.v3.RateLimitRequest{domain: }" })]), /actions\[0\]\.messageBuilder: invalid CEL expression/],
  ["deny with bad denyWith", base([{ type: "deny", predicate: "true", terminal: true, denyWith: "DenyResponse{status: }" }]), /actions\[0\]\.denyWith: invalid CEL expression/],
  ["headers with a bad target", base([{ type: "headers", predicate: "true", terminal: false, target: "upstream", headers: "[]" }]), "$.actionSets[0].actions[0].target: must be 'request' or 'response', got 'upstream'"],
  ["store with bad value CEL", base([{ type: "store", predicate: "true", terminal: false, path: "x", value: "(" }]), /actions\[0\]\.value: invalid CEL expression/],
  ["store that hides a host attribute", base([{ type: "store", predicate: "true", terminal: false, path: "request.extra", value: "1" }]), "would hide the host attribute 'request'"],
  ["sequential inside onReply", base([typedGrpc({ onReply: [{ type: "fail", predicate: "true", terminal: false, logMessage: "x", execution: "sequential" }] })]), "$.actionSets[0].actions[0].onReply[0].execution: 'sequential' is not allowed inside onReply"],
  ["bad execution", base([typedGrpc({ execution: "eventually" })]), "$.actionSets[0].actions[0].execution: must be 'parallel' or 'sequential', got 'eventually'"],
  ["typed terminal not a boolean", base([{ type: "fail", predicate: "true", terminal: "yes", logMessage: "x" }]), "$.actionSets[0].actions[0].terminal: must be a boolean, got string"],
];

test(`${refused.length} malformed or unsupported configurations are refused with path and reason, none traps`, async () => {
  assert.ok(refused.length >= 30);
  const problems: string[] = [];
  for (const [what, config, expected] of refused) {
    const host = await startFilter(config);
    const logs = host.logs.filter((l) => l.level >= 4).map((l) => l.message);
    if (host.vm.failed) problems.push(`${what}: the VM trapped (${host.vm.failure})`);
    else if (host.configured) problems.push(`${what}: was accepted`);
    else {
      const hit = logs.some((m) => m.startsWith("plugin configuration refused: ") && (typeof expected === "string" ? m.includes(expected) : expected.test(m)));
      if (!hit) problems.push(`${what}: no log matching ${expected}; got:\n      ${logs.join("\n      ")}`);
    }
    host.close();
  }
  assert.deepEqual(problems, []);
});

test("every problem in a configuration is reported, not just the first", async () => {
  const host = await startFilter({ services: { a: { type: "x" } }, actionSets: [{}], bogus: 1 });
  const refusals = host.logs.filter((l) => l.message.startsWith("plugin configuration refused")).length;
  assert.ok(refusals >= 5, `got ${refusals}`);
  host.close();
});

test("a refused configuration fails closed: requests get 503, never pass unchecked", async () => {
  const host = await startFilter("{}");
  const { response } = await host.request({ headers: [[":method", "GET"], [":path", "/"], [":authority", "h"]] }, { upstream: () => ({ status: 200 }) });
  assert.equal(response.status, 503);
  host.close();
});

const accepted: Array<[string, unknown]> = [
  ["the minimal config", { services: {}, actionSets: [] }],
  ["MaaS: RateLimitPolicy + TelemetryPolicy (Kuadrant 1.3)", maas],
  ["Kuadrant 1.4: sources and observability with tracing", mutate((c) => {
    c.actionSets[0].actions[0].sources = ["ratelimitpolicy.kuadrant.io:llm/tier-limits"];
    c.observability = { httpHeaderIdentifier: "x-request-id", defaultLevel: "INFO", tracing: { service: "tracing-service" } };
    c.services["tracing-service"] = { type: "tracing", endpoint: "kuadrant-tracing-service", failureMode: "allow", timeout: "100ms" };
  })],
  ["Kuadrant 1.0–1.2: action-level predicates and data", { services: { "ratelimit-service": { type: "ratelimit", endpoint: "limitador", failureMode: "allow" } }, actionSets: [
    set([{ service: "ratelimit-service", scope: "ns/route", predicates: ["auth.identity.tier == 'free'"], data: [{ expression: { key: "limit.free__340814a7", value: "1" } }] }]),
  ] }],
  ["TokenRateLimitPolicy check + report", { services: { c: { type: "ratelimit-check", endpoint: "l", failureMode: "allow" }, r: { type: "ratelimit-report", endpoint: "l", failureMode: "allow" } }, actionSets: [set([
    { service: "c", scope: "llm/route", conditionalData: [{ predicates: ["auth.identity.tier == 'free'"], data: [{ expression: { key: "tokenlimit.free__9c1e2a7b", value: "1" } }, { expression: { key: "ratelimit.hits_addend", value: "0" } }] }] },
    { service: "r", scope: "llm/route", conditionalData: [{ predicates: ["auth.identity.tier == 'free'"], data: [{ expression: { key: "tokenlimit.free__9c1e2a7b", value: "1" } }, { expression: { key: "ratelimit.hits_addend", value: 'responseBodyJSON("/usage/total_tokens")' } }] }] },
  ])] }],
  ["AuthPolicy + header and query predicates", { services: { "auth-service": { type: "auth", endpoint: "kuadrant-auth-service", failureMode: "deny", timeout: "200ms" } }, actionSets: [set([{ service: "auth-service", scope: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }], {
    hostnames: ["api.example.com"],
    predicates: ["request.method == 'POST'", "request.url_path.matches('^/v1/.*')", "request.headers.exists(h, h.lowerAscii() == 'x-api-version' && request.headers[h] == '2')", "'mode' in queryMap(request.query) ? queryMap(request.query)['mode'] == 'full' : false"],
  })] }],
];

/** Mistakes confined to one action: the config loads (as with wasm-shim), a warning names the path. */
const confined: Array<[string, unknown, string]> = [
  ["empty scope on a rate-limit action", base([rl({ scope: "" })]), "$.actionSets[0].actions[0].scope: must not be empty for a rate-limit service"],
  ["static hits_addend not a number", base([rl({ conditionalData: [{ data: [{ static: { key: "ratelimit.hits_addend", value: "many" } }] }] })]), "ratelimit.hits_addend must be an integer from 0 to 4294967295, got 'many'"],
  ["static hits_addend too big", base([rl({ conditionalData: [{ data: [{ static: { key: "ratelimit.hits_addend", value: "4294967296" } }] }] })]), "got '4294967296'"],
  ["empty static domain", base([rl({ conditionalData: [{ data: [{ static: { key: "ratelimit.domain", value: "" } }] }] })]), "conditionalData[0].data[0].static.value: ratelimit.domain must not be empty"],
  ["auth action with data", { services: { a: { type: "auth", endpoint: "authorino", failureMode: "deny" } }, actionSets: [set([{ service: "a", scope: "x", conditionalData: [{ data: [] }] }])] }, "auth actions send no descriptors; this data is ignored"],
];

test("a mistake confined to one action loads with a warning naming its path", async () => {
  for (const [what, config, expected] of confined) {
    const host = await startFilter(config);
    assert.equal(host.configured, true, `${what}:\n${host.logText().join("\n")}`);
    const warnings = host.logs.filter((l) => l.level == 3).map((l) => l.message);
    assert.ok(warnings.some((m) => m.includes(expected)), `${what}: no warning with ${expected}; got ${warnings.join(" | ")}`);
    host.close();
  }
});

/** Unknown fields (and labels that do not parse) are ignored with a warning, as wasm-shim ignores them: a newer operator's extra field or a typo in a label must not take every route down. */
const ignoredFields: Array<[string, unknown, string]> = [
  ["unknown top-level field", { services: {}, actionSets: [], extra: 1 }, "$.extra: unknown field, ignored"],
  ["unknown service field", { services: { rl: { ...svc, retries: 3 } }, actionSets: [] }, "$.services.rl.retries: unknown field, ignored"],
  ["unknown observability field", base(undefined, { observability: { sampling: 1 } }), "$.observability.sampling: unknown field, ignored"],
  ["typed-only field on a classic action", base([rl({ onReply: [] })]), "$.actionSets[0].actions[0].onReply: unknown field, ignored"],
  ["unknown field on a typed action", base([typedGrpc({ retries: 2 })]), "$.actionSets[0].actions[0].retries: unknown field, ignored"],
  ["requestData label that is not CEL (wasm-shim drops it)", base(undefined, { requestData: { "metrics.labels.user": "auth.identity.userid)" } }), '$.requestData["metrics.labels.user"]: invalid CEL expression \'auth.identity.userid)\''],
];

test("unknown fields are ignored with a warning that names them", async () => {
  for (const [what, config, expected] of ignoredFields) {
    const host = await startFilter(config);
    assert.equal(host.configured, true, `${what}:\n${host.logText().join("\n")}`);
    assert.ok(host.logs.some((l) => l.level == 3 && l.message.includes(expected)), `${what}: no warning with ${expected}`);
    host.close();
  }
});

test("operator-generated shapes are accepted as is", async () => {
  for (const [what, config] of accepted) {
    const host = await startFilter(config);
    assert.equal(host.configured, true, `${what}:\n${host.logText().join("\n")}`);
    host.close();
  }
});
