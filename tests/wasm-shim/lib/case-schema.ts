// The data a compatibility case is made of (tests/wasm-shim/cases/*.yaml), and its loader.
// A case file groups the cases that mirror one wasm-shim test file; each case records which
// upstream test(s) it re-creates, in our own names and values.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parse } from "yaml";

/** A scripted answer from a cluster, in the order calls arrive there. */
export type Reply =
  | { rateLimit: { code: "OK" | "OVER_LIMIT" | "UNKNOWN"; headers?: Array<[string, string]> } }
  | { authOk: { metadata?: Record<string, unknown>; headers?: Array<[string, string]>; responseHeadersToAdd?: Array<[string, string]> } }
  | { authDenied: { status?: number; headers?: Array<[string, string]>; body?: string } }
  /** kuadrant.v1.DescriptorService answer carrying the compat.probe.v1 descriptors. */
  | { descriptors: Array<{ cluster: string; service: string }> }
  /** Any other response message, as an object for our .proto files (keepCase). */
  | { message: Record<string, unknown> }
  | { grpcStatus: number };

export interface ExpectedCall {
  cluster: string;
  method: string;
  /** Defaults to the service the method belongs to (SERVICE_OF_METHOD). */
  service?: string;
  timeoutMs?: number;
  // RateLimitRequest (ShouldRateLimit, CheckRateLimit, Report)
  domain?: string;
  descriptors?: Array<Record<string, string>>;
  hitsAddend?: number;
  /** CheckRequest: fields listed are compared; headers only those listed (null: absent). */
  check?: {
    contextExtensions?: Record<string, string>;
    http?: Record<string, string>;
    headers?: Record<string, string | null>;
    source?: { address: string; port: number };
    destination?: { address: string; port: number };
    metadata?: Record<string, unknown>;
  };
  /** Any other message, compared field by field as decoded. */
  message?: Record<string, unknown>;
}

/** Filter state written with proxy_set_property, as Envoy keeps it (key "wasm.<path>"). */
export type ExpectedFilterState = null | { struct: Record<string, unknown> } | { json: unknown } | { value: unknown };

export interface RequestStep {
  name?: string;
  request: {
    headers: Array<[string, string]>;
    /** One string, or chunks delivered one body callback each (the last ends the stream). */
    body?: string | string[];
    /** Send the body only once this many calls were dispatched (proves calls made on headers). */
    bodyAfterCalls?: number;
    source?: string;
    destination?: string;
    dynamicMetadata?: Record<string, unknown>;
  };
  replies?: Record<string, Reply[]>;
  upstream?: {
    status?: number;
    headers?: Array<[string, string]>;
    body?: string | string[];
    /** Chunks are produced one at a time; each waits until the client received the previous. */
    streamed?: boolean;
  };
  expect: {
    calls?: ExpectedCall[];
    response?: { status?: number; headers?: Record<string, string | null>; body?: string };
    /** false: nothing reached the upstream; otherwise what the router forwarded. */
    upstream?: false | { headers?: Record<string, string | null>; body?: string };
    filterState?: Record<string, ExpectedFilterState>;
    /** Streamed upstream bodies: every chunk reached the client before the next was produced. */
    chunksUnheld?: boolean;
    /** Streamed upstream bodies: calls dispatched before the response ended. */
    callsBeforeResponseEnd?: number;
  };
}

export interface CompatCase {
  name: string;
  /** wasm-shim version label (a key of the file's `sources`) → test function name. */
  mirrors?: Record<string, string>;
  /** Where the case comes from when it is not a port (hazards, edge cases): a reference. */
  basis?: string;
  /** Fails today: why (the lead flips it when the filter is fixed). */
  todo?: string;
  /** Where we intentionally differ from wasm-shim, or a choice left open: what and why. */
  note?: string;
  config: Record<string, unknown> | string;
  /** Endpoints with no cluster in Envoy (dispatch fails), and clusters where nothing listens. */
  clusters?: { missing?: string[]; down?: string[] };
  /** Expected at configure time, before any request (e.g. a descriptor fetch). */
  configure?: { calls?: ExpectedCall[]; replies?: Record<string, Reply[]>; tickPeriodMs?: number };
  requests: RequestStep[];
  /** Envoy counters (full stat names, e.g. wasmcustom.kuadrant.hits) after the last request. */
  counters?: Record<string, number>;
}

/** A case file: `sources` and `cases`; other top-level keys (e.g. `x-anchors`) only hold YAML anchors. */
export interface CaseFile {
  file: string;
  sources: Record<string, { repo: string; commit: string; path: string }>;
  cases: CompatCase[];
}

const CASES = fileURLToPath(new URL("../cases/", import.meta.url));

export function loadCaseFiles(): CaseFile[] {
  return readdirSync(CASES).filter((f) => f.endsWith(".yaml")).sort().map((f) => {
    const doc = parse(readFileSync(join(CASES, f), "utf8"));
    return { file: f, sources: doc.sources ?? {}, cases: doc.cases ?? [] };
  });
}
