// What `npm run bench` measures per request: one line per scenario. A scenario whose config
// file is absent is reported as skipped, so a config added later is measured with no change here.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { InProcessCluster } from "../host/grpc-clusters.js";
import { authorizationService, envoyRateLimitService } from "../proto/index.js";
import { largeConfig } from "./large-config.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export interface BenchRequest {
  headers: Array<[string, string]>;
  body: string;
}

export interface Scenario {
  /** Key in bench/results/*.json. */
  id: string;
  /** Column heading. */
  title: string;
  /** "noop": the pass-through filter on the same ABI layer, the baseline of every ratio; "baseline": `--baseline` build. */
  wasm: "filter" | "noop" | "baseline";
  /** The plugin configuration; null when it does not exist (yet): the scenario is skipped. */
  config: () => string | null;
  request: BenchRequest;
}

const fromFile = (path: string) => () => (existsSync(`${ROOT}${path}`) ? readFileSync(`${ROOT}${path}`, "utf8") : null);

/** A chat completion for `model`, as the MaaS gateway sees it (API key, JSON body). */
export function chatRequest(model: string): BenchRequest {
  return {
    headers: [[":method", "POST"], [":path", `/llm/${model}/v1/chat/completions`], [":authority", "maas.apps.example.com"], [":scheme", "https"], ["authorization", "APIKEY k"], ["content-type", "application/json"]],
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  };
}

const MAAS_MODEL = "facebook-opt-125m-simulated";

export const SCENARIOS: Scenario[] = [
  { id: "noop", title: "no-op filter", wasm: "noop", config: () => "", request: chatRequest(MAAS_MODEL) },
  { id: "maas", title: "MaaS classic", wasm: "filter", config: fromFile("local/config/plugin-config.json"), request: chatRequest(MAAS_MODEL) },
  { id: "maas-baseline", title: "MaaS classic, --baseline build", wasm: "baseline", config: fromFile("local/config/plugin-config.json"), request: chatRequest(MAAS_MODEL) },
  { id: "maas-typed", title: "MaaS typed", wasm: "filter", config: fromFile("local/config/plugin-config-typed.json"), request: chatRequest(MAAS_MODEL) },
  { id: "sets1-labels10", title: "1 set, 10 labels", wasm: "filter", config: () => largeConfig(1, 10), request: chatRequest("model-0") },
  { id: "sets20-labels10-first", title: "20 sets, 10 labels, 1st", wasm: "filter", config: () => largeConfig(20, 10), request: chatRequest("model-0") },
  { id: "sets20-labels10-last", title: "20 sets, 10 labels, 20th", wasm: "filter", config: () => largeConfig(20, 10), request: chatRequest("model-19") },
];

/** The model server's answer: JSON with OpenAI usage (what the token report counts). */
export function upstreamChat(request: { body: Buffer }) {
  const model = (JSON.parse(request.body.toString("utf8") || "{}").model as string | undefined) ?? "m";
  return {
    status: 200,
    headers: [["content-type", "application/json"]] as Array<[string, string]>,
    body: JSON.stringify({ id: "c", model, choices: [], usage: { prompt_tokens: 21, completion_tokens: 7, total_tokens: 28 } }),
  };
}

/** Limitador (OK) and Authorino (allow, identity alice/premium) answering in process: no network time. */
export function inProcessClusters(): Record<string, InProcessCluster> {
  const ok = Buffer.from(envoyRateLimitService().service.ShouldRateLimit.responseSerialize({ overall_code: "OK" }));
  const authOk = Buffer.from(authorizationService().service.Check.responseSerialize({
    status: { code: 0 }, ok_response: {},
    dynamic_metadata: { fields: { identity: { structValue: { fields: { userid: { stringValue: "alice" }, tier: { stringValue: "premium" } } } } } },
  }));
  const limitador: InProcessCluster = () => ({ status: 0, message: "", response: ok });
  const authorino: InProcessCluster = () => ({ status: 0, message: "", response: authOk });
  return { "kuadrant-ratelimit-service": limitador, limitador, "kuadrant-auth-service": authorino, authorino };
}
