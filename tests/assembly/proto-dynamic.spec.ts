import { DescriptorPool } from "../../assembly/proto/descriptors";
import { BUILTIN_DESCRIPTORS } from "../../assembly/proto/builtin-descriptors";
import { encodeMessage, decodeMessage } from "../../assembly/proto/dynamic-codec";
import { encodeRateLimitRequest, DescriptorEntry } from "../../assembly/proto/ratelimit";
import { ProtoWriter } from "../../assembly/proto/wire";
import { compileCel, Resolver, Value, Kind } from "../../assembly/cel";

function builtinPool(): DescriptorPool {
  const pool = new DescriptorPool();
  const bytes = new ArrayBuffer(BUILTIN_DESCRIPTORS.length);
  memory.copy(changetype<usize>(bytes), changetype<usize>(BUILTIN_DESCRIPTORS), BUILTIN_DESCRIPTORS.length);
  expect(pool.addFileDescriptorSet(bytes)).toBe("");
  return pool;
}

function evalCel(source: string): Value {
  const compiled = compileCel(source);
  expect(compiled.error).toBe("");
  return compiled.expression!.eval(new Resolver());
}

function hex(b: ArrayBuffer): string {
  const u = Uint8Array.wrap(b);
  let out = "";
  for (let i = 0; i < u.length; i++) out += (u[i] < 16 ? "0" : "") + u[i].toString(16);
  return out;
}

const RLS = "envoy.service.ratelimit.v3.RateLimitService";

describe("built-in descriptors", () => {
  it("hold the three services and their methods", () => {
    const pool = builtinPool();
    expect(pool.method(RLS, "ShouldRateLimit")).not.toBeNull();
    expect(pool.method("kuadrant.service.ratelimit.v1.RateLimitService", "CheckRateLimit")!.input.fullName).toBe("envoy.service.ratelimit.v3.RateLimitRequest");
    expect(pool.method("kuadrant.service.ratelimit.v1.RateLimitService", "Report")).not.toBeNull();
    expect(pool.method("envoy.service.auth.v3.Authorization", "Check")!.output.fullName).toBe("envoy.service.auth.v3.CheckResponse");
    expect(pool.message("envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry")).not.toBeNull();
    expect(pool.message("envoy.service.auth.v3.AttributeContext.HttpRequest")!.field("headers")!.isMap).toBe(true);
  });
  it("refuse bytes that are not a FileDescriptorSet, leaving the pool as it was", () => {
    const pool = builtinPool();
    const junk = new ArrayBuffer(3);
    store<u8>(changetype<usize>(junk), 0x0a);
    store<u8>(changetype<usize>(junk) + 1, 0xff);
    expect(pool.addFileDescriptorSet(junk)).toBe("not a FileDescriptorSet");
    expect(pool.method(RLS, "ShouldRateLimit")).not.toBeNull();
  });
});

