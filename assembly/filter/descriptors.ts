// Builds the RateLimitRequest of one action (design §3.3): domain = scope or ratelimit.domain;
// descriptors[0] = entries of the conditionalData blocks whose predicates hold; descriptors[1] =
// the requestData labels that resolve (a label that does not is left out, never fails the call);
// hits_addend = ratelimit.hits_addend or 1.
import { Value, Kind, Resolver, Expression, toStringValue } from "../cel";
import { Action, RequestDatum, KEY_DOMAIN, KEY_HITS_ADDEND } from "./config";
import { DescriptorEntry } from "../proto/ratelimit";
import { logDebug, debugEnabled } from "../abi/hostcalls";

export class BuiltRequest {
  domain: string = "";
  descriptors: Array<Array<DescriptorEntry>> = [];
  hitsAddend: u32 = 1;
  /** Non-empty: nothing to send (e.g. no entries); not an error. */
  skip: string = "";
  /** Non-empty: evaluation failed; the service's failure mode decides. */
  failure: string = "";
}

/** Evaluates predicates (all must be true); returns null on success, else an error message. */
export function allHold(predicates: Array<Expression>, attrs: Resolver, outcome: Array<bool>): string | null {
  for (let i = 0; i < predicates.length; i++) {
    const v = predicates[i].eval(attrs);
    if (v.isError) return "predicate '" + predicates[i].source + "' failed: " + v.s;
    if (v.kind != Kind.Bool) return "predicate '" + predicates[i].source + "' is not a bool (got " + v.typeName() + ")";
    if (!v.b) { outcome[0] = false; return null; }
  }
  outcome[0] = true;
  return null;
}

/** Descriptor values are strings: scalars are stringified, null is "null", lists and maps fail. */
export function descriptorValue(v: Value): string | null {
  if (v.kind == Kind.Null) return "null";
  if (v.kind == Kind.List || v.kind == Kind.Map || v.isError) return null;
  const s = toStringValue(v);
  return s.isError ? null : s.s;
}

function hitsAddend(v: Value): i64 {
  if (v.kind == Kind.Int) return v.i;
  if (v.kind == Kind.Uint) return v.u > 0xFFFFFFFF ? -1 : <i64>v.u;
  if (v.kind == Kind.Double && v.d == Math.floor(v.d) && v.d >= 0 && v.d <= 4294967295.0) return <i64>v.d;
  if (v.kind == Kind.String) {
    const s = v.s;
    if (s.length == 0 || s.length > 10) return -1;
    for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c < 48 || c > 57) return -1; }
    return I64.parseInt(s);
  }
  return -1;
}

export function buildRateLimitRequest(action: Action, labels: Array<RequestDatum>, attrs: Resolver, withResponseLabels: bool): BuiltRequest {
  const out = new BuiltRequest();
  out.domain = action.scope;
  const entries = new Array<DescriptorEntry>();
  const holds: Array<bool> = [false];
  for (let b = 0; b < action.conditionalData.length; b++) {
    const block = action.conditionalData[b];
    const err = allHold(block.predicates, attrs, holds);
    if (err !== null) { out.failure = err; return out; }
    if (!holds[0]) continue;
    for (let i = 0; i < block.data.length; i++) {
      const item = block.data[i];
      let value: Value;
      const literal = item.staticValue;
      if (literal !== null) value = Value.string(literal);
      else {
        value = (<Expression>item.expression).eval(attrs);
        if (value.isError) { out.failure = "data '" + item.key + "' failed: " + value.s; return out; }
      }
      if (item.key == KEY_HITS_ADDEND) {
        const n = hitsAddend(value);
        if (n < 0 || n > 4294967295) { out.failure = "ratelimit.hits_addend must be an integer from 0 to 4294967295, got " + value.typeName(); return out; }
        out.hitsAddend = <u32>n;
        continue;
      }
      if (item.key == KEY_DOMAIN) {
        // As wasm-shim: a namespace is a string; a number there is a mistake, not a namespace.
        if (value.kind != Kind.String) { out.failure = "ratelimit.domain must be a string, got " + value.typeName(); return out; }
        if (value.s.length == 0) { out.failure = "ratelimit.domain evaluated to an empty string"; return out; }
        out.domain = value.s;
        continue;
      }
      const text = descriptorValue(value);
      if (text === null) { out.failure = "data '" + item.key + "' is a " + value.typeName() + ", not a scalar"; return out; }
      entries.push(new DescriptorEntry(item.key, text));
    }
  }
  if (entries.length == 0) { out.skip = "no descriptor entries apply"; return out; }
  if (out.domain.length == 0) { out.skip = "empty domain (Limitador would answer UNKNOWN)"; return out; }
  out.descriptors.push(entries);
  const labelEntries = labelDescriptor(labels, attrs, withResponseLabels);
  if (labelEntries.length > 0) out.descriptors.push(labelEntries);
  return out;
}

/** descriptors[1]: one entry per label that resolves to a scalar; the rest are left out. */
export function labelDescriptor(labels: Array<RequestDatum>, attrs: Resolver, withResponseLabels: bool): Array<DescriptorEntry> {
  const entries = new Array<DescriptorEntry>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!withResponseLabels && label.expression.usesResponseBody) continue;
    const v = label.expression.eval(attrs);
    let text: string | null = null;
    if (!v.isError && v.kind != Kind.Null) text = descriptorValue(v);
    if (text === null) {
      if (debugEnabled()) logDebug("label '" + label.entryKey + "' left out: " + (v.isError ? v.s : "value is " + v.typeName()));
      continue;
    }
    entries.push(new DescriptorEntry(label.entryKey, text));
  }
  return entries;
}
