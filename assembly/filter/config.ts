// The Kuadrant wasm-shim "classic" plugin configuration (research/wasm-shim.md §1,
// research/kuadrant-operator-config-rules.md): parsed and validated once, at configure time.
// Every problem is reported with its JSON path and reason; the shapes of Kuadrant ≥ 1.5 are
// refused by name.
import { JsonValue, JsonKind, parseJson } from "../json";
import { compileCel, Expression } from "../cel";
import { parseDurationMs } from "./duration";

export enum ServiceType { Auth, RateLimit, RateLimitCheck, RateLimitReport, Tracing }

export class ServiceConfig {
  constructor(public name: string, public type: ServiceType, public endpoint: string,
              public failureModeDeny: bool, public timeoutMs: u32) {}

  get grpcService(): string {
    if (this.type == ServiceType.Auth) return "envoy.service.auth.v3.Authorization";
    if (this.type == ServiceType.RateLimit) return "envoy.service.ratelimit.v3.RateLimitService";
    return "kuadrant.service.ratelimit.v1.RateLimitService";
  }

  get grpcMethod(): string {
    if (this.type == ServiceType.Auth) return "Check";
    if (this.type == ServiceType.RateLimit) return "ShouldRateLimit";
    if (this.type == ServiceType.RateLimitCheck) return "CheckRateLimit";
    return "Report";
  }

  get isRateLimit(): bool {
    return this.type == ServiceType.RateLimit || this.type == ServiceType.RateLimitCheck || this.type == ServiceType.RateLimitReport;
  }
}

export const KEY_DOMAIN = "ratelimit.domain";
export const KEY_HITS_ADDEND = "ratelimit.hits_addend";

/** One descriptor entry source: a literal or a CEL expression. */
export class DataItem {
  constructor(public key: string, public staticValue: string | null, public expression: Expression | null) {}
}

export class ConditionalData {
  constructor(public predicates: Array<Expression>, public data: Array<DataItem>) {}
}

export class Action {
  /** Set at planning time: the request body must be read before this action runs. */
  needsRequestBody: bool = false;
  /**
   * Non-empty: a mistake confined to this action (e.g. an empty static ratelimit.domain). The
   * configuration still loads, as with wasm-shim; a request that reaches the action fails it and
   * the service's failureMode decides, so one bad route never takes the others down.
   */
  misconfigured: string = "";

  constructor(public index: i32, public service: ServiceConfig, public scope: string,
              public predicates: Array<Expression>, public conditionalData: Array<ConditionalData>) {}

  /** True when something in this action reads the request body (requestBodyJSON). */
  usesRequestBody(): bool {
    for (let i = 0; i < this.predicates.length; i++) if (this.predicates[i].usesRequestBody) return true;
    for (let b = 0; b < this.conditionalData.length; b++) {
      const block = this.conditionalData[b];
      for (let i = 0; i < block.predicates.length; i++) if (block.predicates[i].usesRequestBody) return true;
      for (let i = 0; i < block.data.length; i++) {
        const e = block.data[i].expression;
        if (e !== null && e.usesRequestBody) return true;
      }
    }
    return false;
  }
}

export class ActionSet {
  constructor(public index: i32, public name: string, public hostnames: Array<string>,
              public predicates: Array<Expression>, public actions: Array<Action>) {}
}

/** A requestData binding: "metrics.labels.user" → domain "metrics.labels", field "user". */
export class RequestDatum {
  constructor(public domain: string, public field: string, public expression: Expression) {}
  /** The descriptors[1] entry key wasm-shim uses. */
  get entryKey(): string { return this.domain.length == 0 || this.domain == "metrics.labels" ? this.field : this.domain + "." + this.field; }
  get isMetricLabel(): bool { return this.domain == "metrics.labels"; }
}

export class PluginConfig {
  services: Map<string, ServiceConfig> = new Map();
  actionSets: Array<ActionSet> = [];
  requestData: Array<RequestDatum> = [];
  requestIdHeader: string = "";
  /** -1: follow Envoy's level; else a LogLevel (6 = off). */
  logLevel: i32 = -1;
  /** Notes about accepted-but-ignored parts (logged at debug). */
  ignored: Array<string> = [];
  /** Accepted, but wrong somewhere a request will notice (logged at warn). */
  warnings: Array<string> = [];
}

