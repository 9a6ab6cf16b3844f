// An OpenAI-compatible model server for the local stack (like llm-d-inference-sim): chat and text
// completions with `usage`, SSE streaming with stream_options.include_usage, /v1/models.
// Paths may carry a MaaS prefix: /llm/<model>/v1/chat/completions works like /v1/chat/completions.
import http from "node:http";

export interface SimulatorOptions {
  port: number;
  host?: string;
  models?: string[];
  /** Time to first token and between streamed tokens, in ms. */
  latencyMs?: number;
  interTokenMs?: number;
}

const WORDS = "the quick brown fox jumps over the lazy dog while a model simulator answers every prompt politely".split(" ");

/** A rough, deterministic token count: words and punctuation. */
export function countTokens(text: string): number {
  return Math.max(1, (text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length);
}

function promptText(body: any): string {
  if (Array.isArray(body.messages)) return body.messages.map((m: any) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? ""))).join(" ");
  if (typeof body.prompt === "string") return body.prompt;
  if (Array.isArray(body.prompt)) return body.prompt.join(" ");
  return "";
}

function completionWords(body: any, prompt: string): string[] {
  const max = Math.max(1, Math.min(Number(body.max_tokens ?? body.max_completion_tokens ?? 16) || 16, 256));
  const n = Math.min(max, 4 + (countTokens(prompt) % 13));
  return Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startModelSimulator(opts: SimulatorOptions): Promise<{ port: number; close(): Promise<void> }> {
  const models = opts.models ?? ["facebook-opt-125m-simulated"];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://model");
    const path = url.pathname.replace(/^\/llm\/[^/]+/, "");
    const json = (status: number, body: unknown) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
    if (req.method === "GET" && path === "/v1/models") {
      return json(200, { object: "list", data: models.map((id) => ({ id, object: "model", created: 1735689600, owned_by: "simulator" })) });
    }
    if (req.method === "GET" && (path === "/health" || path === "/ready")) return json(200, { status: "ok" });
    const chat = path === "/v1/chat/completions";
    if (req.method !== "POST" || (!chat && path !== "/v1/completions")) {
      return json(404, { error: { message: `no route for ${req.method} ${url.pathname}`, type: "invalid_request_error", code: 404 } });
    }
    let body: any;
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    } catch {
      return json(400, { error: { message: "request body is not valid JSON", type: "invalid_request_error", code: 400 } });
    }
    const model = typeof body.model === "string" ? body.model : models[0];
    if (!models.includes(model)) return json(404, { error: { message: `The model \`${model}\` does not exist.`, type: "NotFoundError", code: 404 } });
    const prompt = promptText(body);
    const words = completionWords(body, prompt);
    const usage = { prompt_tokens: countTokens(prompt), completion_tokens: words.length, total_tokens: countTokens(prompt) + words.length };
    const id = `${chat ? "chatcmpl" : "cmpl"}-${Math.random().toString(36).slice(2, 12)}`;
    const created = Math.floor(Date.now() / 1000);
    await sleep(opts.latencyMs ?? 20);
    if (!body.stream) {
      const text = words.join(" ");
      return json(200, {
        id, object: chat ? "chat.completion" : "text_completion", created, model,
        choices: [chat ? { index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" } : { index: 0, text, finish_reason: "stop" }],
        usage,
      });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const object = chat ? "chat.completion.chunk" : "text_completion";
    const event = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    for (let i = 0; i < words.length; i++) {
      const text = (i ? " " : "") + words[i];
      event({ id, object, created, model, choices: [chat ? { index: 0, delta: i === 0 ? { role: "assistant", content: text } : { content: text }, finish_reason: null } : { index: 0, text, finish_reason: null }] });
      await sleep(opts.interTokenMs ?? 5);
    }
    event({ id, object, created, model, choices: [chat ? { index: 0, delta: {}, finish_reason: "stop" } : { index: 0, text: "", finish_reason: "stop" }] });
    if (body.stream_options?.include_usage) event({ id, object, created, model, choices: [], usage });
    res.end("data: [DONE]\n\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => {
      const port = (server.address() as import("node:net").AddressInfo).port;
      resolve({ port, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    });
  });
}
