// Reads what expressions need from a body without holding up the stream: JSON bodies are
// buffered up to a cap and parsed at the end; SSE streams are parsed event by event, keeping
// only the last value each pointer resolved to and the running token usage.
import { parseSelected, JsonValue, JsonSelection, jsonPointer, jsonAt } from "../json";
import { Value } from "../cel";
import { SseParser } from "./sse";
import { TokenUsage, selectUsage } from "./usage";
import { jsonToValue } from "./property-values";
import { decodeUtf8 } from "../abi/memory";

export const MAX_JSON_BODY: i32 = 1 << 20;

export enum BodyMode { Ignore, Json, Sse }

const NO_CHUNKS = new Array<ArrayBuffer>(0);
const NO_VALUES = new StaticArray<Value | null>(0);

/** The parts of a body the token usage and these pointers read (made once per configuration). */
export function bodySelection(pointers: Array<string>): JsonSelection {
  const selection = selectUsage(new JsonSelection());
  for (let i = 0; i < pointers.length; i++) selection.addPointer(pointers[i]);
  return selection;
}

export class BodyCapture {
  readonly usage: TokenUsage = new TokenUsage();
  private chunks: Array<ArrayBuffer> = NO_CHUNKS;
  private size: i32 = 0;
  private sse: SseParser | null = null;
  /** The last value each pointer resolved to, index for index (made on the first). */
  private values: StaticArray<Value | null> = NO_VALUES;
  overflowed: bool = false;
  finished: bool = false;

  private selection: JsonSelection;

  /** `selection`: bodySelection(pointers), made once by the caller (made here when not given). */
  constructor(public mode: BodyMode, public pointers: Array<string>, selection: JsonSelection | null = null) {
    this.selection = selection !== null ? selection : bodySelection(pointers);
    if (mode == BodyMode.Sse) this.sse = new SseParser();
  }

  /**
   * A response body as wasm-shim reads it: SSE when the content-type says text/event-stream,
   * JSON otherwise (also with no content-type at all). Media types that cannot hold JSON are not
   * buffered: wasm-shim would try and find nothing, so the outcome is the same at no cost.
   */
  static responseModeFor(contentType: string): BodyMode {
    const media = contentType.split(";")[0].trim().toLowerCase();
    if (media.includes("text/event-stream")) return BodyMode.Sse;
    if (media.startsWith("image/") || media.startsWith("audio/") || media.startsWith("video/")
      || media == "application/octet-stream" || media.startsWith("application/grpc")) return BodyMode.Ignore;
    return BodyMode.Json;
  }

  push(chunk: ArrayBuffer): void {
    if (this.finished || chunk.byteLength == 0) return;
    if (this.mode == BodyMode.Json) {
      if (this.size + chunk.byteLength > MAX_JSON_BODY) { this.overflowed = true; this.chunks.length = 0; this.mode = BodyMode.Ignore; return; }
      if (this.chunks === NO_CHUNKS) this.chunks = new Array<ArrayBuffer>();
      this.chunks.push(chunk);
      this.size += chunk.byteLength;
    } else if (this.mode == BodyMode.Sse) {
      const parser = this.sse!;
      parser.push(chunk);
      this.drainEvents(parser);
    }
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.mode == BodyMode.Json) {
      let text: string;
      if (this.chunks.length == 1) text = decodeUtf8(changetype<usize>(this.chunks[0]), <usize>this.chunks[0].byteLength);
      else {
        const all = new Uint8Array(this.size);
        let offset = 0;
        for (let i = 0; i < this.chunks.length; i++) { all.set(Uint8Array.wrap(this.chunks[i]), offset); offset += this.chunks[i].byteLength; }
        text = decodeUtf8(all.dataStart, <usize>all.byteLength);
      }
      this.chunks.length = 0;
      const parsed = parseSelected(text, this.selection);
      if (parsed.ok) this.observe(<JsonValue>parsed.value);
    } else if (this.mode == BodyMode.Sse) {
      const parser = this.sse!;
      parser.finish();
      this.drainEvents(parser);
    }
  }

  /** The value at `pointer`: as written in the body (last SSE event that had it), else normalized usage. */
  valueAt(pointer: string): Value | null {
    const index = this.pointers.indexOf(pointer);
    if (index >= 0 && index < this.values.length) {
      const v = this.values[index];
      if (v !== null) return v;
    }
    const normalized = this.usage.byPointer(pointer);
    if (normalized >= 0) return Value.int(normalized);
    if (pointer == "/model" && this.usage.model.length > 0) return Value.string(this.usage.model);
    return null;
  }

  private drainEvents(parser: SseParser): void {
    for (let i = 0; i < parser.events.length; i++) {
      const data = parser.events[i].data;
      if (data == "[DONE]") continue;
      const parsed = parseSelected(data, this.selection);
      if (parsed.ok) this.observe(<JsonValue>parsed.value);
    }
    parser.events.length = 0;
  }

  private observe(doc: JsonValue): void {
    this.usage.observe(doc);
    for (let i = 0; i < this.pointers.length; i++) {
      // The selection made from these pointers holds their tokens, index for index.
      const selection = this.selection;
      let v: JsonValue | null;
      if (selection.pointers.length == this.pointers.length) {
        const tokens = selection.pointerTokens[i];
        v = tokens !== null ? jsonAt(doc, tokens) : null;
      } else v = jsonPointer(doc, this.pointers[i]);
      if (v === null || v.isNull) continue;
      if (this.values === NO_VALUES) this.values = new StaticArray<Value | null>(this.pointers.length);
      this.values[i] = jsonToValue(v);
    }
  }
}