export class ConfigResult {
  constructor(public config: PluginConfig | null, public errors: Array<string>) {}
  get ok(): bool { return this.config !== null; }
}

const MAX_ERRORS = 20;

class Checker {
  errors: Array<string> = [];
  ignored: Array<string> = [];
  /** Problems confined to the action being parsed (see Action.misconfigured). */
  actionProblems: Array<string> = [];
  /** Configure-time warnings (logged, config accepted). */
  warnings: Array<string> = [];
  problem(path: string, reason: string): void { this.actionProblems.push(path + ": " + reason); }
  fail(path: string, reason: string): void { if (this.errors.length < MAX_ERRORS) this.errors.push(path + ": " + reason); }

  object(path: string, v: JsonValue | null, required: bool): JsonValue | null {
    if (v === null) { if (required) this.fail(path, "is required"); return null; }
    if (v.kind != JsonKind.Object) { this.fail(path, "must be an object, got " + v.kindName()); return null; }
    return v;
  }

  array(path: string, v: JsonValue | null, required: bool): Array<JsonValue> {
    if (v === null) { if (required) this.fail(path, "is required"); return []; }
    if (v.kind != JsonKind.Array) { this.fail(path, "must be an array, got " + v.kindName()); return []; }
    return v.items;
  }

  string(path: string, v: JsonValue | null, required: bool): string | null {
    if (v === null) { if (required) this.fail(path, "is required"); return null; }
    if (v.kind != JsonKind.String) { this.fail(path, "must be a string, got " + v.kindName()); return null; }
    return v.str;
  }

  /** Refuses members not in `known`; `since15` names members only Kuadrant ≥ 1.5 emits. */
  members(path: string, v: JsonValue, known: Array<string>, since15: Array<string>): void {
    for (let i = 0; i < v.members.length; i++) {
      const key = v.members[i].key;
      if (known.includes(key)) continue;
      if (since15.includes(key)) this.fail(member(path, key), "not supported: this is the typed configuration emitted by Kuadrant operator 1.5 and later (wasm-shim ≥ 0.14); use a Kuadrant 1.3/1.4 shaped configuration");
      else this.fail(member(path, key), "unknown field (expected one of: " + known.join(", ") + ")");
    }
  }

  cel(path: string, v: JsonValue | null): Expression | null {
    const source = this.string(path, v, true);
    if (source === null) return null;
    const compiled = compileCel(source);
    if (!compiled.ok) { this.fail(path, "invalid CEL expression '" + source + "': " + compiled.error); return null; }
    return compiled.expression;
  }

  celList(path: string, v: JsonValue | null): Array<Expression> {
    const out = new Array<Expression>();
    const items = this.array(path, v, false);
    for (let i = 0; i < items.length; i++) {
      const e = this.cel(path + "[" + i.toString() + "]", items[i]);
      if (e !== null) out.push(e);
    }
    return out;
  }
}

function member(path: string, key: string): string {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const plain = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95;
    if (!plain) return path + "[\"" + key + "\"]";
  }
  return path + "." + key;
}

