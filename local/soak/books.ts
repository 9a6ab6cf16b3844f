// The soak's books: what the clients saw against what Limitador and the gateway counted. Every
// equation is exact; where a fault makes a call's fate unknowable (Limitador may have applied a
// call whose answer never reached the gateway), the gap is bounded by the calls the gateway
// recorded as failed, and printed as such.
import type { RequestRecord } from "./traffic.js";
import { parseExposition, sum, type Sample } from "./exposition.js";

export interface LimitSpec { requests: number; tokens: number }
/** `remaining` as Limitador writes it, a u64 (kept as its decimal text: it can wrap past 2^53). */
export interface Counter { limit: { name?: string; namespace: string }; set_variables: Record<string, string>; remaining: number | string }

/** Limitador's remaining = max − used in u64: a Report past max wraps it (quirk of v2.4.0-dev); signed here. */
export function signedRemaining(remaining: number | string): number {
  const r = BigInt(remaining);
  return Number(r >= 2n ** 63n ? r - 2n ** 64n : r);
}

export interface BooksInput {
  records: RequestRecord[];
  limits: Record<string, LimitSpec>;               // tier → per user and model
  namespaceOf: (model: string) => string;
  limitadorMetrics: string | null;                  // null: the process restarted, its counts are gone
  counters: Counter[];
  gatewayMetrics: string;
  /** Windows in which a fault was active ([from, to] ms); 5xx may occur only there. */
  faultWindows: Array<{ name: string; from: number; to: number; allow5xx: boolean }>;
  recoveryMs: number;
}

export interface Books { lines: string[]; violations: string[] }

interface Cell {
  sent: number; ok: number; okHeaders: number; r429req: number; r429tok: number; r401: number; r5xx: number; other: number;
  noAnswer: number; cut: number; tokens: number; cutSeenTokens: number; prompt: number; completion: number;
}
const cell = (): Cell => ({ sent: 0, ok: 0, okHeaders: 0, r429req: 0, r429tok: 0, r401: 0, r5xx: 0, other: 0, noAnswer: 0, cut: 0, tokens: 0, cutSeenTokens: 0, prompt: 0, completion: 0 });

function tally(records: RequestRecord[], key: (r: RequestRecord) => string): Map<string, Cell> {
  const out = new Map<string, Cell>();
  for (const r of records) {
    const c = out.get(key(r)) ?? cell();
    out.set(key(r), c);
    c.sent++;
    if (r.status === null) { c.noAnswer++; continue; }
    if (r.status >= 200 && r.status < 300) {
      c.ok++;
      if (r.rateLimitHeaders) c.okHeaders++;
      if (!r.completed) { c.cut++; if (r.usage) c.cutSeenTokens += r.usage.total; continue; }
      if (r.usage && r.usage.total > 0) { c.tokens += r.usage.total; c.prompt += r.usage.prompt; c.completion += r.usage.completion; }
    } else if (r.status === 429) {
      if (r.rateLimitHeaders) c.r429req++; else c.r429tok++;
    } else if (r.status === 401) c.r401++;
    else if (r.status >= 500) c.r5xx++;
    else c.other++;
  }
  return out;
}

