// One scenario, run against any Limitador: gRPC sequences up to OVER_LIMIT, stacked limits, Check/
// Report with 0, 1, 57 and 4294967295 hits, a request whose condition cannot evaluate, odd label
// values, the HTTP API, /metrics and /counters. The result is a transcript of normalised answers
// (normalize.ts), one entry per step, in order.
import { envoyRateLimitService, kuadrantRateLimitService } from "../../../proto/index.js";
import type { Target } from "./target.js";
import { grpcCall, httpRaw, closeSessions } from "./wire.js";
import { counterJson, header, headerNames, limitJson, parseJsonExact, parseMetrics, rateLimitHeaders, sortedList } from "./normalize.js";

export const LIMITS = `
- namespace: llm/route
  name: per-user
  max_value: 3
  seconds: 60
  conditions: ["descriptors[0].tier == 'free'"]
  variables: ["descriptors[0].user"]
- namespace: llm/route
  name: route-wide
  max_value: 10
  seconds: 60
  conditions: ["descriptors[0].tier == 'free'"]
  variables: []
- namespace: llm/global
  name: global
  max_value: 5
  seconds: 60
  conditions: []
  variables: []
- namespace: llm/global
  name: per-user
  max_value: 10
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
- namespace: llm/tokens
  name: tokens
  max_value: 100
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
- namespace: llm/zero
  max_value: 0
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
- namespace: llm/tie
  name: 'per "minute"'
  max_value: 10
  seconds: 60
  conditions: []
  variables: ["descriptors[0].user"]
- namespace: llm/tie
  name: per-half-minute
  max_value: 10
  seconds: 30
  conditions: []
  variables: ["descriptors[0].user", "descriptors[0].model"]
- namespace: llm/map
  max_value: 5
  seconds: 60
  conditions: []
  variables: ["descriptors[0]"]
- namespace: llm/second
  max_value: 5
  seconds: 60
  conditions: ["descriptors[1].x == 'y'"]
  variables: []
- namespace: llm/method
  max_value: 1
  seconds: 10
  conditions: ["descriptors[0]['req.method'] == 'POST'"]
  variables: []
`;

/** -L: custom labels, added to every series after the --metric-labels-default ones. */
export const CUSTOM_LABELS = `
route_tier: descriptors[0].tier
`;

/** The command line both servers run with (the reviewer's flags, plus -L and reflection). */
export function serverArgs(limitsFile: string, labelsFile: string, ports: { grpc: number; http: number }): string[] {
  return [
    "-b", "127.0.0.1", "-p", String(ports.grpc), "-B", "127.0.0.1", "-P", String(ports.http),
    "--metric-labels-default", "descriptors[1]", "-l", "--rate-limit-headers", "DRAFT_VERSION_03",
    "-L", labelsFile, "--grpc-reflection-service", limitsFile, "memory",
  ];
}

type Descriptor = Record<string, string>;
export type Step = { step: string; result: unknown };

const SHOULD = "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit";
const CHECK = "/kuadrant.service.ratelimit.v1.RateLimitService/CheckRateLimit";
const REPORT = "/kuadrant.service.ratelimit.v1.RateLimitService/Report";

function request(domain: string, descriptors: Descriptor[], hits = 0): Uint8Array {
  const svc = envoyRateLimitService().service.ShouldRateLimit;
  return svc.requestSerialize({ domain, hits_addend: hits, descriptors: descriptors.map((d) => ({ entries: Object.entries(d).map(([key, value]) => ({ key, value })) })) });
}

async function rpc(t: Target, path: string, domain: string, descriptors: Descriptor[], hits = 0) {
  const out = await grpcCall(t.grpc, path, request(domain, descriptors, hits));
  const base = { http: out.httpStatus, contentType: out.contentType, grpcStatus: out.grpcStatus ?? null, grpcMessage: out.grpcMessage ?? null, reset: out.rstCode };
  if (!out.message) return base;
  const decode = (path === SHOULD ? envoyRateLimitService().service.ShouldRateLimit : kuadrantRateLimitService().service.CheckRateLimit);
  const res = decode.responseDeserialize(out.message) as any;
  // The bytes are canonical (fields in number order, proto3 defaults omitted) if encoding just the
  // non-default fields of the decoded message gives them back.
  const clean: Record<string, unknown> = {};
  if (res.overall_code !== "UNKNOWN") clean.overall_code = res.overall_code;
  const hs = (res.response_headers_to_add ?? []).map((h: any) => ({ ...(h.key ? { key: h.key } : {}), ...(h.value ? { value: h.value } : {}) }));
  if (hs.length) clean.response_headers_to_add = hs;
  const canonical = Buffer.from(decode.responseSerialize(clean)).equals(out.message);
  return { ...base, overall_code: res.overall_code, headers: rateLimitHeaders(res.response_headers_to_add ?? []), statuses: res.statuses?.length ?? 0, canonical };
}