export function parsePluginConfig(text: string): ConfigResult {
  const doc = parseJson(text);
  if (!doc.ok) return new ConfigResult(null, ["$: not valid JSON: " + doc.error + " at offset " + doc.offset.toString()]);
  const c = new Checker();
  const root = c.object("$", doc.value, true);
  if (root === null) return new ConfigResult(null, c.errors);
  c.members("$", root, ["services", "actionSets", "requestData", "observability"], ["descriptorService"]);

  const config = new PluginConfig();
  const services = c.object("$.services", root.get("services"), true);
  if (services !== null) {
    for (let i = 0; i < services.members.length; i++) {
      const m = services.members[i];
      const svc = parseService(c, member("$.services", m.key), m.key, m.value);
      if (svc !== null) config.services.set(m.key, svc);
    }
  }
  const sets = c.array("$.actionSets", root.get("actionSets"), true);
  for (let i = 0; i < sets.length; i++) {
    const set = parseActionSet(c, "$.actionSets[" + i.toString() + "]", i, sets[i], config);
    if (set !== null) config.actionSets.push(set);
  }
  const requestData = c.object("$.requestData", root.get("requestData"), false);
  if (requestData !== null) {
    for (let i = 0; i < requestData.members.length; i++) {
      const m = requestData.members[i];
      const path = member("$.requestData", m.key);
      const dot = m.key.lastIndexOf(".");
      const field = m.key.substring(dot + 1);
      if (field.length == 0) { c.fail(path, "binding must end with a field name, e.g. metrics.labels.user"); continue; }
      const e = c.cel(path, m.value);
      if (e !== null) config.requestData.push(new RequestDatum(dot >= 0 ? m.key.substring(0, dot) : "", field, e));
    }
  }
  const obs = c.object("$.observability", root.get("observability"), false);
  if (obs !== null) parseObservability(c, obs, config);
  config.ignored = c.ignored;
  config.warnings = c.warnings;
  if (c.errors.length > 0) return new ConfigResult(null, c.errors);
  return new ConfigResult(config, []);
}

function parseService(c: Checker, path: string, name: string, v: JsonValue): ServiceConfig | null {
  const o = c.object(path, v, true);
  if (o === null) return null;
  c.members(path, o, ["type", "endpoint", "failureMode", "timeout"], ["grpcService", "grpcMethod"]);
  const typeName = c.string(path + ".type", o.get("type"), true);
  let type = ServiceType.RateLimit;
  if (typeName !== null) {
    if (typeName == "auth") type = ServiceType.Auth;
    else if (typeName == "ratelimit") type = ServiceType.RateLimit;
    else if (typeName == "ratelimit-check") type = ServiceType.RateLimitCheck;
    else if (typeName == "ratelimit-report") type = ServiceType.RateLimitReport;
    else if (typeName == "tracing") { type = ServiceType.Tracing; c.ignored.push(path + ": tracing services are accepted and not used (no trace export)"); }
    else if (typeName == "dynamic") c.fail(path + ".type", "'dynamic' services are emitted by Kuadrant operator 1.5 and later (wasm-shim ≥ 0.14) and are not supported");
    else c.fail(path + ".type", "unknown service type '" + typeName + "' (expected auth, ratelimit, ratelimit-check, ratelimit-report or tracing)");
  }
  const endpoint = c.string(path + ".endpoint", o.get("endpoint"), true);
  if (endpoint !== null && endpoint.length == 0) c.fail(path + ".endpoint", "must name an Envoy cluster");
  const mode = c.string(path + ".failureMode", o.get("failureMode"), true);
  if (mode !== null && mode != "deny" && mode != "allow") c.fail(path + ".failureMode", "must be 'deny' or 'allow', got '" + mode + "'");
  let timeoutMs: i64 = 20; // wasm-shim's default
  const timeout = c.string(path + ".timeout", o.get("timeout"), false);
  if (timeout !== null) {
    timeoutMs = parseDurationMs(timeout);
    if (timeoutMs <= 0) c.fail(path + ".timeout", "must be a positive duration such as '100ms' or '1s', got '" + timeout + "'");
  }
  if (typeName === null || endpoint === null || mode === null) return null;
  return new ServiceConfig(name, type, endpoint, mode == "deny", <u32>max<i64>(timeoutMs, 1));
}

