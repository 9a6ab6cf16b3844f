// The seeded fuzz corpus: hostile configs, headers, paths, metadata types, gRPC replies and
// bodies. Every random choice is drawn here, up front, so a case is plain data: the fuzz suite
// plays it against real gRPC, the release-vs-debug suite against both builds.
import { configFixture } from "./filter-host.js";
import type { StreamOptions } from "../../host/index.js";

function prng(seed: number) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

export const CORPUS_CONFIGS = ["maas-ratelimit", "maas-tokens", "maas-auth"];

export interface RequestCase {
  headers: Array<[string, string]>;
  body?: string;
  options: Pick<StreamOptions, "dynamicMetadata" | "filterState">;
  /** Replies to the filter's gRPC calls, in call order; calls past the end get `noise`. */
  replies: Buffer[];
  noise: Buffer;
  upstream: { status: number; headers: Array<[string, string]>; body: Array<string | Buffer> };
}

export interface FuzzCorpus {
  /** Mutated configurations (JSON values, or a string of noise). */
  configs: unknown[];
  /** Per base configuration (CORPUS_CONFIGS), hostile requests. */
  requests: Record<string, RequestCase[]>;
}

export function fuzzCorpus(seed = 424242, configs = 300, requestsPerConfig = 120): FuzzCorpus {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const noise = (max = 40) => Buffer.from(Array.from({ length: int(max) }, () => int(256)));
  const text = (max = 30) => Array.from({ length: int(max) }, () => String.fromCodePoint(pick([int(128), 0x20 + int(90), 0xe9, 0x4f60, 0x1f600, 0]))).join("");

  function mutateJson(v: any, depth = 0): any {
    if (depth > 6) return v;
    if (Array.isArray(v)) return r() < 0.1 ? pick([{}, "x", null, 3]) : v.filter(() => r() > 0.05).map((x) => mutateJson(x, depth + 1));
    if (v && typeof v === "object") {
      const out: any = {};
      for (const [k, x] of Object.entries(v)) if (r() > 0.05) out[r() < 0.03 ? text(8) : k] = mutateJson(x, depth + 1);
      return r() < 0.05 ? pick([[], "s", 1, true]) : out;
    }
    if (typeof v === "string") return r() < 0.15 ? pick([text(20), "", v + pick([")", "'", "[", ".", "!", " && ", "\u0000"]), "1/0 == 1", "x".repeat(3000)]) : v;
    return r() < 0.1 ? pick([null, "1", -1, 1e300, {}]) : v;
  }

  const bases = CORPUS_CONFIGS.map(configFixture);
  const mutated: unknown[] = [];
  for (let i = 0; i < configs; i++) {
    const config = mutateJson(structuredClone(pick(bases)));
    mutated.push(r() < 0.05 ? noise(200).toString("latin1") : config);
  }

  const requests: Record<string, RequestCase[]> = {};
  for (const name of CORPUS_CONFIGS) {
    requests[name] = [];
    for (let i = 0; i < requestsPerConfig; i++) {
      const headers: Array<[string, string]> = [
        [":method", pick(["POST", "GET", "", text(5)])],
        [":path", pick(["/llm/facebook-opt-125m-simulated/v1/chat/completions", "/llm/", "/llm//x", "/", "", "/llm/" + text(40), "/llm/a?b=%zz&&=", "/llm/" + "a/".repeat(500)])],
        [":authority", pick(["maas.apps.example.com", "MAAS.APPS.EXAMPLE.COM:99999", "", "[::1]:80", text(20), "a.apps.example.com."])],
      ];
      for (let h = 0; h < int(6); h++) headers.push([pick(["authorization", "x-request-id", "content-type", text(10)]), pick([text(50), "APIKEY key-alice", "x".repeat(20000)])]);
      const metadataValue = pick<unknown>([{ userid: "alice", tier: "free" }, { userid: 7, tier: null }, { userid: ["a"], tier: { x: 1 } }, "str", 42, true, [], { userid: text(10), tier: text(10) }]);
      const reply = pick([Buffer.from([8, 1]), Buffer.from([8, 2]), Buffer.from([8, 0]), Buffer.from([8, 1, 26, 4, 10, 0, 18, 0]), noise(), Buffer.alloc(0), Buffer.from([0x1a, 0xff, 0xff, 0xff, 0x0f])]);
      const contentType = pick(["application/json", "text/event-stream", "text/plain", ""]);
      const body = pick<Array<string | Buffer>>([[noise(100)], ['{"usage":{"total_tokens":' + pick(["1", "-1", "1e99", "\"7\"", "null", "18446744073709551616"]) + "}}"], ["data: {\"usage\":", "{\"total_tokens\":3}}\n\n"], ["\r\r\r\n\n:::\ndata\n\n"], [text(200)]]);
      const requestBody = r() < 0.5 ? text(100) : undefined;
      const dynamicMetadata = r() < 0.8 ? { "envoy.filters.http.ext_authz": { identity: metadataValue } } : { "envoy.filters.http.ext_authz": pick<any>(["x", 1, [1, 2]]) };
      const filterState: Record<string, string> = r() < 0.3 ? { "wasm.kuadrant.auth.identity.userid": pick(["\"bob\"", "{", "", "null"]) } : {};
      const status = pick([200, 200, 500, 204]);
      requests[name].push({
        headers, body: requestBody, options: { dynamicMetadata, filterState }, replies: [reply], noise: noise(),
        upstream: { status, headers: [["content-type", contentType]], body },
      });
    }
  }
  return { configs: mutated, requests };
}
