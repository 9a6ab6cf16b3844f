// Typed actions, as wasm-shim ≥ 0.13 and Kuadrant operator main write them
// (research/wasm-shim-newer-config.md §2.4–2.6): grpc, deny, headers, store, fail.
import { JsonValue, JsonKind } from "../../json";
import { NodeKind, MessageNode } from "../../cel/ast";
import { Checker, index } from "./checker";
import { TypedAction, TypedKind, PluginConfig, ServiceType } from "./model";
import { descriptorPool } from "../../proto/pool";

const KINDS: Array<string> = ["grpc", "deny", "headers", "store", "fail"];
/** Roots a `var` must not shadow: the attributes every expression can read. */
const HOST_ROOTS: Array<string> = ["request", "response", "source", "destination", "connection", "metadata", "filter_state", "xds", "upstream"];

/**
 * wasm-shim decides the shape per action: typed when `type` names a typed operation and the
 * typed fields are there, classic otherwise. An action whose `type` is typed but that has no
 * classic `service` + `scope` is read as typed, so its errors speak of the typed fields.
 */
export function looksTyped(o: JsonValue): bool {
  const type = o.get("type");
  if (type === null || type.kind != JsonKind.String || !KINDS.includes(type.str)) return false;
  if (!(o.has("service") && o.has("scope"))) return true;
  const p = o.get("predicate"), t = o.get("terminal");
  if (p === null || p.kind != JsonKind.String || t === null || t.kind != JsonKind.Bool) return false;
  const required = requiredFields(type.str);
  for (let i = 0; i < required.length; i++) if (!o.has(required[i])) return false;
  return true;
}

function requiredFields(kind: string): Array<string> {
  if (kind == "grpc") return ["var", "service", "messageBuilder"];
  if (kind == "deny") return ["denyWith"];
  if (kind == "headers") return ["target", "headers"];
  if (kind == "store") return ["path", "value"];
  return ["logMessage"];
}

export function parseTypedAction(c: Checker, path: string, i: i32, o: JsonValue, config: PluginConfig, inOnReply: bool): TypedAction | null {
  const typeName = c.string(path + ".type", o.get("type"), true);
  if (typeName === null) return null;
  const kind = <TypedKind>KINDS.indexOf(typeName);
  const known = ["type", "predicate", "terminal", "isGuard", "execution", "sources"];
  const required = requiredFields(typeName);
  for (let r = 0; r < required.length; r++) known.push(required[r]);
  if (kind == TypedKind.Grpc) { known.push("onReply"); known.push("label"); }
  if (kind == TypedKind.Store) known.push("exportToHost");
  c.members(path, o, known);
  const predicate = c.cel(path + ".predicate", o.get("predicate"));
  const terminalValue = o.get("terminal");
  if (terminalValue === null) c.fail(path + ".terminal", "is required");
  const terminal = c.bool(path + ".terminal", terminalValue, false);
  if (predicate === null) return null;
  const a = new TypedAction(i, path, kind, predicate, terminal);
  const outerProblems = c.actionProblems; // onReply children collect their own
  c.actionProblems = [];
  a.isGuard = c.bool(path + ".isGuard", o.get("isGuard"), true);
  const execution = c.string(path + ".execution", o.get("execution"), false);
  if (execution !== null) {
    if (execution != "parallel" && execution != "sequential") c.fail(path + ".execution", "must be 'parallel' or 'sequential', got '" + execution + "'");
    else if (execution == "sequential" && inOnReply) c.fail(path + ".execution", "'sequential' is not allowed inside onReply");
    a.sequential = execution == "sequential";
  }
  const sources = c.array(path + ".sources", o.get("sources"), false);
  for (let s = 0; s < sources.length; s++) {
    const src = c.string(index(path + ".sources", s), sources[s], true);
    if (src !== null) a.sources.push(src);
  }
  switch (kind) {
    case TypedKind.Grpc: parseGrpc(c, path, o, a, config); break;
    case TypedKind.Deny: a.denyWith = c.cel(path + ".denyWith", o.get("denyWith")); break;
    case TypedKind.Headers: {
      let target = c.string(path + ".target", o.get("target"), true);
      // Operator 1.5 and main emit "" for request-phase extension headers (§6.3 #6), which
      // wasm-shim refuses, taking every route down: "" means the request here, with a warning.
      if (target !== null && target.length == 0) { c.warnings.push(path + ".target: empty, taken as 'request'"); target = "request"; }
      if (target !== null && target != "request" && target != "response") c.fail(path + ".target", "must be 'request' or 'response', got '" + target + "'");
      a.targetResponse = target !== null && target == "response";
      a.headers = c.cel(path + ".headers", o.get("headers"));
      break;
    }
    case TypedKind.Store: {
      const p = c.string(path + ".path", o.get("path"), true);
      if (p !== null) {
        if (!isStorePath(p)) c.fail(path + ".path", "'" + p + "' is not a dotted name such as 'auth' or 'kuadrant.internal.response.body'");
        else if (HOST_ROOTS.includes(p.split(".")[0])) c.fail(path + ".path", "'" + p + "' would hide the host attribute '" + p.split(".")[0] + "'");
        a.storePath = p;
      }
      a.value = c.cel(path + ".value", o.get("value"));
      a.exportToHost = c.bool(path + ".exportToHost", o.get("exportToHost"), false);
      break;
    }
    default: {
      const m = c.string(path + ".logMessage", o.get("logMessage"), true);
      if (m !== null) a.logMessage = m;
    }
  }
  if (c.actionProblems.length > 0) {
    a.misconfigured = c.actionProblems.join("; ");
    c.warnings.push(a.misconfigured + " (requests reaching this action fail it; failureMode decides)");
  }
  c.actionProblems = outerProblems;
  return a;
}

