// Starts build/filter.wasm in the Envoy-like host with a plugin configuration.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EnvoyHost, type HostOptions, type StreamOptions } from "../../host/index.js";
import { filterWasm } from "./wasm.js";

export function configFixture(name: string): any {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/configs/${name}.json`, import.meta.url)), "utf8"));
}

/**
 * The filter in a host whose gRPC clusters are connected before the test's first request, so no
 * outcome depends on how fast a cold channel connects on a busy machine.
 */
export async function startFilter(config: unknown, opts: HostOptions = {}): Promise<EnvoyHost> {
  const host = await EnvoyHost.start(filterWasm(), {
    pluginConfig: typeof config === "string" ? config : JSON.stringify(config),
    logLevel: 1,
    ...opts,
  });
  await host.warmClusters();
  return host;
}

/** A generous service timeout for fixtures: a reply is never late unless the server hangs. */
export const GENEROUS_TIMEOUT = "30s";

/** The configuration with every service timeout set to GENEROUS_TIMEOUT (a copy). */
export function withGenerousTimeouts<T>(config: T): T {
  const c = structuredClone(config) as any;
  for (const svc of Object.values(c.services ?? {}) as any[]) if (svc && typeof svc === "object") svc.timeout = GENEROUS_TIMEOUT;
  return c;
}

/** The ext_authz dynamic metadata Authorino's AuthConfig produces for a user. */
export function identity(userid: string, tier?: string): StreamOptions {
  const id: Record<string, string> = { userid };
  if (tier !== undefined) id.tier = tier;
  return { dynamicMetadata: { "envoy.filters.http.ext_authz": { identity: id } } };
}

export const CHAT_PATH = "/llm/facebook-opt-125m-simulated/v1/chat/completions";

export function chatRequest(host = "maas.apps.example.com", path = CHAT_PATH, extra: Array<[string, string]> = []): { headers: Array<[string, string]>; body: string } {
  return {
    headers: [[":method", "POST"], [":path", path], [":authority", host], [":scheme", "https"], ["content-type", "application/json"], ...extra],
    body: JSON.stringify({ model: "facebook-opt-125m-simulated", messages: [{ role: "user", content: "hi" }] }),
  };
}

export const upstreamChat = (tokens = { prompt: 21, completion: 2 }) => () => ({
  status: 200,
  headers: [["content-type", "application/json"]] as Array<[string, string]>,
  body: JSON.stringify({ id: "c", object: "chat.completion", model: "facebook-opt-125m-simulated", choices: [], usage: { prompt_tokens: tokens.prompt, completion_tokens: tokens.completion, total_tokens: tokens.prompt + tokens.completion } }),
});

export function errorLogs(host: EnvoyHost): string[] {
  return host.logs.filter((l) => l.level >= 3).map((l) => l.message);
}
