// The Kuadrant wasm-shim plugin configuration, parsed and checked once at configure time, in
// either shape (classic: operator 1.0–1.5; typed: wasm-shim ≥ 0.13, operator main), mixed per
// action as wasm-shim decides. What cannot work is refused with its JSON path and reason; what
// is merely unknown is ignored with a warning; a mistake confined to one action loads and fails
// that action alone.
import { JsonValue, parseJson } from "../../json";
import { Expression, compileCel } from "../../cel";
import { Checker, member, index } from "./checker";
import { parseService } from "./services";
import { parseClassicAction } from "./classic";
import { parseTypedAction, looksTyped } from "./typed";
import { ActionConfig, ActionSet, ConfigResult, PluginConfig, RequestDatum } from "./model";

export * from "./model";

export function parsePluginConfig(text: string): ConfigResult {
  const doc = parseJson(text);
  if (!doc.ok) return new ConfigResult(null, ["$: not valid JSON: " + doc.error + " at offset " + doc.offset.toString()]);
  const c = new Checker();
  const root = c.object("$", doc.value, true);
  if (root === null) return new ConfigResult(null, c.errors);
  c.members("$", root, ["services", "actionSets", "requestData", "observability", "descriptorService"]);

  const config = new PluginConfig();
  const services = c.object("$.services", root.get("services"), true);
  if (services !== null) {
    for (let i = 0; i < services.members.length; i++) {
      const m = services.members[i];
      const svc = parseService(c, member("$.services", m.key), m.key, m.value);
      if (svc !== null) config.services.set(m.key, svc);
    }
  }
  const descriptorService = c.string("$.descriptorService", root.get("descriptorService"), false);
  if (descriptorService !== null) {
    if (descriptorService.length == 0) c.fail("$.descriptorService", "must name the Envoy cluster of the descriptor service");
    config.descriptorService = descriptorService;
  }
  const sets = c.array("$.actionSets", root.get("actionSets"), true);
  for (let i = 0; i < sets.length; i++) {
    const set = parseActionSet(c, index("$.actionSets", i), i, sets[i], config);
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
      // A label is user-written CEL: one that does not parse is dropped (as wasm-shim drops it), not
      // a reason to take every route down.
      const source = c.string(path, m.value, true);
      if (source === null) continue;
      const compiled = compileCel(source);
      if (!compiled.ok) { c.warnings.push(path + ": invalid CEL expression '" + source + "': " + compiled.error + "; this label is left out"); continue; }
      config.requestData.push(new RequestDatum(dot >= 0 ? m.key.substring(0, dot) : "", field, compiled.expression!));
    }
  }
  const obs = c.object("$.observability", root.get("observability"), false);
  if (obs !== null) parseObservability(c, obs, config);
  config.ignored = c.ignored;
  config.warnings = c.warnings;
  if (c.errors.length > 0) return new ConfigResult(null, c.errors);
  return new ConfigResult(config, []);
}

function parseActionSet(c: Checker, path: string, i: i32, v: JsonValue, config: PluginConfig): ActionSet | null {
  const o = c.object(path, v, true);
  if (o === null) return null;
  c.members(path, o, ["name", "routeRuleConditions", "actions"]);
  const name = c.string(path + ".name", o.get("name"), false);
  const rrc = c.object(path + ".routeRuleConditions", o.get("routeRuleConditions"), true);
  const hostnames = new Array<string>();
  let predicates = new Array<Expression>();
  if (rrc !== null) {
    c.members(path + ".routeRuleConditions", rrc, ["hostnames", "predicates", "matches"]);
    const hosts = c.array(path + ".routeRuleConditions.hostnames", rrc.get("hostnames"), true);
    for (let h = 0; h < hosts.length; h++) {
      const hpath = index(path + ".routeRuleConditions.hostnames", h);
      const host = c.string(hpath, hosts[h], true);
      if (host === null) continue;
      if (host.length == 0 || (host.includes("*") && host != "*" && !(host.startsWith("*.") && host.lastIndexOf("*") == 0))) {
        c.fail(hpath, "'" + host + "' is not a hostname, '*' or '*.domain'");
        continue;
      }
      hostnames.push(host.toLowerCase());
    }
    predicates = c.celList(path + ".routeRuleConditions.predicates", rrc.get("predicates"));
    // Ignoring these would leave the route unmatched-as-written: refuse instead.
    if (rrc.has("matches")) c.fail(path + ".routeRuleConditions.matches", "not supported: pattern-based matches come from Kuadrant operator < 1.0; use CEL predicates");
  }
  const actions = new Array<ActionConfig>();
  const items = c.array(path + ".actions", o.get("actions"), true);
  for (let a = 0; a < items.length; a++) {
    const apath = index(path + ".actions", a);
    const item = c.object(apath, items[a], true);
    if (item === null) continue;
    const action: ActionConfig | null = looksTyped(item)
      ? parseTypedAction(c, apath, a, item, config, false)
      : parseClassicAction(c, apath, a, item, config);
    if (action !== null) actions.push(action);
  }
  return new ActionSet(i, name !== null ? name : "", hostnames, predicates, actions);
}

function parseObservability(c: Checker, o: JsonValue, config: PluginConfig): void {
  c.members("$.observability", o, ["httpHeaderIdentifier", "defaultLevel", "tracing"]);
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
      const at = levels.indexOf(u);
      if (at < 0) c.fail("$.observability.defaultLevel", "must be one of TRACE, DEBUG, INFO, WARN, ERROR, OFF; got '" + l + "'");
      else config.logLevel = at == 5 ? 6 : at;
    }
  }
  if (o.has("tracing")) c.ignored.push("$.observability.tracing: accepted and not used (no trace export)");
}