describe("message builders → protobuf", () => {
  it("a RateLimitRequest literal encodes byte for byte as the classic encoder does", () => {
    const pool = builtinPool();
    const v = evalCel("envoy.service.ratelimit.v3.RateLimitRequest{domain: 'llm/route', hits_addend: 3u, descriptors: ["
      + "envoy.extensions.common.ratelimit.v3.RateLimitDescriptor{entries: [envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry{key: 'limit.free', value: string(1)}, envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry{key: 'user', value: 'alice'}]}]}");
    const encoded = encodeMessage(pool.method(RLS, "ShouldRateLimit")!.input, v);
    expect(encoded.error).toBe("");
    const classic = encodeRateLimitRequest("llm/route", [[new DescriptorEntry("limit.free", "1"), new DescriptorEntry("user", "alice")]], 3);
    expect(hex(encoded.bytes!)).toBe(hex(classic));
  });
  it("is strictly typed, with the path of the offending field", () => {
    const pool = builtinPool();
    const input = pool.method(RLS, "ShouldRateLimit")!.input;
    expect(encodeMessage(input, evalCel("envoy.service.ratelimit.v3.RateLimitRequest{hits_addend: 1}")).error)
      .toBe("envoy.service.ratelimit.v3.RateLimitRequest.hits_addend: expected uint, got int");
    expect(encodeMessage(input, evalCel("envoy.service.ratelimit.v3.RateLimitRequest{nope: 'x'}")).error)
      .toBe("envoy.service.ratelimit.v3.RateLimitRequest: envoy.service.ratelimit.v3.RateLimitRequest has no field 'nope'");
    expect(encodeMessage(input, evalCel("envoy.service.ratelimit.v3.RateLimitRequest{descriptors: [{'entries': []}]}")).error)
      .toBe("envoy.service.ratelimit.v3.RateLimitRequest.descriptors[0]: expected a envoy.extensions.common.ratelimit.v3.RateLimitDescriptor literal, got map");
    expect(encodeMessage(input, evalCel("{'domain': 'x'}")).error)
      .toBe("envoy.service.ratelimit.v3.RateLimitRequest: expected a envoy.service.ratelimit.v3.RateLimitRequest literal, got map");
    expect(encodeMessage(input, evalCel("envoy.service.ratelimit.v3.RateLimitRequest{hits_addend: 4294967296u}")).error)
      .toBe("envoy.service.ratelimit.v3.RateLimitRequest.hits_addend: 4294967296 does not fit a uint32");
  });
  it("Struct fields take plain maps and Struct/Value literals alike", () => {
    const pool = builtinPool();
    const metadata = pool.message("envoy.config.core.v3.Metadata")!;
    const literal = encodeMessage(metadata, evalCel("envoy.config.core.v3.Metadata{filter_metadata: {'io.kuadrant': google.protobuf.Struct{fields: {'user': google.protobuf.Value{string_value: 'alice'}}}}}"));
    const plain = encodeMessage(metadata, evalCel("envoy.config.core.v3.Metadata{filter_metadata: {'io.kuadrant': {'user': 'alice'}}}"));
    expect(literal.error).toBe("");
    expect(plain.error).toBe("");
    expect(hex(literal.bytes!)).toBe(hex(plain.bytes!));
  });
});

describe("replies → CEL", () => {
  it("proto3 scalars and lists are present with defaults; unset messages are absent", () => {
    const pool = builtinPool();
    const output = pool.method(RLS, "ShouldRateLimit")!.output;
    // overall_code = 2, one response_headers_to_add {key, value}
    const w = new ProtoWriter();
    w.uint32Field(1, 2);
    const header = w.begin(3);
    w.stringField(1, "x-ratelimit-remaining");
    w.stringField(2, "0");
    w.end(header);
    const v = decodeMessage(output, w.finish())!;
    expect(v.kind).toBe(Kind.Map);
    expect(v.entries().getString("overall_code")!.i).toBe(2);
    expect(v.entries().getString("statuses")!.items().length).toBe(0);
    expect(v.entries().getString("dynamic_metadata")).toBeNull();
    const h = v.entries().getString("response_headers_to_add")!.items()[0];
    expect(h.entries().getString("key")!.s).toBe("x-ratelimit-remaining");
    const empty = decodeMessage(output, new ArrayBuffer(0))!;
    expect(empty.entries().getString("overall_code")!.i).toBe(0);
  });
  it("a oneof member is present only when set; Struct becomes a map", () => {
    const pool = builtinPool();
    const output = pool.method("envoy.service.auth.v3.Authorization", "Check")!.output;
    const w = new ProtoWriter();
    const ok = w.begin(3);
    w.stringField(5, "x-remove-me");
    w.end(ok);
    const v = decodeMessage(output, w.finish())!;
    expect(v.entries().getString("denied_response")).toBeNull();
    const okValue = v.entries().getString("ok_response")!;
    expect(okValue.entries().getString("headers_to_remove")!.items()[0].s).toBe("x-remove-me");
    expect(okValue.entries().getString("query_parameters_to_set")!.items().length).toBe(0);
  });
  it("an unset list is shared until an item comes: a later reply's items never show in an earlier one", () => {
    const pool = builtinPool();
    const output = pool.method(RLS, "ShouldRateLimit")!.output;
    const first = decodeMessage(output, new ArrayBuffer(0))!;
    const w = new ProtoWriter();
    const header = w.begin(3);
    w.stringField(1, "x-a");
    w.end(header);
    w.uint32Field(1, 1);
    const second = decodeMessage(output, w.finish())!;
    expect(second.entries().getString("response_headers_to_add")!.items().length).toBe(1);
    expect(first.entries().getString("response_headers_to_add")!.items().length).toBe(0);
    expect(decodeMessage(output, new ArrayBuffer(0))!.entries().getString("response_headers_to_add")!.items().length).toBe(0);
    // a field repeated on the wire: the last occurrence wins, the key is there once
    const twice = new ProtoWriter();
    twice.uint32Field(1, 1);
    twice.uint32Field(1, 2);
    const v = decodeMessage(output, twice.finish())!;
    expect(v.entries().getString("overall_code")!.i).toBe(2);
    expect(v.entries().size).toBe(first.entries().size);
  });
  it("bytes that are not the message are refused (null), never a trap", () => {
    const pool = builtinPool();
    const output = pool.method(RLS, "ShouldRateLimit")!.output;
    const junk = new ArrayBuffer(2);
    store<u8>(changetype<usize>(junk), 0x1a);
    store<u8>(changetype<usize>(junk) + 1, 0x7f);
    expect(decodeMessage(output, junk)).toBeNull();
  });
});

