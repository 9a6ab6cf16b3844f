import { parseJson, parseSelected, JsonSelection, JsonValue, JsonKind, jsonPointer } from "../../assembly/json";

function show(v: JsonValue | null): string {
  if (v === null) return "absent";
  switch (v.kind) {
    case JsonKind.Null: return "null";
    case JsonKind.Bool: return v.bool ? "true" : "false";
    case JsonKind.Number: return (v.isInteger ? "i" + v.int.toString() : "d") + v.num.toString();
    case JsonKind.String: return "\"" + v.str + "\"";
    case JsonKind.Array: {
      let out = "[";
      for (let i = 0; i < v.items.length; i++) out += (i > 0 ? "," : "") + show(v.items[i]);
      return out + "]";
    }
    default: {
      let out = "{";
      for (let i = 0; i < v.members.length; i++) out += (i > 0 ? "," : "") + v.members[i].key + ":" + show(v.members[i].value);
      return out + "}";
    }
  }
}

const POINTERS: Array<string> = ["/usage/total_tokens", "/usage", "/model", "/a~1b", "/x/0/y", "/choices", "/deep/er/est", "/u\u00e9"];

const DOCS: Array<string> = [
  "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"hi \\\"there\\\"\"}}],\"usage\":{\"prompt_tokens\":21,\"total_tokens\":28}}",
  "{\"usage\":{\"total_tokens\":1},\"usage\":{\"total_tokens\":2}}",
  "{\"mo\\u0064el\":\"escaped key\",\"model\":5,\"a/b\":[1,2]}",
  "{\"a~1b\":1,\"a/b\":{\"k\":[true,false,null]}}",
  "{\"x\":[{\"y\":1},{\"y\":2}],\"x\":7}",
  "{\"deep\":{\"er\":{\"est\":{\"z\":[1.5e3,-0,0.25]}}},\"deep\":\"no\"}",
  "{\"u\u00e9\":\"\u00e9\",\"skip\":{\"n\":[[[[1]]]],\"s\":\"\\n\\t\\/\\b\\f\\r\\\\\"}}",
  "[1,2,{\"usage\":3}]",
  "\"just a string\"",
  "42",
  "{}",
  " { \"model\" : \"m\" , \"usage\" : null } ",
  // invalid: both parsers must refuse
  "{\"choices\":[1,2,],\"model\":\"m\"}",
  "{\"choices\":{\"a\":01},\"model\":\"m\"}",
  "{\"choices\":\"bad \\x escape\",\"model\":\"m\"}",
  "{\"choices\":\"ctl \u0001\",\"model\":\"m\"}",
  "{\"choices\":\"\\u12g4\",\"model\":\"m\"}",
  "{\"choices\":tru,\"model\":\"m\"}",
  "{\"choices\":1.,\"model\":\"m\"}",
  "{\"choices\":1e,\"model\":\"m\"}",
  "{\"choices\":-,\"model\":\"m\"}",
  "{\"choices\":[1 2],\"model\":\"m\"}",
  "{\"choices\" 1}",
  "{choices:1}",
  "{\"model\":\"m\"} trailing",
  "{\"model\":\"m\"",
  "{\"ch\\",
  "{\"choices\":\"unterminated",
  "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
  "{\"skip\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
];

describe("parseSelected: the same verdicts and selected values as parseJson", () => {
  it("over valid and invalid documents, with usage and pointer selections", () => {
    const selection = new JsonSelection().add(["model"]).add(["usage"]).add(["response", "usage"]);
    for (let p = 0; p < POINTERS.length; p++) selection.addPointer(POINTERS[p]);
    // Every document as written, and with "choices" (selected whole) renamed to an unselected
    // member; nesting right at the limit (64) and one past it.
    const sources = DOCS.slice(0);
    for (let k = 62; k <= 65; k++) sources.push("{\"choices\":" + "[".repeat(k) + "1" + "]".repeat(k) + ",\"model\":1}");
    const docs = sources.slice(0);
    for (let d = 0; d < sources.length; d++) docs.push(sources[d].replaceAll("\"choices\"", "\"skipped\""));
    for (let d = 0; d < docs.length; d++) {
      const full = parseJson(docs[d]);
      const part = parseSelected(docs[d], selection);
      expect(part.ok).toBe(full.ok, docs[d]);
      if (!full.ok) continue;
      const a = <JsonValue>full.value, b = <JsonValue>part.value;
      expect(b.kind).toBe(a.kind, docs[d]);
      for (let p = 0; p < POINTERS.length; p++) expect(show(jsonPointer(b, POINTERS[p]))).toBe(show(jsonPointer(a, POINTERS[p])), docs[d] + " " + POINTERS[p]);
      expect(show(b.get("model"))).toBe(show(a.get("model")));
      expect(show(b.get("usage"))).toBe(show(a.get("usage")));
    }
  });
  it("leaves out what is not selected", () => {
    const part = parseSelected("{\"choices\":[{\"x\":1}],\"model\":\"m\",\"other\":{\"model\":2}}", new JsonSelection().add(["model"]));
    expect(show(part.value)).toBe("{model:\"m\"}");
  });
  it("the empty pointer keeps everything", () => {
    const doc = "{\"a\":[1,{\"b\":2}],\"c\":\"d\"}";
    expect(show(parseSelected(doc, new JsonSelection().addPointer("")).value)).toBe(show(parseJson(doc).value));
  });
});
