// Where the filter's own metrics get their model / tier / user labels. Classic configs name them
// in requestData (`metrics.labels.*`, the TelemetryPolicy). Operator main has no requestData: it
// inlines the same labels into every rate-limit message builder as descriptors[1] entries
// (`Entry{key: "user", value: string(auth.identity.userid)}`), so they are read back from there.
import { Expression } from "../cel";
import { Node, NodeKind, MessageNode, ListNode, LiteralNode } from "../cel/ast";
import { Kind } from "../cel/value";
import { PluginConfig, RequestDatum, ServiceType, ENVOY_RLS_SERVICE, KUADRANT_RLS_SERVICE } from "./config";
import { SetPlan, NodeKind as PlanKind } from "./plan";

const LABEL_DOMAIN = "metrics.labels";

export function metricLabels(config: PluginConfig, plans: Array<SetPlan>): Array<RequestDatum> {
  const out = new Array<RequestDatum>();
  for (let i = 0; i < config.requestData.length; i++) if (config.requestData[i].isMetricLabel) out.push(config.requestData[i]);
  if (out.length > 0) return out;
  // Typed configs: the first builder that names a label gives its expression.
  for (let p = 0; p < plans.length; p++) {
    const nodes = plans[p].nodes;
    for (let n = 0; n < nodes.length; n++) {
      if (nodes[n].kind != PlanKind.Grpc) continue;
      const action = nodes[n].typed;
      const service = action.service;
      const builder = action.messageBuilder;
      if (service === null || builder === null || service.type == ServiceType.Tracing) continue;
      if (service.grpcService != ENVOY_RLS_SERVICE && service.grpcService != KUADRANT_RLS_SERVICE) continue;
      collectLabels(builder.root, out);
    }
  }
  return out;
}

/** RateLimitRequest{descriptors: [_, RateLimitDescriptor{entries: [Entry{key: "k", value: v}, ...]}]}. */
function collectLabels(root: Node, out: Array<RequestDatum>): void {
  const descriptors = field(root, "descriptors");
  if (descriptors === null || descriptors.kind != NodeKind.List) return;
  const items = (changetype<ListNode>(descriptors)).items;
  if (items.length < 2) return;
  const entries = field(items[1], "entries");
  if (entries === null || entries.kind != NodeKind.List) return;
  const list = (changetype<ListNode>(entries)).items;
  for (let i = 0; i < list.length; i++) {
    const key = field(list[i], "key"), value = field(list[i], "value");
    if (key === null || value === null || key.kind != NodeKind.Literal) continue;
    const k = (changetype<LiteralNode>(key)).value;
    if (k.kind != Kind.String || has(out, k.s)) continue;
    out.push(new RequestDatum(LABEL_DOMAIN, k.s, new Expression("descriptors[1]." + k.s, value)));
  }
}

function field(node: Node, name: string): Node | null {
  if (node.kind != NodeKind.Message) return null;
  const m = changetype<MessageNode>(node);
  const i = m.fields.indexOf(name);
  return i >= 0 ? m.values[i] : null;
}

function has(labels: Array<RequestDatum>, field: string): bool {
  for (let i = 0; i < labels.length; i++) if (labels[i].field == field) return true;
  return false;
}