async function http(t: Target, method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const r = await httpRaw(t.http, method, path, init.headers, init.body);
  if (r.dropped) return { dropped: true };
  const contentType = header(r.rawHeaders, "content-type") ?? null;
  const text = r.body.toString("utf8");
  return {
    status: r.status,
    headerNames: headerNames(r.rawHeaders),
    contentType,
    contentLengthMatches: header(r.rawHeaders, "content-length") === String(r.body.length),
    chunked: header(r.rawHeaders, "transfer-encoding") !== undefined,
    rateLimit: ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"].map((h) => header(r.rawHeaders, h) ?? null),
    body: contentType?.startsWith("application/json") ? parseJsonExact(text) : text,
  };
}

/** ServerReflectionResponse.list_services_response (6) → service (1) → name (1), read by hand. */
function listedServices(message: Buffer): string[] {
  const fields = (buf: Buffer, wanted: number): Buffer[] => {
    const out: Buffer[] = [];
    let i = 0;
    const varint = () => { let n = 0, shift = 0, b; do { b = buf[i++]; n += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80); return n; };
    while (i < buf.length) {
      const tag = varint();
      if ((tag & 7) === 2) { const len = varint(); if (tag >>> 3 === wanted) out.push(buf.subarray(i, i + len)); i += len; }
      else if ((tag & 7) === 0) varint();
      else throw new Error(`unexpected wire type ${tag & 7}`);
    }
    return out;
  };
  return fields(message, 6).flatMap((list) => fields(list, 1)).flatMap((svc) => fields(svc, 1)).map((name) => name.toString("utf8")).sort();
}

const json = (body: unknown) => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const jsonText = (body: string) => ({ headers: { "content-type": "application/json" }, body });

