// The soak's clients: a realistic mix (tiers, models, chat and completions, JSON and SSE with and
// without usage, bad and missing keys), each request recorded with what its client saw.

export interface SoakUser { key: string; userid: string; tier: "free" | "premium" | "enterprise" }

export interface RequestRecord {
  t0: number; t1: number;           // ms since the soak started
  user: string | null; tier: string | null; model: string;
  key: "valid" | "bad" | "none";
  stream: boolean; includeUsage: boolean; endpoint: "chat" | "completions";
  reset: "before-usage" | "after-usage" | null;
  status: number | null;            // null: no HTTP answer at all
  rateLimitHeaders: boolean;        // x-ratelimit-* present (Limitador's ShouldRateLimit answered)
  usage: { prompt: number; completion: number; total: number } | null;  // as seen, even before a cut
  completed: boolean;               // the whole body arrived
  error: string | null;
}

export const MODELS = ["facebook-opt-125m-simulated", "qwen3-0-6b-instruct-simulated"];

export function soakUsers(): SoakUser[] {
  const users: SoakUser[] = [];
  const add = (tier: SoakUser["tier"], n: number) => { for (let i = 1; i <= n; i++) users.push({ key: `soak-${tier}-${i}-key`, userid: `${tier}-user-${i}`, tier }); };
  add("free", 6); add("premium", 4); add("enterprise", 2);
  return users;
}

export function apiKeysYaml(users: SoakUser[]): string {
  return users.map((u) => `- key: ${u.key}\n  userid: ${u.userid}\n  tier: ${u.tier}\n`).join("");
}

/** A small seeded generator, so a soak's mix can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
}

const PROMPTS = ["Hello!", "Summarise rate limiting in one line.", "What is a token budget?", "Tell me a story about a gateway, a model and a very patient user who waits."];

export interface TrafficOptions {
  gateway: string;
  users: SoakUser[];
  clients: number;
  durationMs: number;
  seed: number;
  /** Share of streamed requests the model cuts mid-way (the SSE reset fault). */
  resetShare?: number;
  startedAt: number;
  /** Traffic goes on past durationMs while this says so (a fault still to recover from). */
  holdOpen?: () => boolean;
  onRecord?: (r: RequestRecord) => void;
}

export async function runTraffic(o: TrafficOptions): Promise<RequestRecord[]> {
  const records: RequestRecord[] = [];
  const now = () => performance.now() - o.startedAt;
  const end = now() + o.durationMs;
  await Promise.all(Array.from({ length: o.clients }, async (_, c) => {
    const r = prng(o.seed * 1000 + c + 1);
    while (now() < end || o.holdOpen?.()) {
      const rec = await oneRequest(o, r, now);
      records.push(rec);
      o.onRecord?.(rec);
    }
  }));
  return records;
}

async function oneRequest(o: TrafficOptions, r: () => number, now: () => number): Promise<RequestRecord> {
  const roll = r();
  const key: RequestRecord["key"] = roll < 0.03 ? "bad" : roll < 0.04 ? "none" : "valid";
  const user = key === "valid" ? o.users[Math.floor(r() * o.users.length)] : null;
  const model = MODELS[r() < 0.7 ? 0 : 1];
  const stream = r() < 0.4;
  const includeUsage = stream && r() < 0.9;
  const endpoint: RequestRecord["endpoint"] = r() < 0.85 ? "chat" : "completions";
  const reset = stream && o.resetShare && r() < o.resetShare ? (r() < 0.5 ? "before-usage" : "after-usage") : null;
  const prompt = PROMPTS[Math.floor(r() * PROMPTS.length)];
  const body: Record<string, unknown> = { model, max_tokens: 4 + Math.floor(r() * 20), stream };
  if (endpoint === "chat") body.messages = [{ role: "user", content: prompt }]; else body.prompt = prompt;
  if (includeUsage) body.stream_options = { include_usage: true };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key === "valid") headers.authorization = `APIKEY ${user!.key}`;
  if (key === "bad") headers.authorization = `APIKEY not-a-key-${Math.floor(r() * 1000)}`;
  if (reset) headers["x-soak-reset"] = reset;
  const rec: RequestRecord = {
    t0: now(), t1: 0, user: user?.userid ?? null, tier: user?.tier ?? null, model, key, stream, includeUsage, endpoint, reset,
    status: null, rateLimitHeaders: false, usage: null, completed: false, error: null,
  };
  try {
    const res = await fetch(`${o.gateway}/llm/${model}/v1/${endpoint === "chat" ? "chat/completions" : "completions"}`, {
      method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(60000),
    });
    rec.status = res.status;
    rec.rateLimitHeaders = res.headers.has("x-ratelimit-limit");
    // Read chunk by chunk: a stream cut mid-way keeps what its client saw before the cut.
    let text = "";
    const decoder = new TextDecoder();
    try {
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      rec.completed = true;
    } catch (err) {
      rec.error = `body: ${(err as Error).message}`;
    }
    if (res.status === 200) rec.usage = stream ? sseUsage(text) : rec.completed ? jsonUsage(text) : null;
  } catch (err) {
    rec.error = (err as Error).name === "TimeoutError" ? "no answer within 60 s" : `request: ${(err as Error).message}`;
  }
  rec.t1 = now();
  return rec;
}

function toUsage(u: any): RequestRecord["usage"] {
  if (!u || typeof u.total_tokens !== "number") return null;
  return { prompt: u.prompt_tokens, completion: u.completion_tokens, total: u.total_tokens };
}

function jsonUsage(text: string): RequestRecord["usage"] {
  try { return toUsage(JSON.parse(text).usage); } catch { return null; }
}

function sseUsage(text: string): RequestRecord["usage"] {
  const events = text.split("\n\n");
  events.pop(); // an event counts once its blank line has arrived
  for (const event of events) {
    if (!event.startsWith("data: {")) continue;
    const u = toUsage(JSON.parse(event.slice(6)).usage);
    if (u) return u;
  }
  return null;
}
