// Compares what a case observed with what it expects, semantically: calls by cluster, service,
// method, timeout and decoded fields; responses and upstream requests by the headers listed.
import assert from "node:assert/strict";
import { decodeStructBytes, decodeValueBytes, SERVICE_OF_METHOD, type ObservedCall } from "./grpc-script.js";
import type { CompatCase, ExpectedCall, ExpectedFilterState, RequestStep } from "./case-schema.js";
import type { StepObservation } from "./drive.js";

const show = (calls: ObservedCall[]) => JSON.stringify(calls.map((c) => ({ cluster: c.cluster, method: c.method, timeoutMs: c.timeoutMs, message: c.message })), null, 1);

/** A header list as Envoy's map view: lower-case names, repeated names joined with ",". */
function headerMap(list: Array<[string, string]>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [k, v] of list) {
    const key = k.toLowerCase();
    map.set(key, map.has(key) ? `${map.get(key)},${v}` : v);
  }
  return map;
}

/** Expected header values: null means absent; "$requestId" stands for the request's x-request-id. */
function assertHeaders(where: string, actual: Map<string, string> | Record<string, string>, expected: Record<string, string | null>, requestId = ""): void {
  const get = (k: string) => (actual instanceof Map ? actual.get(k) : actual[k]);
  for (const [name, value] of Object.entries(expected)) {
    const got = get(name.toLowerCase());
    if (value === null) assert.equal(got, undefined, `${where}: header '${name}' should be absent, got '${got}'`);
    else assert.equal(got, value === "$requestId" ? requestId : value, `${where}: header '${name}'`);
  }
}

function assertCall(where: string, actual: ObservedCall, expected: ExpectedCall, all: ObservedCall[]): void {
  const ctx = `(observed calls: ${show(all)})`;
  assert.equal(actual.cluster, expected.cluster, `${where}: cluster ${ctx}`);
  assert.equal(actual.method, expected.method, `${where}: method ${ctx}`);
  assert.equal(actual.service, expected.service ?? SERVICE_OF_METHOD[expected.method], `${where}: gRPC service`);
  if (expected.timeoutMs !== undefined) assert.equal(actual.timeoutMs, expected.timeoutMs, `${where}: timeout (ms)`);
  const m = actual.message;
  if (expected.domain !== undefined) assert.equal(m.domain, expected.domain, `${where}: domain ${ctx}`);
  if (expected.descriptors !== undefined) assert.deepEqual(m.descriptors, expected.descriptors, `${where}: descriptors ${ctx}`);
  if (expected.hitsAddend !== undefined) assert.equal(m.hitsAddend, expected.hitsAddend, `${where}: hits_addend`);
  const check = expected.check;
  if (check) {
    assert.ok(m.hasTime, `${where}: CheckRequest has request.time`);
    if (check.contextExtensions) assert.deepEqual(m.contextExtensions, check.contextExtensions, `${where}: context_extensions`);
    for (const [k, v] of Object.entries(check.http ?? {})) assert.equal(m.http[k], v, `${where}: attributes.request.http.${k}`);
    if (check.headers) assertHeaders(`${where}: CheckRequest headers`, m.headers, check.headers);
    if (check.source) assert.deepEqual(m.source, check.source, `${where}: source socket address`);
    if (check.destination) assert.deepEqual(m.destination, check.destination, `${where}: destination socket address`);
    if (check.metadata) assert.deepEqual(m.metadata, check.metadata, `${where}: metadata_context.filter_metadata`);
  }
  for (const [k, v] of Object.entries(expected.message ?? {})) assert.deepEqual(m[k], v, `${where}: message field '${k}' ${ctx}`);
}

function assertCalls(where: string, actual: ObservedCall[], expected: ExpectedCall[]): void {
  assert.equal(actual.length, expected.length, `${where}: ${expected.length} gRPC call(s) expected, ${actual.length} dispatched: ${show(actual)}`);
  expected.forEach((e, i) => assertCall(`${where}: call ${i + 1}`, actual[i], e, actual));
}

function assertFilterState(where: string, state: Map<string, unknown>, expected: Record<string, ExpectedFilterState>): void {
  for (const [key, want] of Object.entries(expected)) {
    const bytes = state.get(key) as Uint8Array | undefined;
    if (want === null) { assert.equal(bytes, undefined, `${where}: filter state '${key}' should be absent`); continue; }
    assert.ok(bytes instanceof Uint8Array, `${where}: filter state '${key}' missing (present: ${[...state.keys()].join(", ") || "none"})`);
    if ("struct" in want) assert.deepEqual(decodeStructBytes(bytes), want.struct, `${where}: filter state '${key}' (google.protobuf.Struct)`);
    else if ("value" in want) assert.deepEqual(decodeValueBytes(bytes), want.value, `${where}: filter state '${key}' (google.protobuf.Value)`);
    else assert.deepEqual(JSON.parse(Buffer.from(bytes).toString()), want.json, `${where}: filter state '${key}' (JSON)`);
  }
}

export function assertConfigure(expected: CompatCase["configure"], calls: ObservedCall[], tickPeriodMs: number, unused: string[]): void {
  assertCalls("configure", calls, expected?.calls ?? []);
  if (expected?.tickPeriodMs !== undefined) assert.equal(tickPeriodMs, expected.tickPeriodMs, "configure: tick period (ms)");
  assert.deepEqual(unused, [], "configure: scripted replies never asked for");
}

export function assertStep(step: RequestStep, o: StepObservation, where: string): void {
  const e = step.expect;
  const r = e.response;
  if (r?.status !== undefined) assert.equal(o.response.status, r.status, `${where}: response status (body: ${JSON.stringify(o.response.body)}; calls: ${show(o.calls)})`);
  if (e.calls) assertCalls(where, o.calls, e.calls);
  // wasm-shim sends the request id as x-request-id metadata on every call.
  for (const [i, call] of o.calls.entries()) assert.equal(call.metadata["x-request-id"], o.requestId, `${where}: call ${i + 1} carries x-request-id`);
  assert.deepEqual(o.unusedReplies, [], `${where}: scripted replies never asked for`);
  if (r?.headers) assertHeaders(`${where}: response`, headerMap(o.response.headers), r.headers, o.requestId);
  if (r?.body !== undefined) assert.equal(o.response.body, r.body, `${where}: response body`);
  if (e.upstream === false) assert.equal(o.upstreamReached, false, `${where}: the request must not reach the upstream`);
  else if (e.upstream) {
    assert.equal(o.upstreamReached, true, `${where}: the request should reach the upstream`);
    if (e.upstream.headers) assertHeaders(`${where}: upstream request`, headerMap(o.forwarded.headers), e.upstream.headers, o.requestId);
    if (e.upstream.body !== undefined) assert.equal(o.forwarded.body, e.upstream.body, `${where}: upstream request body`);
  }
  if (e.filterState) assertFilterState(where, o.filterState, e.filterState);
  if (e.chunksUnheld) assert.deepEqual(o.heldChunks, [], `${where}: response chunks held back by the filter (indexes)`);
  if (e.callsBeforeResponseEnd !== undefined) assert.equal(o.callsBeforeResponseEnd, e.callsBeforeResponseEnd, `${where}: calls dispatched before the response ended`);
  assert.equal(o.response.reset, false, `${where}: the stream was reset`);
}

export function assertCounters(expected: Record<string, number>, counter: (name: string) => number, names: string[]): void {
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(counter(name), value, `counter '${name}' (stats defined: ${names.join(", ") || "none"})`);
  }
}