export async function runScenario(t: Target): Promise<Step[]> {
  const steps: Step[] = [];
  const record = async (step: string, run: () => Promise<unknown>) => { steps.push({ step, result: await run() }); };
  const free = (user: string, labels: Descriptor = { user, tier: "free", model: "m1" }) => [{ tier: "free", user }, labels];

  // /metrics before any traffic: only the two gauges.
  await record("metrics at start", async () => parseMetrics(await (await fetch(`${t.http}/metrics`)).text()));

  // Stacked limits up to OVER_LIMIT, headers on every answer.
  // (Scenario steps avoid ties in remaining between limits of different max_value, except the
  // tie step: which of those comes first follows a HashSet's order in Limitador.)
  for (let i = 1; i <= 4; i++) await record(`ShouldRateLimit alice #${i}`, () => rpc(t, SHOULD, "llm/route", free("alice")));
  await record("ShouldRateLimit bob", () => rpc(t, SHOULD, "llm/route", free("bob")));
  for (let i = 1; i <= 5; i++) await record(`ShouldRateLimit global, user ${i}: the global limit is the most restrictive`, () => rpc(t, SHOULD, "llm/global", [{ user: `g${i}` }]));
  await record("ShouldRateLimit global, carol hits 2: rejected by the global limit", () => rpc(t, SHOULD, "llm/global", [{ user: "carol" }], 2));
  await record("ShouldRateLimit dave premium: no limit applies", () => rpc(t, SHOULD, "llm/route", [{ tier: "premium", user: "dave" }, { user: "dave", tier: "premium", model: "m2" }]));
  await record("ShouldRateLimit without descriptors: the condition cannot evaluate", () => rpc(t, SHOULD, "llm/route", []));
  await record("CheckRateLimit without descriptors", () => rpc(t, CHECK, "llm/route", []));
  await record("Report without descriptors", () => rpc(t, REPORT, "llm/route", []));
  await record("ShouldRateLimit after that: the server still serves", () => rpc(t, SHOULD, "llm/route", free("alice")));
  await record("ShouldRateLimit empty domain", () => rpc(t, SHOULD, "", free("alice")));
  await record("ShouldRateLimit unknown namespace", () => rpc(t, SHOULD, "llm/nowhere", free("erin")));
  await record("ShouldRateLimit a variable that yields a map", () => rpc(t, SHOULD, "llm/map", [{ a: "b" }]));
  await record("ShouldRateLimit tie between two limits", () => rpc(t, SHOULD, "llm/tie", [{ user: "frank", model: "m1" }]));
  await record("ShouldRateLimit max_value 0", () => rpc(t, SHOULD, "llm/zero", [{ user: "gina" }]));
  await record("ShouldRateLimit unqualified limit, first hit", () => rpc(t, SHOULD, "llm/method", [{ "req.method": "POST" }]));
  await record("ShouldRateLimit unqualified limit, over", () => rpc(t, SHOULD, "llm/method", [{ "req.method": "POST" }]));

  // Tokens: CheckRateLimit (read-only, delta 1), Report, ShouldRateLimit with hits.
  await record("CheckRateLimit 57 hits", () => rpc(t, CHECK, "llm/tokens", free("alice"), 57));
  await record("Report 57", () => rpc(t, REPORT, "llm/tokens", free("alice"), 57));
  await record("ShouldRateLimit 43 hits: exactly max", () => rpc(t, SHOULD, "llm/tokens", free("alice"), 43));
  await record("ShouldRateLimit 1 hit: over", () => rpc(t, SHOULD, "llm/tokens", free("alice"), 1));
  await record("Report 16: past max", () => rpc(t, REPORT, "llm/tokens", free("alice"), 16));
  await record("CheckRateLimit: over", () => rpc(t, CHECK, "llm/tokens", free("alice")));
  await record("Report 4294967295", () => rpc(t, REPORT, "llm/tokens", free("bob"), 4294967295));
  await record("ShouldRateLimit 0 hits counts 1", () => rpc(t, SHOULD, "llm/tokens", free("carol"), 0));
  await record("CheckRateLimit empty domain", () => rpc(t, CHECK, "", []));
  await record("Report empty domain", () => rpc(t, REPORT, "", []));

  // Odd label values and names through --metric-labels-default descriptors[1].
  const odd: Descriptor = { user: "two\\\\back", quote: 'say "hi"', bsquote: 'a\\"b', newline: "line\nbreak", bsnewline: "a\\\nb", trailing: "end\\", "9lives": "cat", "req.method": "GET", "ünï": "cödé", empty: "" };
  await record("ShouldRateLimit with odd labels", () => rpc(t, SHOULD, "llm/nowhere", [{ tier: "free" }, odd]));

  // gRPC reflection (v1): the services it lists.
  await record("ServerReflectionInfo list_services", async () => {
    const out = await grpcCall(t.grpc, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", Buffer.from([0x3a, 0x01, 0x2a])); // list_services: "*"
    return { grpcStatus: out.grpcStatus, services: out.message ? listedServices(out.message) : null };
  });
  await record("grpc.reflection.v1alpha is not served", async () => {
    const out = await grpcCall(t.grpc, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", Buffer.from([0x3a, 0x01, 0x2a]));
    return { grpcStatus: out.grpcStatus, grpcMessage: out.grpcMessage ?? null };
  });
  await record("an unknown method", async () => {
    const out = await grpcCall(t.grpc, "/envoy.service.ratelimit.v3.RateLimitService/Nope", Buffer.alloc(0));
    return { http: out.httpStatus, grpcStatus: out.grpcStatus, grpcMessage: out.grpcMessage ?? null };
  });

  // HTTP API.
  await record("GET /status", async () => {
    const r = await http(t, "GET", "/status");
    const b = r.body as Record<string, unknown>;
    return { ...r, body: { keys: Object.keys(b), timestamps: [b.started_at, b.config_applied_at].map((s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?$/.test(String(s))), config_version: b.config_version, config_err_since: b.config_err_since } };
  });
  await record("GET /limits/llm%2Froute", async () => { const r = await http(t, "GET", "/limits/llm%2Froute"); return { ...r, body: sortedList((r.body as any[]).map(limitJson)) }; });
  await record("GET /limits/unknown", () => http(t, "GET", "/limits/unknown"));
  await record("GET /limits/llm/route (unencoded /)", () => http(t, "GET", "/limits/llm/route"));
  for (const ns of ["llm%2Froute", "llm%2Fglobal", "llm%2Ftokens", "llm%2Fzero", "llm%2Ftie", "llm%2Fmethod", "unknown"]) {
    await record(`GET /counters/${ns}`, async () => { const r = await http(t, "GET", `/counters/${ns}`); return { ...r, body: sortedList((r.body as any[]).map(counterJson)) }; });
  }
  await record("GET /counters/llm/route (unencoded /)", () => http(t, "GET", "/counters/llm/route"));

  const ok = { namespace: "llm/route", values: { tier: "free", user: "hal" }, delta: 1 };
  await record("POST /check", () => http(t, "POST", "/check", json(ok)));
  await record("POST /check delta 4: over", () => http(t, "POST", "/check", json({ ...ok, delta: 4 })));
  await record("POST /report", () => http(t, "POST", "/report", json(ok)));
  await record("POST /check_and_report DraftVersion03", () => http(t, "POST", "/check_and_report", json({ ...ok, response_headers: "DraftVersion03" })));
  await record("POST /check_and_report no headers", () => http(t, "POST", "/check_and_report", json(ok)));
  await record("POST /check_and_report over", () => http(t, "POST", "/check_and_report", json({ ...ok, delta: 1, response_headers: "DraftVersion03" }))); // hal's per-user counter is at 3
  await record("POST /check_and_report delta 0", () => http(t, "POST", "/check_and_report", json({ ...ok, values: { tier: "free", user: "ivy" }, delta: 0 })));
  await record("POST /check_and_report other response_headers", () => http(t, "POST", "/check_and_report", json({ ...ok, values: { tier: "free", user: "ivy" }, response_headers: "none" })));
  await record("POST /check as an array", () => http(t, "POST", "/check", jsonText('["llm/route", {"tier": "free", "user": "jo"}, 1, null]')));
  const bad: Array<[string, string]> = [
    ["number in values", '{"namespace": "llm/route", "values": {"tier": "free", "n": 1}, "delta": 1}'],
    ["missing delta", '{"namespace": "llm/route", "values": {}}'],
    ["negative delta", '{"namespace": "llm/route", "values": {}, "delta": -1}'],
    ["float delta", '{"namespace": "llm/route", "values": {}, "delta": 1.5}'],
    ["huge delta", '{"namespace": "llm/route", "values": {}, "delta": 18446744073709551616}'],
    ["string delta", '{"namespace": "llm/route", "values": {}, "delta": "1"}'],
    ["invalid JSON", '{"namespace": "llm/route", '],
    ["not JSON", "hello"],
    ["empty body", ""],
    ["trailing characters", '{"namespace": "x", "values": {}, "delta": 1} x'],
    ["trailing comma", '{"namespace": "x", "values": {}, "delta": 1,}'],
    ["duplicate field", '{"namespace": "x", "namespace": "y", "values": {}, "delta": 1}'],
    ["null namespace", '{"namespace": null, "values": {}, "delta": 1}'],
    ["values is a list", '{"namespace": "x", "values": ["a"], "delta": 1}'],
    ["multi-line", '{\n  "namespace": "x",\n  "values": {"k": true},\n  "delta": 1\n}'],
    ["top-level number", "42"],
    ["short array", '["x", {}]'],
    ["unknown fields are ignored", '{"namespace": "llm/route", "values": {"tier": "free", "user": "kim"}, "delta": 1, "extra": [1, {"a": null}]}'],
  ];
  for (const [what, body] of bad) await record(`POST /check ${what}`, () => http(t, "POST", "/check", jsonText(body)));
  await record("POST /check JSON as text/plain", () => http(t, "POST", "/check", { headers: { "content-type": "text/plain" }, body: JSON.stringify(ok) }));
  await record("POST /check without content-type", () => http(t, "POST", "/check", { body: JSON.stringify(ok) }));
  await record("POST /check application/vnd.api+json", () => http(t, "POST", "/check", { headers: { "content-type": "application/vnd.api+json" }, body: JSON.stringify(ok) }));
  await record("POST /check_and_report without descriptors[0] key", () => http(t, "POST", "/check_and_report", json({ namespace: "llm/route", values: {}, delta: 1 })));
  await record("POST /check_and_report where a condition reads descriptors[1]", () => http(t, "POST", "/check_and_report", json({ namespace: "llm/second", values: {}, delta: 1 })));
  await record("POST /check where a condition reads descriptors[1]", () => http(t, "POST", "/check", json({ namespace: "llm/second", values: {}, delta: 1 })));
  await record("GET /status after that", async () => (await http(t, "GET", "/status")).status);
  await record("GET /nope", () => http(t, "GET", "/nope"));
  await record("POST /status", () => http(t, "POST", "/status"));
  await record("GET /check", () => http(t, "GET", "/check"));
  await record("GET /api/spec", async () => {
    const r = await http(t, "GET", "/api/spec");
    const spec = r.body as any;
    return { ...r, body: { swagger: spec?.swagger, paths: Object.entries(spec?.paths ?? {}).map(([p, ops]) => `${p} ${Object.keys(ops as object).filter((k) => k !== "parameters").sort().join(",")}`).sort() } };
  });

  await record("GET /metrics", async () => {
    const r = await http(t, "GET", "/metrics");
    return { ...r, body: parseMetrics(String(r.body)) };
  });
  closeSessions();
  return steps;
}
