import { parseDurationMs } from "../../assembly/filter/duration";
import { normalizeHost } from "../../assembly/filter/routing";
import { jsonPointer, parseJson } from "../../assembly/json";

describe("service timeouts", () => {
  it("reads the units wasm-shim accepts", () => {
    expect(parseDurationMs("100ms")).toBe(100);
    expect(parseDurationMs("1s")).toBe(1000);
    expect(parseDurationMs("1.5s")).toBe(1500);
    expect(parseDurationMs("1m30s")).toBe(90000);
    expect(parseDurationMs("500us")).toBe(1);
  });
  it("refuses what is not a duration", () => {
    expect(parseDurationMs("")).toBe(-1);
    expect(parseDurationMs("10")).toBe(-1);
    expect(parseDurationMs("fast")).toBe(-1);
    expect(parseDurationMs("10 ms")).toBe(-1);
  });
});

describe("host normalization", () => {
  it("strips the port and lower-cases", () => {
    expect(normalizeHost("API.Example.com:8443")).toBe("api.example.com");
    expect(normalizeHost("[::1]:80")).toBe("[::1]");
    expect(normalizeHost("example.com.")).toBe("example.com");
  });
});

describe("JSON", () => {
  it("resolves RFC 6901 pointers with escapes and array indexes", () => {
    const doc = parseJson("{\"a/b\":{\"m~n\":[10,20]}}").value!;
    expect(jsonPointer(doc, "/a~1b/m~0n/1")!.int).toBe(20);
    expect(jsonPointer(doc, "/a~1b/m~0n/2")).toBeNull();
    expect(jsonPointer(doc, "/a~1b/m~0n/01")).toBeNull();
  });
  it("reports errors with offsets and never traps", () => {
    const r = parseJson("{\"a\": tru}");
    expect(r.ok).toBe(false);
    expect(r.offset).toBe(6);
    expect(parseJson("\"\\ud83d\\ude00\"").value!.str).toBe("😀");
    expect(parseJson("[1,]").ok).toBe(false);
    expect(parseJson("01").ok).toBe(false);
  });
});
