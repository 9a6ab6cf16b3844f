// The stats_tags that turn the filter's label-encoded stat names into Prometheus labels
// (design §3.6): "model_name=.=opt;.;tier=.=free;.;inference_model_request_total" →
// inference_model_request_total{model_name="opt",tier="free"}. Used by the gateway's admin
// listener and written into envoy/envoy.yaml. model_name before target_model_name: the filter
// writes model_name first, so its regex matches there and not in target_model_name's tail.
import type { StatsTag } from "./stats.js";

export const FILTER_STATS_TAGS: StatsTag[] = ["model_name", "target_model_name", "tier", "user", "response_code", "error_class"].map((tag) => ({
  tagName: tag,
  regex: `(${tag}=\\.=(.*?);\\.;)`,
}));
