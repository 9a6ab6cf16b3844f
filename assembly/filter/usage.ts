// Token usage across LLM APIs (research/llm-usage-formats.md §1, §9), normalized so the usual
// pointers (/usage/total_tokens, /usage/prompt_tokens, ...) answer for every provider:
// OpenAI Chat/Completions `usage`, Responses `response.usage`, Anthropic `message.usage` and
// `message_delta` usage (which has no total: input + output).
import { JsonValue, JsonKind, JsonSelection } from "../json";

/** What observe() reads of a document (keep in step with it): the parser builds only these. */
export function selectUsage(selection: JsonSelection): JsonSelection {
  selection.add(["model"]).add(["type"]).add(["usage"]);
  selection.add(["response", "model"]).add(["response", "usage"]);
  selection.add(["message", "model"]).add(["message", "usage"]);
  return selection;
}

export class TokenUsage {
  input: i64 = -1;
  output: i64 = -1;
  total: i64 = -1;
  cachedInput: i64 = -1;
  model: string = "";

  get known(): bool { return this.input >= 0 || this.output >= 0 || this.total >= 0; }

  totalTokens(): i64 {
    if (this.total >= 0) return this.total;
    if (this.input >= 0 || this.output >= 0) return max<i64>(this.input, 0) + max<i64>(this.output, 0);
    return -1;
  }

  /** The value a normalized pointer names, or -1. */
  byPointer(pointer: string): i64 {
    if (pointer == "/usage/total_tokens") return this.totalTokens();
    if (pointer == "/usage/prompt_tokens" || pointer == "/usage/input_tokens") return this.input;
    if (pointer == "/usage/completion_tokens" || pointer == "/usage/output_tokens") return this.output;
    return -1;
  }

  /** Folds one JSON document (a whole body or one SSE event) into the usage seen so far. */
  observe(doc: JsonValue): void {
    if (doc.kind != JsonKind.Object) return;
    const model = doc.get("model");
    if (model !== null && model.isString && this.model.length == 0) this.model = model.str;
    const type = doc.get("type");
    const typeName = type !== null && type.isString ? type.str : "";
    // OpenAI Responses: usage nested under "response".
    const response = doc.get("response");
    if (response !== null && response.isObject) {
      const m = response.get("model");
      if (m !== null && m.isString && this.model.length == 0) this.model = m.str;
      const u = response.get("usage");
      if (u !== null && u.isObject) this.take(u, true);
    }
    // Anthropic message_start: usage under "message".
    const message = doc.get("message");
    if (typeName == "message_start" && message !== null && message.isObject) {
      const m = message.get("model");
      if (m !== null && m.isString && this.model.length == 0) this.model = m.str;
      const u = message.get("usage");
      if (u !== null && u.isObject) this.take(u, false);
    }
    const usage = doc.get("usage");
    if (usage !== null && usage.isObject) this.take(usage, typeName != "message_delta");
  }

  /** replace: a full usage object (OpenAI); else a cumulative partial update (Anthropic deltas). */
  private take(u: JsonValue, replace: bool): void {
    const prompt = num(u, "prompt_tokens"), completion = num(u, "completion_tokens"), total = num(u, "total_tokens");
    const input = num(u, "input_tokens"), output = num(u, "output_tokens");
    const cacheCreate = num(u, "cache_creation_input_tokens"), cacheRead = num(u, "cache_read_input_tokens");
    if (replace) { this.input = -1; this.output = -1; this.total = -1; }
    if (prompt >= 0) this.input = prompt;
    if (input >= 0) this.input = input + max<i64>(cacheCreate, 0) + max<i64>(cacheRead, 0);
    if (completion >= 0) this.output = completion;
    if (output >= 0) this.output = output;
    if (total >= 0) this.total = total;
    if (cacheRead >= 0) this.cachedInput = cacheRead;
    const details = u.get("prompt_tokens_details");
    if (details !== null && details.isObject) { const c = num(details, "cached_tokens"); if (c >= 0) this.cachedInput = c; }
  }
}

function num(o: JsonValue, key: string): i64 {
  const v = o.get(key);
  if (v === null || v.kind != JsonKind.Number || !v.isInteger || v.int < 0) return -1;
  return v.int;
}