function parseActionSet(c: Checker, path: string, index: i32, v: JsonValue, config: PluginConfig): ActionSet | null {
  const o = c.object(path, v, true);
  if (o === null) return null;
  c.members(path, o, ["name", "routeRuleConditions", "actions"], []);
  const name = c.string(path + ".name", o.get("name"), false);
  const rrc = c.object(path + ".routeRuleConditions", o.get("routeRuleConditions"), true);
  const hostnames = new Array<string>();
  let predicates = new Array<Expression>();
  if (rrc !== null) {
    c.members(path + ".routeRuleConditions", rrc, ["hostnames", "predicates", "matches"], []);
    const hosts = c.array(path + ".routeRuleConditions.hostnames", rrc.get("hostnames"), true);
    for (let i = 0; i < hosts.length; i++) {
      const h = c.string(path + ".routeRuleConditions.hostnames[" + i.toString() + "]", hosts[i], true);
      if (h === null) continue;
      if (h.length == 0 || (h.includes("*") && h != "*" && !(h.startsWith("*.") && h.lastIndexOf("*") == 0))) {
        c.fail(path + ".routeRuleConditions.hostnames[" + i.toString() + "]", "'" + h + "' is not a hostname, '*' or '*.domain'");
        continue;
      }
      hostnames.push(h.toLowerCase());
    }
    predicates = c.celList(path + ".routeRuleConditions.predicates", rrc.get("predicates"));
    if (rrc.has("matches")) c.fail(path + ".routeRuleConditions.matches", "not supported: pattern-based matches come from Kuadrant operator < 1.0; use CEL predicates");
  }
  const actions = new Array<Action>();
  const items = c.array(path + ".actions", o.get("actions"), true);
  for (let i = 0; i < items.length; i++) {
    const a = parseAction(c, path + ".actions[" + i.toString() + "]", i, items[i], config);
    if (a !== null) actions.push(a);
  }
  return new ActionSet(index, name !== null ? name : "", hostnames, predicates, actions);
}

function parseAction(c: Checker, path: string, index: i32, v: JsonValue, config: PluginConfig): Action | null {
  const o = c.object(path, v, true);
  if (o === null) return null;
  if (o.has("type")) {
    c.fail(path + ".type", "typed actions (grpc, deny, headers, store, fail) are emitted by Kuadrant operator 1.5 and later (wasm-shim ≥ 0.14) and are not supported");
    return null;
  }
  c.members(path, o, ["service", "scope", "predicates", "conditionalData", "data", "sources"], ["predicate", "terminal", "isGuard", "execution", "messageBuilder", "onReply", "var", "label"]);
  if (o.has("sources")) c.ignored.push(path + ".sources: policy locators are informational only");
  const serviceName = c.string(path + ".service", o.get("service"), true);
  let service: ServiceConfig | null = null;
  if (serviceName !== null) {
    if (config.services.has(serviceName)) service = config.services.get(serviceName);
    else c.fail(path + ".service", "unknown service '" + serviceName + "' (services defines: " + config.services.keys().join(", ") + ")");
  }
  const scope = c.string(path + ".scope", o.get("scope"), true);
  c.actionProblems = [];
  const predicates = c.celList(path + ".predicates", o.get("predicates"));
  const blocks = new Array<ConditionalData>();
  const cd = c.array(path + ".conditionalData", o.get("conditionalData"), false);
  for (let i = 0; i < cd.length; i++) {
    const bpath = path + ".conditionalData[" + i.toString() + "]";
    const b = c.object(bpath, cd[i], true);
    if (b === null) continue;
    c.members(bpath, b, ["predicates", "data"], []);
    blocks.push(new ConditionalData(c.celList(bpath + ".predicates", b.get("predicates")), parseData(c, bpath + ".data", b.get("data"), false)));
  }
  // Kuadrant 1.0–1.2: data directly on the action, no conditionalData.
  if (o.has("data")) {
    if (o.has("conditionalData")) c.fail(path + ".data", "use either 'data' (Kuadrant 1.0–1.2) or 'conditionalData', not both");
    else blocks.push(new ConditionalData([], parseData(c, path + ".data", o.get("data"), true)));
  }
  if (service === null || scope === null) return null;
  if (service.isRateLimit && scope.length == 0 && !hasDomainItem(blocks)) {
    c.problem(path + ".scope", "must not be empty for a rate-limit service: it is the Limitador namespace (or set a 'ratelimit.domain' data item)");
  }
  if (service.type == ServiceType.Auth && blocks.length > 0) {
    // wasm-shim ignores data on auth actions too; the operator never emits it.
    c.warnings.push(path + ".conditionalData: auth actions send no descriptors; this data is ignored");
    blocks.length = 0;
  }
  const action = new Action(index, service, scope, predicates, blocks);
  if (c.actionProblems.length > 0) {
    action.misconfigured = c.actionProblems.join("; ");
    c.warnings.push(action.misconfigured + " (requests reaching this action fail it; failureMode decides)");
  }
  return action;
}

