// Seeded generators for the filter's fuzzing: plugin configurations, requests, ext_authz metadata
// and filter state, gRPC replies (Limitador and Authorino), response bodies. Every case is a pure
// function of (seed, index), so any failure replays from two numbers.
//
// Configurations are mutations of a corpus of valid ones, grouped by shape: Kuadrant's "classic"
// shape (tests/fixtures/configs/*.json) and wasm-shim's typed shape (tests/fixtures/configs/typed/
// plus the typed twin of every classic fixture, as operator main would emit it).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { authorizationService, envoyRateLimitService } from "../../proto/index.js";
import { toTypedConfig } from "../../envoy/typed-config.js";

const CONFIG_DIR = fileURLToPath(new URL("../fixtures/configs/", import.meta.url));

function corpus(dir: string): unknown[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => JSON.parse(readFileSync(dir + f, "utf8")));
}

/** Shape name → valid configurations of that shape, the seeds of the mutations. */
const classic = corpus(CONFIG_DIR);
export const CONFIG_SHAPES: Record<string, unknown[]> = {
  classic,
  typed: [...corpus(`${CONFIG_DIR}typed/`), ...classic.map(toTypedConfig)],
};
export const shapes = () => Object.entries(CONFIG_SHAPES).filter(([, c]) => c.length > 0);

export type Rng = () => number;

/** splitmix32 over (seed, index): independent streams per case. */
export function caseRng(seed: number, index: number): Rng {
  let s = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca6b) ^ 0x6a09e667) >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
    return ((z ^ (z >>> 15)) >>> 0) / 2 ** 32;
  };
}

const CODE_POINTS = [0, 0, 0xe9, 0x4f60, 0x1f600, 0, 0x7f, 0xfffd];
const HOSTILE = ["", '"', "\\", "\n", "{", "}", "a\"b\\c\nd{e}f", ";.;", "=.=", "%00", "ünï©ødé", "\u0000", "1/0 == 1", "' || true || '"];
const LONG = "x".repeat(10240);

