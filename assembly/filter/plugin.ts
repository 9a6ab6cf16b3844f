// The plugin's root context: parses the configuration once (refusing it, with JSON paths and
// reasons, when it is wrong), plans what each request must read, and creates request flows.
import { RootContext, HttpContext } from "../abi/context";
import { logError, logDebug, logInfo, logWarn, setLogLevelOverride } from "../abi/hostcalls";
import { parsePluginConfig, PluginConfig, ActionSet, Action, ConditionalData, ServiceType } from "./config";
import { HostIndex } from "./routing";
import { FilterMetrics, MetricsOptions } from "./metrics";
import { RequestFlow } from "./request-flow";
import { Expression } from "../cel";
import { CHECK_REQUEST_ATTRIBUTES } from "./auth-check";
import { parseJson, JsonValue, JsonKind } from "../json";

/** Attribute roots that must be read while the request headers are still available. */
const WARM_ROOTS: Array<string> = ["request", "source", "destination", "connection", "metadata"];

export class Plugin extends RootContext {
  config: PluginConfig = new PluginConfig();
  hosts: HostIndex = new HostIndex([]);
  metrics: FilterMetrics = new FilterMetrics([], new MetricsOptions());
  requestAttributePaths: Array<Array<string>> = [];
  /** The NUL-joined keys of requestAttributePaths, index for index. */
  requestAttributeKeys: Array<string> = [];
  responseBodyPointers: Array<string> = [];
  /** JSON pointers read from the request body; empty when no expression uses requestBodyJSON. */
  requestBodyPointers: Array<string> = [];
  private metricsOptions: MetricsOptions = new MetricsOptions();

  /** VM configuration: our own options (the plugin configuration stays pure Kuadrant). */
  onVmStart(vmConfiguration: ArrayBuffer): bool {
    if (vmConfiguration.byteLength == 0) return true;
    const parsed = parseJson(String.UTF8.decode(vmConfiguration));
    if (!parsed.ok || !(<JsonValue>parsed.value).isObject) {
      logError("vm configuration refused: expected a JSON object such as {\"metricsUserLabel\": false, \"metricsMaxLabelSets\": 200}");
      return false;
    }
    const doc = <JsonValue>parsed.value;
    const user = doc.get("metricsUserLabel");
    if (user !== null && user.kind == JsonKind.Bool) this.metricsOptions.userLabel = user.bool;
    const cap = doc.get("metricsMaxLabelSets");
    if (cap !== null && cap.kind == JsonKind.Number && cap.isInteger && cap.int > 0) this.metricsOptions.maxLabelSets = <i32>min<i64>(cap.int, 100000);
    return true;
  }

  onConfigure(configuration: ArrayBuffer): bool {
    const result = parsePluginConfig(String.UTF8.decode(configuration));
    if (!result.ok) {
      for (let i = 0; i < result.errors.length; i++) logError("plugin configuration refused: " + result.errors[i]);
      return false;
    }
    const config = result.config!;
    for (let i = 0; i < config.ignored.length; i++) logDebug("ignored " + config.ignored[i]);
    for (let i = 0; i < config.warnings.length; i++) logWarn("plugin configuration: " + config.warnings[i]);
    setLogLevelOverride(config.logLevel);
    this.config = config;
    this.hosts = new HostIndex(config.actionSets);
    this.metrics = new FilterMetrics(config.requestData, this.metricsOptions);
    this.plan();
    logInfo("configured: " + config.actionSets.length.toString() + " action set(s), " + config.services.size.toString() + " service(s), " + config.requestData.length.toString() + " request data binding(s)");
    return true;
  }

  private usesAuth(): bool {
    const sets = this.config.actionSets;
    for (let s = 0; s < sets.length; s++) {
      for (let a = 0; a < sets[s].actions.length; a++) if (sets[s].actions[a].service.type == ServiceType.Auth) return true;
    }
    return false;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new RequestFlow(contextId, this, this);
  }

  /** Collects every attribute path and response-body pointer the configuration can read. */
  private plan(): void {
    const expressions = new Array<Expression>();
    const sets = this.config.actionSets;
    for (let s = 0; s < sets.length; s++) collectSet(sets[s], expressions);
    for (let i = 0; i < this.config.requestData.length; i++) expressions.push(this.config.requestData[i].expression);
    const seen = new Set<string>();
    const pointers = new Set<string>();
    const requestPointers = new Set<string>();
    for (let e = 0; e < expressions.length; e++) {
      const expr = expressions[e];
      for (let a = 0; a < expr.attributes.length; a++) {
        const path = expr.attributes[a];
        const key = path.join("\0");
        if (WARM_ROOTS.includes(path[0]) && !seen.has(key)) { seen.add(key); this.requestAttributePaths.push(path); this.requestAttributeKeys.push(key); }
      }
      for (let p = 0; p < expr.responseBodyPointers.length; p++) pointers.add(expr.responseBodyPointers[p]);
      for (let p = 0; p < expr.requestBodyPointers.length; p++) requestPointers.add(expr.requestBodyPointers[p]);
    }
    this.responseBodyPointers = pointers.values();
    this.requestBodyPointers = requestPointers.values();
    // An action waits for the request body when it, or a label sent with it, reads that body.
    let labelsUseBody = false;
    for (let i = 0; i < this.config.requestData.length; i++) if (this.config.requestData[i].expression.usesRequestBody) labelsUseBody = true;
    for (let s = 0; s < sets.length; s++) {
      for (let a = 0; a < sets[s].actions.length; a++) {
        const action = sets[s].actions[a];
        // Auth never waits: labels that read a body are left out of its metadata.
        const sendsLabels = action.service.type == ServiceType.RateLimit || action.service.type == ServiceType.RateLimitCheck;
        action.needsRequestBody = action.usesRequestBody() || (labelsUseBody && sendsLabels);
      }
    }
    if (this.usesAuth()) {
      for (let i = 0; i < CHECK_REQUEST_ATTRIBUTES.length; i++) {
        const key = CHECK_REQUEST_ATTRIBUTES[i].join("\0");
        if (!seen.has(key)) { seen.add(key); this.requestAttributePaths.push(CHECK_REQUEST_ATTRIBUTES[i]); this.requestAttributeKeys.push(key); }
      }
    }
  }
}

function collectSet(set: ActionSet, into: Array<Expression>): void {
  for (let i = 0; i < set.predicates.length; i++) into.push(set.predicates[i]);
  for (let a = 0; a < set.actions.length; a++) collectAction(set.actions[a], into);
}

function collectAction(action: Action, into: Array<Expression>): void {
  for (let i = 0; i < action.predicates.length; i++) into.push(action.predicates[i]);
  for (let b = 0; b < action.conditionalData.length; b++) collectBlock(action.conditionalData[b], into);
}

function collectBlock(block: ConditionalData, into: Array<Expression>): void {
  for (let i = 0; i < block.predicates.length; i++) into.push(block.predicates[i]);
  for (let d = 0; d < block.data.length; d++) {
    const e = block.data[d].expression;
    if (e !== null) into.push(e);
  }
}
