import { DescriptorPool, MessageType } from "../../assembly/proto/descriptors";
import { BUILTIN_DESCRIPTORS } from "../../assembly/proto/builtin-descriptors";
import { encodeMessage } from "../../assembly/proto/dynamic-codec";
import { encodeBuilder, watched } from "../../assembly/proto/literal-encoder";
import { compileCel, Resolver, Value, AttrPath } from "../../assembly/cel";

const RLS = "envoy.service.ratelimit.v3.RateLimitService";
const AUTH = "envoy.service.auth.v3.Authorization";

// Made before any builder runs: evaluating inside resolve() would re-enter the shared evaluator.
const HEADERS = compileCel("{'a': '1', 'b': '2'}").expression!.eval(new Resolver());

/** tier = "free", user = "alice", n = 7, headers = {"a": "1", "b": "2"}, flag = 1 (not a bool). */
class Attrs extends Resolver {
  isRoot(path: AttrPath): bool { return path.root == "x"; }
  resolve(path: AttrPath): Value | null {
    if (path.key == "x\0tier") return Value.string("free");
    if (path.key == "x\0user") return Value.string("alice");
    if (path.key == "x\0n") return Value.int(7);
    if (path.key == "x\0flag") return Value.int(1);
    if (path.key == "x\0headers") return HEADERS;
    return null;
  }
}

function pool(): DescriptorPool {
  const p = new DescriptorPool();
  const bytes = new ArrayBuffer(BUILTIN_DESCRIPTORS.length);
  memory.copy(changetype<usize>(bytes), changetype<usize>(BUILTIN_DESCRIPTORS), BUILTIN_DESCRIPTORS.length);
  p.addFileDescriptorSet(bytes);
  return p;
}

function hex(b: ArrayBuffer): string {
  const u = Uint8Array.wrap(b);
  let out = "";
  for (let i = 0; i < u.length; i++) out += (u[i] < 16 ? "0" : "") + u[i].toString(16);
  return out;
}

/** The fast encoding, or "general" when it gave up; and what the general way gives. */
function both(type: MessageType, source: string): Array<string> {
  const compiled = compileCel(source);
  expect(compiled.error).toBe("", source);
  const e = compiled.expression!;
  const attrs = new Attrs();
  const fast = encodeBuilder(type, e, e.prepare(attrs, [], []), "hits_addend");
  const value = e.eval(attrs);
  let general = "error: " + value.s;
  if (!value.isError) {
    const encoded = encodeMessage(type, value);
    general = encoded.bytes !== null ? hex(encoded.bytes!) : "error: " + encoded.error;
  }
  return [fast !== null ? hex(<ArrayBuffer>fast) : "general", general];
}

const E = "envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry";
const D = "envoy.extensions.common.ratelimit.v3.RateLimitDescriptor";
const R = "envoy.service.ratelimit.v3.RateLimitRequest";

describe("message builders written straight from the literal", () => {
  it("give the general way's bytes, or give up where it fails", () => {
    const rls = pool().method(RLS, "ShouldRateLimit")!.input;
    const sources: Array<string> = [
      R + "{domain: 'd', hits_addend: 1u, descriptors: [" + D + "{entries: [" + E + "{key: 'limit.free', value: string(1)}, " + E + "{key: 'user', value: x.user}]}]}",
      // the MaaS shape: `?:` choosing list literals, joined with +
      R + "{domain: 'd', hits_addend: uint(0), descriptors: [" + D + "{entries: ((x.tier == 'free') ? [" + E + "{key: 'a', value: '1'}] : []) + ((x.tier == 'premium') ? [" + E + "{key: 'b', value: '2'}] : [])}, " + D + "{entries: [" + E + "{key: 'user', value: string(x.user)}, " + E + "{key: 'n', value: string(x.n)}]}]}",
      // fields out of number order, empty strings, a default value
      R + "{hits_addend: 0u, descriptors: [], domain: ''}",
      // a list value (not a literal) in a repeated field
      R + "{domain: 'd', descriptors: [" + D + "{entries: [" + E + "{key: 'k', value: 'v'}].filter(e, true)}]}",
      // must give up: an evaluation error, a type mismatch, a non-bool condition, an unknown field, a repeated field
      R + "{domain: 'd', hits_addend: 1u / 0u}",
      R + "{domain: 'd', hits_addend: 1}",
      R + "{domain: 'd', descriptors: x.flag ? [] : []}",
      R + "{domain: 'd', nope: 1}",
      R + "{domain: 'd', descriptors: [" + E + "{key: 'k'}]}",
      R + "{domain: 'd', descriptors: [1]}",
      "{'domain': 'd'}",
    ];
    for (let i = 0; i < sources.length; i++) {
      const r = both(rls, sources[i]);
      if (r[0] != "general") expect(r[0]).toBe(r[1], sources[i]);
      else expect(i >= 4).toBe(true, "gave up on " + sources[i]);
      if (i < 4) expect(r[0]).not.toBe("general", sources[i]);
    }
  });
  it("a CheckRequest with maps, nested messages and Struct literals", () => {
    const check = pool().method(AUTH, "Check")!.input;
    const source = "envoy.service.auth.v3.CheckRequest{attributes: envoy.service.auth.v3.AttributeContext{"
      + "request: envoy.service.auth.v3.AttributeContext.Request{http: envoy.service.auth.v3.AttributeContext.HttpRequest{method: 'POST', headers: x.headers}},"
      + "context_extensions: {'host': 'h'},"
      + "metadata_context: envoy.config.core.v3.Metadata{filter_metadata: {'io.kuadrant': google.protobuf.Struct{fields: {'user': google.protobuf.Value{string_value: x.user}, 'n': google.protobuf.Value{number_value: double(x.n)}}}}}}}";
    const r = both(check, source);
    expect(r[0]).not.toBe("general", r[1]);
    expect(r[0]).toBe(r[1]);
  });
  it("map literals: a repeated or ill-typed key gives up, as the general way fails there", () => {
    const check = pool().method(AUTH, "Check")!.input;
    const head = "envoy.service.auth.v3.CheckRequest{attributes: envoy.service.auth.v3.AttributeContext{context_extensions: ";
    const good = both(check, head + "{'a': '1', 'b': x.user}}}");
    expect(good[0]).toBe(good[1]);
    const bad: Array<string> = ["{'a': '1', 'a': '2'}", "{1: 'x'}", "{'a': 1}", "{[1]: 'x'}", "{'a': '1', 1u: '2'}"];
    for (let i = 0; i < bad.length; i++) {
      const r = both(check, head + bad[i] + "}}");
      expect(r[0]).toBe("general", bad[i]);
      expect(r[1].startsWith("error")).toBe(true, bad[i]);
    }
  });
  it("reports the watched field's value (a Report's hits_addend)", () => {
    const rls = pool().method(RLS, "ShouldRateLimit")!.input;
    const e = compileCel(R + "{domain: 'd', hits_addend: uint(x.n) - 7u, descriptors: []}").expression!;
    expect(encodeBuilder(rls, e, e.prepare(new Attrs(), [], []), "hits_addend")).not.toBeNull();
    expect(watched!.u).toBe(0);
  });
});
