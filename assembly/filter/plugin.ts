// The plugin's root context: parses the configuration once (refusing it, with JSON paths and
// reasons, when it is wrong), plans every action set (plan.ts), fetches the descriptors of
// `dynamic` services it does not know, and creates a request flow per stream.
import { RootContext, HttpContext } from "../abi/context";
import { logError, logDebug, logInfo, logWarn, setLogLevelOverride } from "../abi/hostcalls";
import { parsePluginConfig, PluginConfig, ServiceType } from "./config";
import { HostIndex } from "./routing";
import { FilterMetrics, MetricsOptions } from "./metrics";
import { RequestFlow } from "./request-flow";
import { Expression, AttrPath, attrPath } from "../cel";
import { CHECK_REQUEST_ATTRIBUTES } from "./auth-check";
import { parseJson, JsonValue, JsonKind, JsonSelection } from "../json";
import { bodySelection } from "./body-capture";
import { buildPlans, SetPlan, NodeKind } from "./plan";
import { DescriptorFetcher } from "./descriptor-fetch";
import { kuadrantCounters } from "./kuadrant-counters";
import { metricLabels } from "./metric-labels";

/** Attribute roots that must be read while the request headers are still available. */
const WARM_ROOTS: Array<string> = ["request", "source", "destination", "connection", "metadata"];

export class Plugin extends RootContext {
  config: PluginConfig = new PluginConfig();
  hosts: HostIndex = new HostIndex([]);
  /** One plan per action set, index for index. */
  plans: Array<SetPlan> = [];
  metrics: FilterMetrics = new FilterMetrics([], new MetricsOptions());
  /** Request attributes every request reads (warmed while the request headers are there). */
  requestAttributePaths: Array<AttrPath> = [];
  responseBodyPointers: Array<string> = [];
  /** JSON pointers read from the request body; empty when no expression uses requestBodyJSON. */
  requestBodyPointers: Array<string> = [];
  /** What body parsing builds: usage and the pointers (body-capture.ts). */
  responseBodySelection: JsonSelection = bodySelection([]);
  requestBodySelection: JsonSelection = bodySelection([]);
  /** A metrics label reads the request body (recorded in on_log, whatever the action set needs). */
  labelsReadRequestBody: bool = false;
  private metricsOptions: MetricsOptions = new MetricsOptions();
  private fetcher: DescriptorFetcher | null = null;

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
    const planned = buildPlans(config);
    for (let i = 0; i < planned.warnings.length; i++) logWarn("plugin configuration: " + planned.warnings[i]);
    this.config = config;
    this.plans = planned.plans;
    this.hosts = new HostIndex(config.actionSets);
    const labels = metricLabels(config, planned.plans);
    this.metrics = new FilterMetrics(labels, this.metricsOptions);
    this.labelsReadRequestBody = false;
    for (let i = 0; i < labels.length; i++) if (labels[i].expression.usesRequestBody) this.labelsReadRequestBody = true;
    this.planAttributes();
    const fetcher = new DescriptorFetcher(this, config);
    this.fetcher = fetcher.needed ? fetcher : null;
    if (fetcher.needed) fetcher.start();
    kuadrantCounters.define();
    kuadrantCounters.bump(kuadrantCounters.configs);
    logInfo("configured: " + config.actionSets.length.toString() + " action set(s), " + config.services.size.toString() + " service(s), " + config.requestData.length.toString() + " request data binding(s)");
    return true;
  }

  onTick(): void {
    const fetcher = this.fetcher;
    if (fetcher !== null) fetcher.onTick();
  }

  onGrpcReply(token: u32, message: ArrayBuffer): void {
    const fetcher = this.fetcher;
    if (fetcher !== null) fetcher.onReply(token, message);
  }

  onGrpcFailure(token: u32, status: u32, message: string): void {
    const fetcher = this.fetcher;
    if (fetcher !== null) fetcher.onFailure(token, status, message);
  }

  createHttpContext(contextId: u32): HttpContext {
    return new RequestFlow(contextId, this, this);
  }

  /** Collects every attribute path and body pointer the plans can read. */
  private planAttributes(): void {
    this.requestAttributePaths = [];
    const expressions = new Array<Expression>();
    let usesAuth = false;
    for (let p = 0; p < this.plans.length; p++) {
      const plan = this.plans[p];
      const set = plan.set;
      for (let i = 0; i < set.predicates.length; i++) expressions.push(set.predicates[i]);
      for (let n = 0; n < plan.nodes.length; n++) {
        const node = plan.nodes[n];
        const exprs = node.kind == NodeKind.Classic ? node.classic.expressions() : node.typed.expressions();
        for (let i = 0; i < exprs.length; i++) expressions.push(exprs[i]);
        if (node.kind == NodeKind.Classic && node.classic.service.type == ServiceType.Auth) usesAuth = true;
      }
    }
    for (let i = 0; i < this.config.requestData.length; i++) expressions.push(this.config.requestData[i].expression);
    const seen = new Set<string>();
    const pointers = new Set<string>();
    const requestPointers = new Set<string>();
    for (let e = 0; e < expressions.length; e++) {
      const expr = expressions[e];
      for (let a = 0; a < expr.attributes.length; a++) {
        const path = expr.attributes[a];
        const key = path.join("\0");
        if (WARM_ROOTS.includes(path[0]) && !seen.has(key)) { seen.add(key); this.requestAttributePaths.push(attrPath(path)); }
      }
      for (let p = 0; p < expr.responseBodyPointers.length; p++) pointers.add(expr.responseBodyPointers[p]);
      for (let p = 0; p < expr.requestBodyPointers.length; p++) requestPointers.add(expr.requestBodyPointers[p]);
    }
    this.responseBodyPointers = pointers.values();
    this.requestBodyPointers = requestPointers.values();
    this.responseBodySelection = bodySelection(this.responseBodyPointers);
    this.requestBodySelection = bodySelection(this.requestBodyPointers);
    if (usesAuth) {
      for (let i = 0; i < CHECK_REQUEST_ATTRIBUTES.length; i++) {
        const key = CHECK_REQUEST_ATTRIBUTES[i].join("\0");
        if (!seen.has(key)) { seen.add(key); this.requestAttributePaths.push(attrPath(CHECK_REQUEST_ATTRIBUTES[i])); }
      }
    }
  }
}