function hasDomainItem(blocks: Array<ConditionalData>): bool {
  for (let b = 0; b < blocks.length; b++) {
    const data = blocks[b].data;
    for (let i = 0; i < data.length; i++) if (data[i].key == KEY_DOMAIN) return true;
  }
  return false;
}

function parseData(c: Checker, path: string, v: JsonValue | null, required: bool): Array<DataItem> {
  const out = new Array<DataItem>();
  const items = c.array(path, v, required);
  for (let i = 0; i < items.length; i++) {
    const ipath = path + "[" + i.toString() + "]";
    const o = c.object(ipath, items[i], true);
    if (o === null) continue;
    if (o.has("selector")) { c.fail(ipath + ".selector", "selector data items come from Kuadrant operator < 1.0 (wasm-shim < 0.8) and are not supported; use 'expression'"); continue; }
    c.members(ipath, o, ["static", "expression"], []);
    const isStatic = o.has("static");
    if (isStatic == o.has("expression")) { c.fail(ipath, "must have exactly one of 'static' or 'expression'"); continue; }
    const kind = isStatic ? "static" : "expression";
    const body = c.object(ipath + "." + kind, o.get(kind), true);
    if (body === null) continue;
    c.members(ipath + "." + kind, body, ["key", "value"], []);
    const key = c.string(ipath + "." + kind + ".key", body.get("key"), true);
    if (key === null) continue;
    if (key.length == 0) { c.fail(ipath + "." + kind + ".key", "must not be empty"); continue; }
    if (isStatic) {
      const value = c.string(ipath + ".static.value", body.get("value"), true);
      if (value === null) continue;
      if (key == KEY_HITS_ADDEND && !isU32(value)) { c.problem(ipath + ".static.value", "ratelimit.hits_addend must be an integer from 0 to 4294967295, got '" + value + "'"); continue; }
      if (key == KEY_DOMAIN && value.length == 0) { c.problem(ipath + ".static.value", "ratelimit.domain must not be empty"); continue; }
      out.push(new DataItem(key, value, null));
    } else {
      const e = c.cel(ipath + ".expression.value", body.get("value"));
      if (e !== null) out.push(new DataItem(key, null, e));
    }
  }
  return out;
}

function isU32(s: string): bool {
  if (s.length == 0 || s.length > 10) return false;
  for (let i = 0; i < s.length; i++) { const ch = s.charCodeAt(i); if (ch < 48 || ch > 57) return false; }
  return U64.parseInt(s) <= 4294967295;
}

function parseObservability(c: Checker, o: JsonValue, config: PluginConfig): void {
  c.members("$.observability", o, ["httpHeaderIdentifier", "defaultLevel", "tracing"], []);
  const id = o.get("httpHeaderIdentifier");
  if (id !== null && !id.isNull) {
    const h = c.string("$.observability.httpHeaderIdentifier", id, false);
    if (h !== null) config.requestIdHeader = h.toLowerCase();
  }
  const level = o.get("defaultLevel");
  if (level !== null && !level.isNull) {
    const l = c.string("$.observability.defaultLevel", level, false);
    if (l !== null) {
      const u = l.toUpperCase();
      const levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"];
      const index = levels.indexOf(u);
      if (index < 0) c.fail("$.observability.defaultLevel", "must be one of TRACE, DEBUG, INFO, WARN, ERROR, OFF; got '" + l + "'");
      else config.logLevel = index == 5 ? 6 : index;
    }
  }
  if (o.has("tracing")) c.ignored.push("$.observability.tracing: accepted and not used (no trace export)");
}