function parseGrpc(c: Checker, path: string, o: JsonValue, a: TypedAction, config: PluginConfig): void {
  const varName = c.string(path + ".var", o.get("var"), true);
  if (varName !== null) {
    if (!isIdentifier(varName)) c.fail(path + ".var", "'" + varName + "' is not a CEL identifier");
    else if (HOST_ROOTS.includes(varName)) c.fail(path + ".var", "'" + varName + "' would hide the host attribute of that name");
    a.varName = varName;
  }
  const serviceName = c.string(path + ".service", o.get("service"), true);
  if (serviceName !== null) {
    if (!config.services.has(serviceName)) c.fail(path + ".service", "unknown service '" + serviceName + "' (services defines: " + config.services.keys().join(", ") + ")");
    else {
      const service = config.services.get(serviceName);
      if (service.type == ServiceType.Tracing) c.fail(path + ".service", "a grpc action cannot call a 'tracing' service");
      else a.service = service;
    }
  }
  const label = c.string(path + ".label", o.get("label"), false);
  if (label !== null) a.label = label;
  a.messageBuilder = c.cel(path + ".messageBuilder", o.get("messageBuilder"));
  checkBuilderTypes(c, path, a);
  const replies = c.array(path + ".onReply", o.get("onReply"), false);
  for (let r = 0; r < replies.length; r++) {
    const rpath = index(path + ".onReply", r);
    const child = c.object(rpath, replies[r], true);
    if (child === null) continue;
    const typed = parseTypedAction(c, rpath, r, child, config, true);
    if (typed !== null) a.onReply.push(typed);
  }
}

/**
 * A builder that can never match its method is a mistake confined to the action: it loads, and
 * its calls fail (failureMode decides), as they would in wasm-shim; the warning names it now.
 */
function checkBuilderTypes(c: Checker, path: string, a: TypedAction): void {
  const builder = a.messageBuilder, service = a.service;
  if (builder === null || service === null) return;
  const method = service.method;
  if (method === null) return; // descriptors arrive later (descriptor service)
  const root = builder.root;
  if (root.kind == NodeKind.Message && (changetype<MessageNode>(root)).typeName != method.input.fullName) {
    c.problem(path + ".messageBuilder", "builds a " + (changetype<MessageNode>(root)).typeName + " but " + service.grpcService + "/" + service.grpcMethod + " takes a " + method.input.fullName);
  }
  const pool = descriptorPool();
  for (let t = 0; t < builder.messageTypes.length; t++) {
    const name = builder.messageTypes[t];
    if (pool.message(name) === null) c.problem(path + ".messageBuilder", "unknown message type '" + name + "'");
  }
}

function isIdentifier(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    const letter = (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch == 95;
    if (!letter && !(i > 0 && ch >= 48 && ch <= 57)) return false;
  }
  return true;
}

function isStorePath(s: string): bool {
  const parts = s.split(".");
  for (let i = 0; i < parts.length; i++) if (!isIdentifier(parts[i])) return false;
  return true;
}
