// The typed twin of a classic plugin configuration: what Kuadrant operator main (#2089, #2163)
// emits for the same policies (research/wasm-shim-newer-config.md §4–5): `dynamic` services with
// explicit gRPC methods, typed grpc actions whose message builders are CEL struct literals with
// the TelemetryPolicy labels inlined, onReply branches, and one `store` per body direction for
// the values read from bodies. Used to render local/config/plugin-config-typed.json and to run
// every classic fixture in both shapes. Usage: node --import tsx envoy/typed-config.ts IN [OUT]
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

type Json = any;

const METHODS: Record<string, [string, string]> = {
  auth: ["envoy.service.auth.v3.Authorization", "Check"],
  ratelimit: ["envoy.service.ratelimit.v3.RateLimitService", "ShouldRateLimit"],
  "ratelimit-check": ["kuadrant.service.ratelimit.v1.RateLimitService", "CheckRateLimit"],
  "ratelimit-report": ["kuadrant.service.ratelimit.v1.RateLimitService", "Report"],
};
const ENTRY = "envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry";
const DESCRIPTOR = "envoy.extensions.common.ratelimit.v3.RateLimitDescriptor";
const BODY_CALL = /(response|request)BodyJSON\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\)/g;

const cel = (s: string) => JSON.stringify(s); // a CEL string literal (JSON escapes are CEL escapes)

interface Label { key: string; domain: string; expr: string }

export function toTypedConfig(classic: Json): Json {
  const services: Json = {};
  for (const [name, s] of Object.entries<Json>(classic.services ?? {})) {
    if (s.type === "tracing" || s.type === "dynamic") { services[name] = s; continue; }
    const [grpcService, grpcMethod] = METHODS[s.type];
    services[name] = { endpoint: s.endpoint, type: "dynamic", failureMode: s.failureMode, ...(s.timeout ? { timeout: s.timeout } : {}), grpcService, grpcMethod };
  }
  const labels: Label[] = Object.entries<string>(classic.requestData ?? {}).map(([k, expr]) => {
    const dot = k.lastIndexOf(".");
    return { key: k.slice(dot + 1), domain: dot >= 0 ? k.slice(0, dot) : "", expr };
  });
  const out: Json = { services, actionSets: [] as Json[], descriptorService: "kuadrant-operator-grpc" };
  if (classic.observability) out.observability = classic.observability;
  for (const set of classic.actionSets ?? []) {
    const bodies = new BodyStores();
    const actions: Json[] = [];
    for (const a of set.actions) {
      const type = classic.services[a.service].type;
      if (type === "auth") actions.push(authAction(a, labels));
      else actions.push(rateLimitAction(a, type, labels, bodies));
    }
    out.actionSets.push({ name: set.name, routeRuleConditions: set.routeRuleConditions, actions: [...bodies.actions(), ...actions] });
  }
  return out;
}

/** Each body value an expression reads becomes a field of one store per direction (operator BuildActions). */
class BodyStores {
  private fields = { response: new Map<string, string>(), request: new Map<string, string>() };

