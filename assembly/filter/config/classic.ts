// Classic actions, as Kuadrant operator 1.0–1.5 writes them (research/wasm-shim.md §1,
// research/kuadrant-operator-config-rules.md): {service, scope, predicates, conditionalData}, or
// the 1.0–1.2 action-level `data`.
import { JsonValue } from "../../json";
import { Checker, index } from "./checker";
import { Action, ConditionalData, DataItem, PluginConfig, ServiceConfig, ServiceType, KEY_DOMAIN, KEY_HITS_ADDEND } from "./model";

export function parseClassicAction(c: Checker, path: string, i: i32, o: JsonValue, config: PluginConfig): Action | null {
  c.members(path, o, ["service", "scope", "predicates", "conditionalData", "data", "sources"]);
  if (o.has("sources")) c.ignored.push(path + ".sources: policy locators are informational only");
  const serviceName = c.string(path + ".service", o.get("service"), true);
  let service: ServiceConfig | null = null;
  if (serviceName !== null) {
    if (config.services.has(serviceName)) service = config.services.get(serviceName);
    else c.fail(path + ".service", "unknown service '" + serviceName + "' (services defines: " + config.services.keys().join(", ") + ")");
  }
  if (service !== null && (service.type == ServiceType.Dynamic || service.type == ServiceType.Tracing)) {
    c.fail(path + ".service", "a classic action (service + scope) cannot use a '" + (service.type == ServiceType.Dynamic ? "dynamic" : "tracing") + "' service; use a typed grpc action");
    service = null;
  }
  const scope = c.string(path + ".scope", o.get("scope"), true);
  c.actionProblems = [];
  const predicates = c.celList(path + ".predicates", o.get("predicates"));
  const blocks = new Array<ConditionalData>();
  const cd = c.array(path + ".conditionalData", o.get("conditionalData"), false);
  for (let b = 0; b < cd.length; b++) {
    const bpath = index(path + ".conditionalData", b);
    const block = c.object(bpath, cd[b], true);
    if (block === null) continue;
    c.members(bpath, block, ["predicates", "data"]);
    // A block without `data` is an empty block (wasm-shim's serde default).
    blocks.push(new ConditionalData(c.celList(bpath + ".predicates", block.get("predicates")), parseData(c, bpath + ".data", block.get("data"), false)));
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
  const action = new Action(i, path, service, scope, predicates, blocks);
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

/** Data items are strict (wasm-shim: deny_unknown_fields): exactly one of static / expression. */
function parseData(c: Checker, path: string, v: JsonValue | null, required: bool): Array<DataItem> {
  const out = new Array<DataItem>();
  const items = c.array(path, v, required);
  for (let i = 0; i < items.length; i++) {
    const ipath = index(path, i);
    const o = c.object(ipath, items[i], true);
    if (o === null) continue;
    if (o.has("selector")) { c.fail(ipath + ".selector", "selector data items come from Kuadrant operator < 1.0 (wasm-shim < 0.8) and are not supported; use 'expression'"); continue; }
    const isStatic = o.has("static");
    if (isStatic == o.has("expression") || o.members.length != 1) { c.fail(ipath, "must have exactly one of 'static' or 'expression'"); continue; }
    const kind = isStatic ? "static" : "expression";
    const body = c.object(ipath + "." + kind, o.get(kind), true);
    if (body === null) continue;
    for (let m = 0; m < body.members.length; m++) {
      const k = body.members[m].key;
      if (k != "key" && k != "value") c.fail(ipath + "." + kind + "." + k, "unknown field (expected key and value)");
    }
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