/** One file of a FileDescriptorSet with one message (fields: name, number, type[, type_name]). */
function writeFile(w: ProtoWriter, name: string, pkg: string, message: string, fields: Array<Array<string>>): void {
  const f = w.begin(1); // FileDescriptorSet.file
  w.stringField(1, name);
  w.stringField(2, pkg);
  const m = w.begin(4); // message_type
  w.stringField(1, message);
  for (let i = 0; i < fields.length; i++) {
    const fd = w.begin(2); // field
    w.stringField(1, fields[i][0]);
    w.uint32Field(3, U32.parseInt(fields[i][1])); // number
    w.uint32Field(4, 1); // LABEL_OPTIONAL
    w.uint32Field(5, U32.parseInt(fields[i][2])); // type
    if (fields[i].length > 3) w.stringField(6, fields[i][3]);
    w.end(fd);
  }
  w.end(m);
  w.end(f);
}

/** google.protobuf.Duration and t.M { google.protobuf.Duration d = 1; }. */
function durationPool(): DescriptorPool {
  const w = new ProtoWriter();
  writeFile(w, "google/protobuf/duration.proto", "google.protobuf", "Duration", [["seconds", "1", "3"], ["nanos", "2", "5"]]);
  writeFile(w, "t.proto", "t", "M", [["d", "1", "11", ".google.protobuf.Duration"]]);
  const pool = new DescriptorPool();
  expect(pool.addFileDescriptorSet(w.finish())).toBe("");
  return pool;
}

describe("google.protobuf.Duration", () => {
  it("a CEL duration is written as seconds and nanos of one sign, and read back as a duration", () => {
    const pool = durationPool();
    const m = pool.message("t.M")!;
    const encoded = encodeMessage(m, evalCel("t.M{d: duration('-1.5s')}"));
    expect(encoded.error).toBe("");
    // d = {seconds: -1, nanos: -500000000}: both negative, as varints of their 64-bit two's complement
    expect(hex(encoded.bytes!)).toBe("0a1608ffffffffffffffffff011080b6ca91feffffffff01");
    const d = decodeMessage(m, encoded.bytes!)!.entries().getString("d")!;
    expect(d.kind).toBe(Kind.Duration);
    expect(d.i).toBe(-1500000000);
  });
});
