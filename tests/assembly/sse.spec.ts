// The byte-split vectors of research/llm-usage-formats.md §7.4: usage (21, 2) found exactly once.
import { SseParser } from "../../assembly/filter/sse";
import { BodyCapture, BodyMode } from "../../assembly/filter/body-capture";

const USAGE = "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":2,\"total_tokens\":23}}";

function bytes(s: string): ArrayBuffer { return String.UTF8.encode(s); }

function raw(values: Array<u8>): ArrayBuffer {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out.buffer;
}

function capture(deliveries: Array<ArrayBuffer>): BodyCapture {
  const c = new BodyCapture(BodyMode.Sse, ["/usage/total_tokens"]);
  for (let i = 0; i < deliveries.length; i++) c.push(deliveries[i]);
  c.finish();
  return c;
}

function expectUsage(c: BodyCapture): void {
  expect(c.usage.input).toBe(21);
  expect(c.usage.output).toBe(2);
  const v = c.valueAt("/usage/total_tokens");
  expect(v).not.toBeNull();
  expect(v!.i).toBe(23);
}

describe("SSE byte-split vectors", () => {
  it("A: usage chunk and [DONE] in one delivery", () => {
    expectUsage(capture([bytes("data: {\"choices\":[{\"finish_reason\":\"stop\"}]}\n\n"), bytes("data: " + USAGE + "\n\ndata: [DONE]\n\n")]));
  });
  it("B: split between them", () => {
    expectUsage(capture([bytes("data: " + USAGE + "\n\n"), bytes("data: [DONE]\n\n")]));
  });
  it("C: usage JSON cut in the middle", () => {
    const s = "data: " + USAGE + "\n\ndata: [DONE]\n\n";
    expectUsage(capture([bytes(s.substring(0, 40)), bytes(s.substring(40))]));
  });
  it("D: CRLF split across deliveries", () => {
    expectUsage(capture([bytes("data: " + USAGE + "\r"), bytes("\n\r\ndata: [DONE]\r\n\r\n")]));
  });
  it("E: bare CR line endings", () => {
    expectUsage(capture([bytes("data: " + USAGE + "\r\rdata: [DONE]\r\r")]));
  });
  it("F: a BOM before the first event, split byte by byte", () => {
    expectUsage(capture([raw([0xEF]), raw([0xBB]), raw([0xBF]), bytes("data: " + USAGE + "\n\n")]));
  });
  it("G: a UTF-8 character split across deliveries", () => {
    const p = new SseParser();
    p.push(bytes("data: {\"c\":\""));
    p.push(raw([0xE4, 0xBD]));
    p.push(raw([0xA0]));
    p.push(bytes("\"}\n\n"));
    expect(p.events.length).toBe(1);
    expect(p.events[0].data).toBe("{\"c\":\"你\"}");
  });
  it("H: comment keep-alive in between", () => {
    expectUsage(capture([bytes(": keep-alive\n\n"), bytes("data: " + USAGE + "\n\n")]));
  });
  it("I: no space after the colon", () => {
    expectUsage(capture([bytes("data:" + USAGE + "\n\n")]));
  });
  it("J: last event without a blank line", () => {
    expectUsage(capture([bytes("data: " + USAGE + "\n")]));
  });
  it("K: Anthropic, three events in one delivery", () => {
    const c = capture([bytes("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":21,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")]);
    expectUsage(c);
  });
  it("L: data split over several lines is joined with \\n", () => {
    expectUsage(capture([bytes("data: {\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":21,\"completion_tokens\":2,\"total_tokens\":23}}\n\n")]));
  });
  it("an event type without data dispatches nothing", () => {
    const p = new SseParser();
    p.push(bytes("event: x\n\n"));
    expect(p.events.length).toBe(0);
  });
});

describe("JSON body capture", () => {
  it("parses the whole body at the end, across chunks", () => {
    const c = new BodyCapture(BodyMode.Json, ["/model"]);
    c.push(bytes("{\"model\":\"m\",\"usage\":{\"prompt_"));
    c.push(bytes("tokens\":21,\"completion_tokens\":2,\"total_tokens\":23}}"));
    c.finish();
    expectUsage(c);
    expect(c.valueAt("/model")!.s).toBe("m");
  });
  it("gives up past the size cap instead of growing", () => {
    const c = new BodyCapture(BodyMode.Json, []);
    c.push(new ArrayBuffer(1 << 20));
    c.push(new ArrayBuffer(1));
    c.finish();
    expect(c.overflowed).toBe(true);
    expect(c.valueAt("/usage/total_tokens")).toBeNull();
  });
  it("reads a response as wasm-shim does: SSE when the content type says so, else JSON", () => {
    expect(BodyCapture.responseModeFor("text/event-stream; charset=utf-8")).toBe(BodyMode.Sse);
    expect(BodyCapture.responseModeFor("Application/JSON")).toBe(BodyMode.Json);
    expect(BodyCapture.responseModeFor("application/problem+json")).toBe(BodyMode.Json);
    // No content-type, or a mislabelled one: still parsed as JSON (wasm-shim v0.11–main).
    expect(BodyCapture.responseModeFor("")).toBe(BodyMode.Json);
    expect(BodyCapture.responseModeFor("text/plain")).toBe(BodyMode.Json);
    // Media that cannot be JSON are not buffered (the outcome is the same: nothing found).
    expect(BodyCapture.responseModeFor("image/png")).toBe(BodyMode.Ignore);
    expect(BodyCapture.responseModeFor("application/octet-stream")).toBe(BodyMode.Ignore);
  });
});
