// Builds the RateLimitRequest of one action (design §3.3): domain = scope or ratelimit.domain;
// descriptors[0] = entries of the conditionalData blocks whose predicates hold; descriptors[1] =
// the requestData labels that resolve (a label that does not is left out, never fails the call);
// hits_addend = ratelimit.hits_addend or 1. Values are evaluated into reused scratch arrays and the
// message is written straight from them; literal entries and keys are encoded once per item.
import { Value, Kind, Resolver, Expression, toStringValue } from "../cel";
import { Action, DataItem, RequestDatum, KEY_DOMAIN, KEY_HITS_ADDEND } from "./config";
import { ProtoWriter, sharedWriter } from "../proto/wire";
import { logDebug, debugEnabled } from "../abi/hostcalls";

/**
 * What buildRateLimitRequest found, in one reused object (the VM runs one callback at a time):
 * read it, and encode() it, before the next build.
 */
export class BuiltRequest {
  domain: string = "";
  hitsAddend: u32 = 1;
  /** Non-empty: nothing to send (e.g. no entries); not an error. */
  skip: string = "";
  /** Non-empty: evaluation failed; the service's failure mode decides. */
  failure: string = "";
  /** descriptors[0]: the data items that apply and, index for index, their values (null: literal). */
  readonly items: Array<DataItem> = [];
  readonly values: Array<string | null> = [];
  /** descriptors[1]: labels that resolved. */
  readonly labelKeys: Array<string> = [];
  readonly labelValues: Array<string> = [];

  reset(domain: string): BuiltRequest {
    this.domain = domain;
    this.hitsAddend = 1;
    this.skip = "";
    this.failure = "";
    this.items.length = 0;
    this.values.length = 0;
    this.labelKeys.length = 0;
    this.labelValues.length = 0;
    return this;
  }

  /** RateLimitRequest{domain = 1, descriptors = 2 (entries = 1: key = 1, value = 2), hits_addend = 3}. */
  encode(): ArrayBuffer {
    const w = sharedWriter();
    w.stringField(1, this.domain);
    const first = w.begin(2);
    for (let i = 0; i < this.items.length; i++) {
      const item = unchecked(this.items[i]);
      const encoded = encodedItem(item);
      const value = unchecked(this.values[i]);
      if (value === null) { w.rawBuffer(encoded); continue; }
      const entry = w.begin(1);
      w.rawBuffer(encoded);
      w.stringField(2, value);
      w.end(entry);
    }
    w.end(first);
    if (this.labelKeys.length > 0) {
      const labels = w.begin(2);
      for (let i = 0; i < this.labelKeys.length; i++) writeEntry(w, unchecked(this.labelKeys[i]), unchecked(this.labelValues[i]));
      w.end(labels);
    }
    w.uint32Field(3, this.hitsAddend);
    return w.finish();
  }
}

function writeEntry(w: ProtoWriter, key: string, value: string): void {
  const entry = w.begin(1);
  w.stringField(1, key);
  w.stringField(2, value);
  w.end(entry);
}

/** A literal item's whole Entry field, or a computed item's key field (empty keys and values are not written). */
function encodedItem(item: DataItem): ArrayBuffer {
  let encoded = item.encoded;
  if (encoded === null) {
    const w = new ProtoWriter();
    const literal = item.staticValue;
    if (literal !== null) writeEntry(w, item.key, literal);
    else w.stringField(1, item.key);
    encoded = w.finish();
    item.encoded = encoded;
  }
  return encoded;
}

const built = new BuiltRequest();
const holds: Array<bool> = [false];

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
  if (v.kind == Kind.String) return v.s;
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
  const out = built.reset(action.scope);
  for (let b = 0; b < action.conditionalData.length; b++) {
    const block = action.conditionalData[b];
    const err = allHold(block.predicates, attrs, holds);
    if (err !== null) { out.failure = err; return out; }
    if (!holds[0]) continue;
    for (let i = 0; i < block.data.length; i++) {
      const item = block.data[i];
      const literal = item.staticValue;
      const special = item.special;
      if (literal !== null && !special) { out.items.push(item); out.values.push(null); continue; }
      let value: Value;
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
      out.items.push(item);
      out.values.push(text);
    }
  }
  if (out.items.length == 0) { out.skip = "no descriptor entries apply"; return out; }
  if (out.domain.length == 0) { out.skip = "empty domain (Limitador would answer UNKNOWN)"; return out; }
  addLabels(out, labels, attrs, withResponseLabels);
  return out;
}

/** descriptors[1]: one entry per label that resolves to a scalar; the rest are left out. */
function addLabels(out: BuiltRequest, labels: Array<RequestDatum>, attrs: Resolver, withResponseLabels: bool): void {
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
    out.labelKeys.push(label.entryKey);
    out.labelValues.push(text);
  }
}