export function computeBooks(input: BooksInput): Books {
  const lines: string[] = [];
  const violations: string[] = [];
  const fail = (what: string) => violations.push(what);
  const { records } = input;
  const all = tally(records, () => "all").get("all") ?? cell();
  const injectedCuts = records.filter((r) => r.reset !== null && r.status === 200 && !r.completed).length;

  // ---- what the clients saw ----
  const r429 = all.r429req + all.r429tok;
  lines.push(`requests sent ${all.sent} = 2xx ${all.ok} + 429 ${r429} + 401 ${all.r401} + 5xx ${all.r5xx} + other ${all.other} + no answer ${all.noAnswer}`);
  lines.push(`  2xx: ${all.ok - all.cut} complete, ${all.cut} cut mid-stream by the model (injected: ${injectedCuts}); 429: ${all.r429req} request limit, ${all.r429tok} token budget`);
  if (all.sent !== all.ok + r429 + all.r401 + all.r5xx + all.other + all.noAnswer) fail("the classes do not add up to the requests sent");
  if (all.noAnswer > 0) fail(`${all.noAnswer} request(s) got no answer`);
  if (all.other > 0) fail(`${all.other} answer(s) outside 2xx/429/401/5xx`);
  if (all.cut !== injectedCuts) fail(`${all.cut - injectedCuts} stream(s) cut that the soak did not cut`);
  const inDenyWindow = (r: RequestRecord) => input.faultWindows.some((f) => f.allow5xx && r.t1 >= f.from && r.t0 <= f.to + input.recoveryMs);
  const badKeys = records.filter((r) => r.key !== "valid" && !(r.status !== null && r.status >= 500 && inDenyWindow(r)));
  if (badKeys.some((r) => r.status !== 401)) fail(`a request without a valid key got ${badKeys.find((r) => r.status !== 401)!.status}, not 401`);
  if (records.some((r) => r.key === "valid" && r.status === 401)) fail("a valid key got 401");
  const unexpectedErrors = records.filter((r) => r.error && !(r.reset && r.status === 200));
  if (unexpectedErrors.length) fail(`${unexpectedErrors.length} client error(s), e.g. ${unexpectedErrors[0].error}`);

  // ---- 5xx only while a fault allows it, and recovery after it ----
  const fivexx = records.filter((r) => r.status !== null && r.status >= 500);
  for (const r of fivexx) {
    if (!inDenyWindow(r)) { fail(`a ${r.status} at ${r.t0.toFixed(0)}–${r.t1.toFixed(0)} ms, outside any deny-mode fault window`); break; }
  }
  // Served normally: not a 5xx, and a valid key's 2xx carries Limitador's headers (it was asked).
  const served = (r: RequestRecord) => r.status !== null && r.status < 500 && !(r.key === "valid" && r.status === 200 && !r.rateLimitHeaders);
  const windows = [...input.faultWindows].sort((a, b) => a.from - b.from);
  for (const [i, f] of windows.entries()) {
    // Recovery is judged on requests sent after the return and before the next fault began.
    const nextFrom = windows[i + 1]?.from ?? Infinity;
    const during = records.filter((r) => r.t1 >= f.from && r.t0 <= f.to);
    const failed = during.filter((r) => r.status !== null && r.status >= 500).length;
    const unchecked = during.filter((r) => r.key === "valid" && r.status === 200 && !r.rateLimitHeaders).length;
    const after = records.filter((r) => r.t0 > f.to + input.recoveryMs && r.t1 < nextFrom);
    const afterFailed = after.filter((r) => !served(r)).length;
    const lastUnserved = records.filter((r) => r.t0 >= f.to && r.t1 < nextFrom && !served(r)).reduce((m, r) => Math.max(m, r.t0 - f.to), -1);
    lines.push(`fault ${f.name}: down ${(f.to - f.from).toFixed(0)} ms; ${during.length} requests overlapped it: ${failed} got 5xx, ${unchecked} passed unchecked (failureMode allow)`);
    lines.push(`  back: ${lastUnserved < 0 ? "every request sent after its return was served normally" : `the last request not served normally was sent ${lastUnserved.toFixed(0)} ms after its return`}; from ${input.recoveryMs} ms after${Number.isFinite(nextFrom) ? " to the next fault" : ""}: ${after.length} requests, ${afterFailed} not served normally`);
    if (afterFailed > 0) fail(`${afterFailed} request(s) sent more than ${input.recoveryMs} ms after ${f.name} ended were not served normally`);
    if (after.filter(served).length < 5) fail(`${f.name}: too few requests after its return to observe recovery`);
  }

  // ---- the gateway's own metrics ----
  const gw = parseExposition(input.gatewayMetrics);
  // The filter counts a Report whose hits_addend cannot be read (an answer without usage) under
  // failure_mode_*, as it does a failed call: those are known from what the clients saw.
  const noUsage = records.filter((r) => r.key === "valid" && r.status === 200 && r.completed && !r.usage).length;
  const failureMode = sum(gw, "inference_model_request_error_total", { error_class: "failure_mode_allow" }) + sum(gw, "inference_model_request_error_total", { error_class: "failure_mode_deny" });
  const failedCalls = failureMode - noUsage;
  if (failedCalls < 0) fail(`the gateway counted ${failureMode} failure_mode errors, fewer than the ${noUsage} answers without usage`);
  const reportFailures = sum(gw, "inference_model_request_error_total", { error_class: "report" });
  lines.push(`gateway: inference_model_request_total ${sum(gw, "inference_model_request_total")}, rate_limited ${sum(gw, "inference_model_rate_limited_total")}, Limitador/Authorino calls failed ${failedCalls} (failureMode answered), Reports failed ${reportFailures}, answers without usage (no Report) ${noUsage}`);
  const classes = new Map<string, number>();
  for (const x of gw) if (x.name === "inference_model_request_error_total") classes.set(x.labels.error_class, (classes.get(x.labels.error_class) ?? 0) + x.value);
  lines.push(`  errors by class: ${[...classes].map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`);
  if (sum(gw, "inference_model_request_total") !== all.sent) fail(`gateway counted ${sum(gw, "inference_model_request_total")} requests, clients sent ${all.sent}`);
  if (sum(gw, "inference_model_rate_limited_total") !== r429) fail(`gateway counted ${sum(gw, "inference_model_rate_limited_total")} rate-limited, clients saw ${r429} 429s`);
  const faulted = input.faultWindows.length > 0;
  if (!faulted && failedCalls + reportFailures > 0) fail(`${failedCalls + reportFailures} failed service call(s) without a fault`);
  const completeOk = records.filter((r) => r.status === 200 && r.completed && r.usage);
  const clientOut = completeOk.reduce((n, r) => n + r.usage!.completion, 0);
  const gwOut = sum(gw, "inference_model_output_tokens_sum");
  const cutOut = records.filter((r) => r.status === 200 && !r.completed && r.usage).reduce((n, r) => n + r.usage!.completion, 0);
  lines.push(`gateway output tokens ${gwOut}, clients saw ${clientOut} in complete answers (+${cutOut} before a cut)`);
  if (gwOut !== clientOut && gwOut !== clientOut + cutOut) fail(`gateway output tokens ${gwOut} ≠ clients' ${clientOut} (or ${clientOut + cutOut} with cut streams)`);

  // ---- Limitador: metrics and counters per user and model ----
  const perUser = tally(records.filter((r) => r.key === "valid"), (r) => `${r.user}\u0000${r.tier}\u0000${r.model}`);
  const lm: Sample[] | null = input.limitadorMetrics === null ? null : parseExposition(input.limitadorMetrics);
  let calls = { expected: 0, seen: 0 }, limited = { expected: 0, seen: 0 }, hits = { expected: 0, seen: 0, cutSeen: 0 };
  const counters = { checked: 0, off: 0, requestGap: 0, tokensLost: 0, tokensExtra: 0 };
  for (const [key, c] of perUser) {
    const [user, tier, model] = key.split("\u0000");
    const ns = input.namespaceOf(model);
    const labels = { user, tier, model, limitador_namespace: ns };
    const shouldOk = c.ok + c.r429tok;
    calls.expected += 2 * c.ok + c.r429tok;
    limited.expected += c.r429req + c.r429tok;
    hits.expected += shouldOk + c.tokens;
    hits.cutSeen += c.cutSeenTokens;
    if (lm) {
      calls.seen += sum(lm, "authorized_calls", labels);
      limited.seen += sum(lm, "limited_calls", labels);
      hits.seen += sum(lm, "authorized_hits", labels);
      if (!faulted) {
        const got = { calls: sum(lm, "authorized_calls", labels), req: sum(lm, "limited_calls", { ...labels, limit_name: tier }), tok: sum(lm, "limited_calls", { ...labels, limit_name: `${tier}-tokens` }), hits: sum(lm, "authorized_hits", labels) };
        if (got.calls !== 2 * c.ok + c.r429tok) fail(`${user}/${model}: authorized_calls ${got.calls} ≠ 2×${c.ok} + ${c.r429tok}`);
        if (got.req !== c.r429req) fail(`${user}/${model}: limited_calls{limit_name=${tier}} ${got.req} ≠ ${c.r429req}`);
        if (got.tok !== c.r429tok) fail(`${user}/${model}: limited_calls{limit_name=${tier}-tokens} ${got.tok} ≠ ${c.r429tok}`);
        if (got.hits !== shouldOk + c.tokens && got.hits !== shouldOk + c.tokens + c.cutSeenTokens) fail(`${user}/${model}: authorized_hits ${got.hits} ≠ ${shouldOk} requests + ${c.tokens} tokens`);
      }
    }
    const spec = input.limits[tier];
    const remaining = (name: string, max: number) => {
      const k = input.counters.find((x) => x.limit.namespace === ns && x.limit.name === name && Object.values(x.set_variables).includes(user));
      return k ? signedRemaining(k.remaining) : max; // no counter yet: nothing used
    };
    // Requests never pass max (ShouldRateLimit checks before it counts): max − used, never below 0.
    const reqGap = Math.abs(remaining(tier, spec.requests) - Math.max(0, spec.requests - shouldOk));
    // Tokens can: a Report adds what the answer used, past max; Limitador's u64 wraps, unwrapped
    // above, so remaining is max − used, signed.
    const tokRemaining = remaining(`${tier}-tokens`, spec.tokens);
    // Signed: a Report that failed loses its tokens (remaining above what clients imply); none
    // may count more than the clients saw (remaining below), cut streams included at most once.
    const lost = Math.max(0, tokRemaining - (spec.tokens - c.tokens));
    const extra = Math.max(0, (spec.tokens - c.tokens - c.cutSeenTokens) - tokRemaining);
    const tokGap = lost + extra;
    counters.tokensLost += lost;
    counters.tokensExtra += extra;
    counters.checked += 2;
    if (reqGap) { counters.requestGap += reqGap; counters.off++; }
    if (tokGap) counters.off++;
  }
  if (lm) {
    lines.push(`Limitador authorized_calls ${calls.seen} (clients imply ${calls.expected}), limited_calls ${limited.seen} (${limited.expected}), authorized_hits ${hits.seen} (${hits.expected}${hits.cutSeen ? `, +${hits.cutSeen} if cut streams were reported` : ""})`);
    if (faulted) {
      // A request that failed at its k-th call had k−1 calls answered and the k-th maybe applied:
      // with two calls per request, each failed call leaves at most two in doubt.
      const gap = Math.abs(calls.seen + limited.seen - calls.expected - limited.expected);
      lines.push(`  calls in doubt (of requests with a failed call, which Limitador may have applied): ≤ 2 × ${failedCalls}; observed gap ${gap}`);
      if (gap > 2 * failedCalls) fail(`Limitador's calls differ from the clients' by ${gap}, more than twice the ${failedCalls} failed calls`);
    }
  } else {
    lines.push("Limitador metrics: the process was restarted, so its counters restarted (as Limitador's do); compared through its storage counters only");
  }
  lines.push(`Limitador counters (remaining per user, model and limit): ${counters.checked - counters.off} of ${counters.checked} exactly as the clients imply`
    + (counters.off ? `; off by ${counters.requestGap} requests, ${counters.tokensLost} tokens fewer (Reports lost) and ${counters.tokensExtra} more` : ""));
  if (!faulted && counters.off) fail(`Limitador counters differ from the clients' books (${counters.requestGap} requests, ${counters.tokensLost + counters.tokensExtra} tokens)`);
  if (counters.tokensExtra > 0) fail(`Limitador counted ${counters.tokensExtra} tokens more than the clients saw (a Report counted twice?)`);
  if (faulted && counters.requestGap > failedCalls) fail(`request counters off by ${counters.requestGap}, more than the ${failedCalls} failed calls`);
  if (faulted && counters.off) lines.push(`  in doubt: ${failedCalls} failed calls; a Report that fails (Limitador or its storage gone when the response ends) loses its tokens, as documented`);
  return { lines, violations };
}
