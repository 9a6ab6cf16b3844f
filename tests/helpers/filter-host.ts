// Starts build/filter.wasm in the Envoy-like host with a plugin configuration.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EnvoyHost, type HostOptions, type StreamOptions } from "../../host/index.js";
import { filterWasm } from "./wasm.js";

export function configFixture(name: string): any {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/configs/${name}.json`, import.meta.url)), "utf8"));
}

export async function startFilter(config: unknown, opts: HostOptions = {}): Promise<EnvoyHost> {
  return EnvoyHost.start(filterWasm(), {
    pluginConfig: typeof config === "string" ? config : JSON.stringify(config),
    logLevel: 1,
    ...opts,
  });
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
