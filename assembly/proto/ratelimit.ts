// envoy.service.ratelimit.v3 RateLimitRequest / RateLimitResponse, the messages Limitador's
// ShouldRateLimit, CheckRateLimit and Report take and return (research/limitador.md §1).
import { ProtoReader, WIRE_VARINT, WIRE_LEN, sharedWriter } from "./wire";
import { HeaderPair } from "../abi/pairs";

export class DescriptorEntry {
  constructor(public key: string, public value: string) {}
}

/** RateLimitRequest{domain = 1, descriptors = 2 (entries = 1: key = 1, value = 2), hits_addend = 3}. */
export function encodeRateLimitRequest(domain: string, descriptors: Array<Array<DescriptorEntry>>, hitsAddend: u32): ArrayBuffer {
  const w = sharedWriter();
  w.stringField(1, domain);
  for (let d = 0; d < descriptors.length; d++) {
    const descriptor = w.begin(2);
    const entries = descriptors[d];
    for (let e = 0; e < entries.length; e++) {
      const entry = w.begin(1);
      w.stringField(1, entries[e].key);
      w.stringField(2, entries[e].value);
      w.end(entry);
    }
    w.end(descriptor);
  }
  w.uint32Field(3, hitsAddend);
  return w.finish();
}

export namespace RateLimitCode {
  export const Unknown: u32 = 0;
  export const Ok: u32 = 1;
  export const OverLimit: u32 = 2;
}

const NO_HEADERS = new Array<HeaderPair>(0);

export class RateLimitResponse {
  overallCode: u32 = RateLimitCode.Unknown;
  /** The shared empty list unless the reply has headers (never push to it: decode below makes its own). */
  responseHeadersToAdd: Array<HeaderPair> = NO_HEADERS;
  requestHeadersToAdd: Array<HeaderPair> = NO_HEADERS;
}

/** Decodes the fields we act on; null when the bytes are not a valid message. */
export function decodeRateLimitResponse(data: ArrayBuffer): RateLimitResponse | null {
  const r = new ProtoReader(data);
  const out = new RateLimitResponse();
  while (!r.done) {
    const field = r.tag();
    if (r.failed) break;
    if (field == 1 && r.wire == WIRE_VARINT) out.overallCode = <u32>r.varint();
    else if ((field == 3 || field == 4) && r.wire == WIRE_LEN) {
      const header = decodeHeaderValue(r);
      if (header === null) return null;
      if (field == 3) {
        if (out.responseHeadersToAdd === NO_HEADERS) out.responseHeadersToAdd = new Array<HeaderPair>();
        out.responseHeadersToAdd.push(header);
      } else {
        if (out.requestHeadersToAdd === NO_HEADERS) out.requestHeadersToAdd = new Array<HeaderPair>();
        out.requestHeadersToAdd.push(header);
      }
    } else r.skip();
  }
  return r.failed ? null : out;
}

/** envoy.config.core.v3.HeaderValue{key = 1, value = 2, raw_value = 3}, the field at the reader. */
function decodeHeaderValue(r: ProtoReader): HeaderPair | null {
  const outer = r.enter();
  let key = "", value = "";
  while (!r.done) {
    const field = r.tag();
    if (r.failed) break;
    if (field == 1 && r.wire == WIRE_LEN) key = r.string();
    else if ((field == 2 || field == 3) && r.wire == WIRE_LEN) value = r.string();
    else r.skip();
  }
  r.leave(outer);
  return r.failed ? null : new HeaderPair(key, value);
}
