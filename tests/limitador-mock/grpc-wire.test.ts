// The mock's hand codec for RateLimitRequest/Response against protobufjs (our .proto files): the
// same messages both ways, prost's rules where they differ from a lenient decoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRateLimitRequest, encodeRateLimitResponseFrame, percentEncode, DecodeError } from "../../limitador-mock/grpc-wire.js";
import { envoyRateLimitService } from "../../proto/index.js";

const method = envoyRateLimitService().service.ShouldRateLimit;

test("decodes what protobufjs encodes: domain, descriptors (last duplicate key wins), hits_addend, unknown fields skipped", () => {
  const bytes = method.requestSerialize({
    domain: "llm/route", hits_addend: 4294967295,
    descriptors: [{ entries: [{ key: "a", value: "1" }, { key: "a", value: "2" }, { key: "ü", value: "ñ" }], limit: { requests_per_unit: 5, unit: "MINUTE" } }, { entries: [] }],
  });
  const req = decodeRateLimitRequest(Buffer.concat([bytes, Buffer.from([0xa0, 0x06, 0x01])])); // + field 100 varint
  assert.equal(req.domain, "llm/route");
  assert.equal(req.hitsAddend, 4294967295);
  assert.deepEqual(req.descriptors.map((d) => [...d]), [[["a", "2"], ["ü", "ñ"]], []]);
});

test("a uint32 varint keeps its low 32 bits; bad UTF-8 and wrong wire types are decode errors", () => {
  const tooBig = Buffer.from([0x18, 0x81, 0x80, 0x80, 0x80, 0x10]); // 2^32 + 1
  assert.equal(decodeRateLimitRequest(tooBig).hitsAddend, 1);
  assert.throws(() => decodeRateLimitRequest(Buffer.from([0x0a, 0x01, 0xff])), (e: Error) => e instanceof DecodeError && /not UTF-8/.test(e.message));
  assert.throws(() => decodeRateLimitRequest(Buffer.from([0x08, 0x01])), (e: Error) => e instanceof DecodeError && /invalid wire type/.test(e.message));
  assert.throws(() => decodeRateLimitRequest(Buffer.from([0x0a, 0x05, 0x61])), DecodeError);
});

test("encodes as prost does: fields in number order, defaults omitted, one gRPC frame", () => {
  const headers = [{ key: "X-RateLimit-Limit", value: '3, 3;w=60;name="ü"' }, { key: "X-RateLimit-Remaining", value: "" }];
  const frame = encodeRateLimitResponseFrame(2, headers);
  assert.equal(frame[0], 0);
  assert.equal(frame.readUInt32BE(1), frame.length - 5);
  const body = frame.subarray(5);
  const decoded = method.responseDeserialize(body) as any;
  assert.equal(decoded.overall_code, "OVER_LIMIT");
  assert.deepEqual(decoded.response_headers_to_add.map((h: any) => [h.key, h.value]), [["X-RateLimit-Limit", '3, 3;w=60;name="ü"'], ["X-RateLimit-Remaining", ""]]);
  assert.ok(Buffer.from(method.responseSerialize({ overall_code: "OVER_LIMIT", response_headers_to_add: [headers[0], { key: headers[1].key }] })).equals(body));
  assert.equal(encodeRateLimitResponseFrame(0, []).length, 5, "UNKNOWN and nothing else: an empty message");
});

test("grpc-message is percent-encoded as tonic does", () => {
  assert.equal(percentEncode("Service unavailable"), "Service%20unavailable");
  assert.equal(percentEncode('a"b#c<d>e`f?g{h}i%j'), "a%22b%23c%3Cd%3Ee%60f%3Fg%7Bh%7Di%j");
  assert.equal(percentEncode("ü\n"), "%C3%BC%0A");
});