  /** The expression with every body call replaced by the stored field. */
  rewrite(expr: string): string {
    return expr.replace(BODY_CALL, (_m, dir: "response" | "request", literal: string) => {
      const pointer = JSON.parse(literal.startsWith("'") ? `"${literal.slice(1, -1).replace(/"/g, '\\"')}"` : literal) as string;
      const fields = this.fields[dir];
      let leaf = pointer.split("/").pop()!;
      if (fields.has(leaf) && fields.get(leaf) !== pointer) leaf = pointer.replace(/\//g, "_");
      fields.set(leaf, pointer);
      return `kuadrant.internal.${dir}.body.${leaf}`;
    });
  }

  actions(): Json[] {
    const out: Json[] = [];
    for (const dir of ["response", "request"] as const) {
      const fields = this.fields[dir];
      if (fields.size === 0) continue;
      const value = `{${[...fields].map(([leaf, ptr]) => `${cel(leaf)}: ${dir}BodyJSON(${cel(ptr)})`).join(", ")}}`;
      out.push({ type: "store", predicate: "true", terminal: false, isGuard: false, path: `kuadrant.internal.${dir}.body`, value });
    }
    return out;
  }
}

const joinPredicates = (preds: string[] = []) => (preds.length === 0 ? "true" : preds.length === 1 ? preds[0] : preds.map((p) => `(${p})`).join(" && "));

function authAction(a: Json, labels: Label[]): Json {
  const groups = new Map<string, string[]>();
  for (const l of labels) {
    if (/BodyJSON\(/.test(l.expr)) continue; // auth runs before any body is read
    const ns = l.domain === "" ? "io.kuadrant" : `io.kuadrant.${l.domain}`;
    const value = l.expr.includes("auth.")
      ? `google.protobuf.Value{struct_value: google.protobuf.Struct{fields: {"cel_expr": google.protobuf.Value{string_value: ${cel(l.expr)}}}}}`
      : `google.protobuf.Value{string_value: string(${l.expr})}`;
    groups.set(ns, [...(groups.get(ns) ?? []), `${cel(l.key)}: ${value}`]);
  }
  const metadata = groups.size === 0 ? "" : `,\n    metadata_context: envoy.config.core.v3.Metadata{filter_metadata: {${[...groups].map(([ns, fields]) => `${cel(ns)}: google.protobuf.Struct{fields: {${fields.join(", ")}}}`).join(", ")}}}`;
  const peer = (who: string) => `envoy.service.auth.v3.AttributeContext.Peer {\n      address: envoy.config.core.v3.Address {\n        socket_address: envoy.config.core.v3.SocketAddress {\n          address: ${who}.address,\n          port_value: uint(${who}.port)\n        }\n      }\n    }`;
  const builder = `envoy.service.auth.v3.CheckRequest {\n  attributes: envoy.service.auth.v3.AttributeContext {\n    request: envoy.service.auth.v3.AttributeContext.Request {\n      time: request.time,\n      http: envoy.service.auth.v3.AttributeContext.HttpRequest {\n        host: request.host,\n        method: request.method,\n        scheme: request.scheme,\n        path: request.path,\n        protocol: request.protocol,\n        headers: request.headers\n      }\n    },\n    destination: ${peer("destination")},\n    source: ${peer("source")},\n    context_extensions: {"host": ${cel(a.scope)}}${metadata}\n  }\n}`;
  return {
    type: "grpc", predicate: joinPredicates(a.predicates), terminal: false, isGuard: true, var: "auth_response", service: a.service, label: "auth", messageBuilder: builder,
    onReply: [
      { type: "deny", predicate: "has(auth_response.denied_response)", terminal: true, isGuard: true, denyWith: "DenyResponse{status: (auth_response.denied_response.status.code != 0) ? uint(auth_response.denied_response.status.code) : 403u, headers: auth_response.denied_response.headers, body: auth_response.denied_response.body}" },
      { type: "fail", predicate: "has(auth_response.ok_response) && (auth_response.ok_response.response_headers_to_add.size() > 0 || auth_response.ok_response.headers_to_remove.size() > 0 || auth_response.ok_response.query_parameters_to_set.size() > 0 || auth_response.ok_response.query_parameters_to_remove.size() > 0)", terminal: true, isGuard: true, logMessage: "Unsupported field in OkHttpResponse" },
      { type: "store", predicate: "has(auth_response.ok_response) && has(auth_response.dynamic_metadata)", terminal: false, isGuard: true, path: "auth", value: "auth_response.dynamic_metadata", exportToHost: true },
      { type: "headers", predicate: "has(auth_response.ok_response)", terminal: false, isGuard: true, target: "request", headers: "auth_response.ok_response.headers" },
      { type: "fail", predicate: "!has(auth_response.denied_response) && !has(auth_response.ok_response)", terminal: true, isGuard: true, logMessage: "Auth response contained no http_response from auth_response" },
    ],
    ...(a.sources ? { sources: a.sources } : {}),
  };
}

function rateLimitAction(a: Json, type: string, labels: Label[], bodies: BodyStores): Json {
  const report = type === "ratelimit-report";
  const blocks: Json[] = a.conditionalData ?? (a.data ? [{ data: a.data }] : []);
  let domain = cel(a.scope);
  let hits = "1u";
  const conditional: string[] = [];
  const unconditional: string[] = [];
  for (const b of blocks) {
    const entries: string[] = [];
    for (const item of b.data ?? []) {
      const { key, value } = item.static ?? item.expression;
      const expr = item.static ? cel(value) : bodies.rewrite(value);
      if (key === "ratelimit.domain") { domain = item.static ? expr : `string(${expr})`; continue; }
      if (key === "ratelimit.hits_addend") { hits = `uint(${expr})`; continue; }
      entries.push(`${ENTRY} { key: ${cel(key)}, value: ${item.static ? expr : `string(${expr})`} }`);
    }
    if ((b.predicates ?? []).length === 0) unconditional.push(...entries);
    else conditional.push(`((${joinPredicates(b.predicates)}) ? [${entries.join(", ")}] : [])`);
  }
  // The operator appends the unconditional entries last.
  if (unconditional.length > 0) conditional.push(`[${unconditional.join(", ")}]`);
  const labelEntries = labels
    .filter((l) => report || !/BodyJSON\(/.test(l.expr))
    .map((l) => `${ENTRY} { key: ${cel(l.domain === "" || l.domain === "metrics.labels" ? l.key : `${l.domain}.${l.key}`)}, value: string(${bodies.rewrite(l.expr)}) }`);
  const descriptors = [`${DESCRIPTOR} { entries: ${conditional.length === 0 ? "[]" : conditional.join(" + ")} }`];
  if (labelEntries.length > 0) descriptors.push(`${DESCRIPTOR} { entries: [${labelEntries.join(", ")}] }`);
  const builder = `envoy.service.ratelimit.v3.RateLimitRequest {\n    domain: ${domain},\n    hits_addend: ${hits},\n    descriptors: [${descriptors.join(", ")}]\n}`;
  const blockPreds = blocks.some((b) => (b.predicates ?? []).length === 0) ? [] : blocks.map((b) => joinPredicates(b.predicates));
  const parts = [...(a.predicates ?? [])];
  if (blockPreds.length > 0) parts.push(blockPreds.length === 1 ? blockPreds[0] : blockPreds.map((p) => `(${p})`).join(" || "));
  const predicate = joinPredicates(parts);
  const v = report ? "report_response" : "ratelimit_response";
  const onReply = report
    ? [{ type: "fail", predicate: `!has(${v}.overall_code)`, terminal: false, isGuard: false, logMessage: "Rate limit report failed: invalid gRPC response" }]
    : [
      { type: "deny", predicate: `${v}.overall_code == 2`, terminal: true, isGuard: true, denyWith: `DenyResponse{status: 429u, headers: ${v}.response_headers_to_add, body: "Too Many Requests\\n"}` },
      { type: "headers", predicate: `${v}.overall_code == 1`, terminal: false, isGuard: true, target: "response", headers: `${v}.response_headers_to_add` },
      { type: "fail", predicate: `${v}.overall_code != 1 && ${v}.overall_code != 2`, terminal: true, isGuard: true, logMessage: `Unknown rate limit response code from ${v}` },
    ];
  return {
    type: "grpc", predicate, terminal: false, isGuard: !report, var: v, service: a.service, label: report ? "ratelimit_report" : "ratelimit", messageBuilder: builder, onReply,
    ...(a.sources ? { sources: a.sources } : {}),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [input, output] = process.argv.slice(2);
  if (!input) { console.error("usage: node --import tsx envoy/typed-config.ts CLASSIC.json [TYPED.json]"); process.exit(2); }
  const text = JSON.stringify(toTypedConfig(JSON.parse(readFileSync(input, "utf8"))), null, 2) + "\n";
  if (output) writeFileSync(output, text); else process.stdout.write(text);
}