export class Gen {
  constructor(readonly r: Rng) {}
  int(n: number): number { return Math.floor(this.r() * n); }
  chance(p: number): boolean { return this.r() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  bytes(max = 40): Buffer { return Buffer.from(Array.from({ length: this.int(max) }, () => this.int(256))); }
  /** One of the thunks, evaluated (only the chosen one costs anything). */
  oneOf<T>(...options: Array<() => T>): T { return options[this.int(options.length)](); }
  text(max = 30): string {
    let out = "";
    for (let n = this.int(max); n > 0; n--) {
      const k = this.int(8);
      out += String.fromCodePoint(k === 0 ? this.int(128) : k === 1 ? 0x20 + this.int(90) : CODE_POINTS[k]);
    }
    return out;
  }
  /** Strings that stress parsers and label encoders. */
  hostileString(): string {
    const k = this.int(HOSTILE.length + 2);
    return k === HOSTILE.length ? this.text(20) : k === HOSTILE.length + 1 ? LONG : HOSTILE[k];
  }
}

// ---- configurations ----

const EXPRESSIONS = ["", "1/0 == 1", "x".repeat(3000), "request.headers['x-evil']", "requestBodyJSON('/a/b')", "responseBodyJSON('/usage/total_tokens')",
  "auth.identity.userid + '\"}'", "size(request.path) > 3", "request.headers.exists(h, h.lowerAscii() == 'x-org')", "'a'.matches('(a+)+$')", "queryMap(request.query)['x']"];

/** rate scales every mutation's odds: low rates leave most configurations valid, high ones break them. */
function mutateJson(g: Gen, v: any, rate: number, depth = 0): any {
  if (depth > 6) return v;
  if (Array.isArray(v)) return g.chance(0.1 * rate) ? g.pick<any>([{}, "x", null, 3]) : v.filter(() => !g.chance(0.05 * rate)).map((x) => mutateJson(g, x, rate, depth + 1));
  if (v && typeof v === "object") {
    const out: any = {};
    for (const [k, x] of Object.entries(v)) if (!g.chance(0.05 * rate)) out[g.chance(0.03 * rate) ? g.text(8) : k] = mutateJson(g, x, rate, depth + 1);
    return g.chance(0.05 * rate) ? g.pick<any>([[], "s", 1, true]) : out;
  }
  if (typeof v === "string") return g.chance(0.15 * rate) ? g.oneOf(() => g.text(20), () => v + g.pick([")", "'", "[", ".", "!", " && ", "\u0000"]), () => g.pick(EXPRESSIONS)) : v;
  return g.chance(0.1 * rate) ? g.pick<any>([null, "1", -1, 1e300, {}]) : v;
}

export interface ConfigCase { shape: string; config: unknown }

export function genConfig(g: Gen): ConfigCase {
  const [shape, bases] = g.pick(shapes());
  if (g.chance(0.03)) return { shape, config: g.bytes(200).toString("latin1") };
  const rate = g.pick([0.05, 0.2, 1, 2]);
  return { shape, config: mutateJson(g, structuredClone(g.pick(bases)), rate) };
}

// ---- requests, metadata, bodies ----

export interface RequestCase {
  headers: Array<[string, string]>;
  body?: string;
  dynamicMetadata: Record<string, unknown>;
  filterState: Record<string, string>;
  upstream: { status: number; contentType: string; chunks: string[] };
  /** Replies per gRPC method, used in order; when they run out, OK. */
  replies: Record<string, Array<{ status: number; response?: string }>>;
}

const PATHS = ["/llm/facebook-opt-125m-simulated/v1/chat/completions", "/llm/qwen3-0-6b-instruct-simulated/v1/completions", "/llm/", "/llm//x", "/", "", "/llm/a?b=%zz&&=", "/v1/chat/completions"];

export function genRequest(g: Gen): RequestCase {
  const headers: Array<[string, string]> = [
    [":method", g.pick(["POST", "POST", "GET", "", "PUT"])],
    [":path", g.chance(0.8) ? g.pick(PATHS) : g.oneOf(() => "/llm/" + g.text(40), () => "/llm/" + "a/".repeat(500), () => "/llm/" + g.hostileString() + "/v1")],
    [":authority", g.chance(0.9) ? g.pick(["maas.apps.example.com", "MAAS.APPS.EXAMPLE.COM:99999", "", "[::1]:80", "a.apps.example.com."]) : g.text(20)],
    [":scheme", "https"],
  ];
  for (let h = g.int(6); h > 0; h--) {
    headers.push([g.oneOf(() => g.pick(["authorization", "x-request-id", "content-type", "x-user", "x-tier"]), () => g.text(10).toLowerCase()),
      g.oneOf(() => g.text(50), () => "APIKEY key-alice", () => g.hostileString())]);
  }
  const identity = g.oneOf<unknown>(
    () => ({ userid: "alice", tier: "free" }), () => ({ userid: "bob", tier: "premium" }), () => ({ userid: 7, tier: null }), () => ({ userid: ["a"], tier: { x: 1 } }),
    () => "str", () => 42, () => true, () => [], () => ({ userid: g.hostileString(), tier: g.hostileString() }), () => ({ userid: g.text(10) }),
  );
  const contentType = g.pick(["application/json", "application/json; charset=utf-8", "text/event-stream", "text/plain", ""]);
  return {
    headers,
    body: g.chance(0.7) ? g.oneOf(() => JSON.stringify({ model: g.chance(0.7) ? "facebook-opt-125m-simulated" : g.hostileString(), messages: [{ role: "user", content: "hi" }] }), () => g.text(100), () => "{", () => "") : undefined,
    dynamicMetadata: g.chance(0.85) ? { "envoy.filters.http.ext_authz": { identity } } : { "envoy.filters.http.ext_authz": g.pick<unknown>(["x", 1, [1, 2]]) },
    filterState: g.chance(0.2) ? { "wasm.kuadrant.auth.identity.userid": g.pick(['"bob"', "{", "", "null"]) } : {},
    upstream: { status: g.pick([200, 200, 200, 500, 204, 404]), contentType, chunks: genBody(g) },
    replies: {
      ShouldRateLimit: [genRateLimitReply(g)], CheckRateLimit: [genRateLimitReply(g)], Report: [genRateLimitReply(g)],
      Check: [genAuthReply(g)],
    },
  };
}

export function genBody(g: Gen): string[] {
  const usage = () => `{"usage":{"prompt_tokens":${g.pick(["1", "-1", "1e99", "\"7\"", "null", "18446744073709551616", "3"])},"total_tokens":${g.pick(["1", "-1", "1e99", "\"7\"", "null", "18446744073709551616", "42"])}}}`;
  const whole = g.pick([
    () => usage(),
    () => `data: ${usage()}\n\ndata: [DONE]\n\n`,
    () => `event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":${g.int(99)}}}}\n\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":${g.int(99)}}}\n\n`,
    () => "\r\r\r\n\n:::\ndata\n\n",
    () => g.text(200),
    () => g.bytes(100).toString("latin1"),
    () => `data: {"usage":{"total_tokens":${g.int(1000)}}}` + "\n".repeat(g.int(3)),
  ])();
  // Split at random points: usage may straddle chunks.
  const chunks: string[] = [];
  let rest = whole;
  while (rest.length > 0 && chunks.length < 8) {
    const cut = g.chance(0.5) ? rest.length : 1 + g.int(rest.length);
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest) chunks.push(rest);
  return chunks;
}

// ---- gRPC replies ----

const rlSerialize = (m: unknown) => Buffer.from(envoyRateLimitService().service.ShouldRateLimit.responseSerialize(m)).toString("base64");
const authSerialize = (m: unknown) => Buffer.from(authorizationService().service.Check.responseSerialize(m)).toString("base64");

export function genRateLimitReply(g: Gen): { status: number; response?: string } {
  if (g.chance(0.08)) return { status: g.pick([2, 4, 13, 14, 16]) };
  if (g.chance(0.1)) return { status: 0, response: g.bytes(40).toString("base64") };
  const headers = Array.from({ length: g.int(3) }, () => ({ key: g.pick(["X-RateLimit-Limit", "x-ratelimit-remaining", g.text(8), ""]), value: g.hostileString() }));
  return { status: 0, response: rlSerialize({ overall_code: g.pick(["OK", "OK", "OK", "OVER_LIMIT", "UNKNOWN"]), response_headers_to_add: headers }) };
}

function struct(g: Gen, depth = 0): any {
  const value = (): any => {
    const k = g.int(depth > 2 ? 4 : 6);
    if (k === 0) return { stringValue: g.hostileString() };
    if (k === 1) return { numberValue: g.pick([0, -1, 1e300, 3.5, NaN]) };
    if (k === 2) return { boolValue: g.chance(0.5) };
    if (k === 3) return { nullValue: "NULL_VALUE" };
    if (k === 4) return { structValue: struct(g, depth + 1) };
    return { listValue: { values: Array.from({ length: g.int(3) }, value) } };
  };
  const fields: Record<string, unknown> = {};
  for (let i = g.int(4); i > 0; i--) fields[g.pick(["identity", "userid", "tier", g.text(6)])] = value();
  return { fields };
}

export function genAuthReply(g: Gen): { status: number; response?: string } {
  if (g.chance(0.08)) return { status: g.pick([4, 14, 16]) };
  if (g.chance(0.1)) return { status: 0, response: g.bytes(60).toString("base64") };
  const hvo = () => Array.from({ length: g.int(3) }, () => ({ header: { key: g.pick(["x-user", ":path", "content-length", g.text(6), ""]), value: g.hostileString() } }));
  if (g.chance(0.3)) return { status: 0, response: authSerialize({ status: { code: g.pick([7, 16, 3]) }, denied_response: { status: { code: g.pick([0, 401, 403, 99, 1000]) }, headers: hvo(), body: g.hostileString() } }) };
  const identity = g.chance(0.7) ? { fields: { identity: { structValue: { fields: { userid: { stringValue: g.pick(["alice", g.hostileString()]) }, tier: { stringValue: g.pick(["free", "premium", g.hostileString()]) } } } } } } : struct(g);
  return { status: 0, response: authSerialize({ status: { code: 0 }, ok_response: { headers: hvo(), response_headers_to_add: g.chance(0.1) ? hvo() : [] }, dynamic_metadata: identity }) };
}
