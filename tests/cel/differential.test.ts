// The filter's CEL against @bufbuild/cel (a maintained CEL evaluator): same value or both fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsCel, referenceEval, sameOutcome, type Rendered } from "../helpers/cel-harness.js";

const cel = new AsCel();

const activation = {
  request: {
    url_path: "/llm/facebook-opt-125m-simulated/v1/chat/completions",
    method: "POST",
    host: "api.example.com",
    query: "mode=full&x=a%20b&x=2",
    headers: { "x-org": "acme", "content-type": "application/json", "x-api-version": "2" },
    size: 120,
  },
  auth: { identity: { userid: "alice", tier: "free", groups: ["dev", "ops"], quota: 2.5 } },
  n: 7,
  big: 9007199254740993,
  u: 5n,
  d: 2.5,
  s: "Hello, World",
  e: "",
  uni: "zoë😀x",
  list: [1, 2, 3],
  strs: ["b", "a", "c"],
};

const corpus = [
  // The operator's and MaaS's expressions.
  "request.url_path.split('/')[2]",
  "auth.identity.userid",
  "auth.identity.tier == 'free'",
  "request.method == 'POST'",
  "request.url_path.startsWith('/llm/')",
  "request.url_path == '/llm'",
  "request.url_path.matches('^/llm/[^/]+/v1/.*$')",
  "request.headers.exists(h, h.lowerAscii() == 'x-org' && request.headers[h] == 'acme')",
  "request.headers.exists(h, h.lowerAscii() == 'x-api-version' && request.headers[h] == '3')",
  "has(auth.identity.tier)",
  "has(auth.identity.nope)",
  "has(request.headers.x)",
  "auth.identity.groups.exists(g, g == 'ops')",
  "'dev' in auth.identity.groups",
  "'x-org' in request.headers",
  "auth.identity.tier in ['free', 'premium']",
  "auth.identity.quota > 2",
  "auth.identity.quota == 2.5",
  // Literals and arithmetic.
  "1 + 2 * 3 - 4 / 2 % 3", "-9223372036854775808", "9223372036854775807 + 1", "-9223372036854775808 - 1",
  "0x1F + 0xff", "18446744073709551615u", "18446744073709551615u + 1u", "3u - 4u",
  "5 / 0", "5 % 0", "7 / -2", "-7 % 3", "1.5 * 2.0", "1.0 / 0.0", "u * 2u", "n * n", "big + 1",
  "1 == 1.0", "1u == 1", "2 < 2.5", "1 < 1u", "-1 < 1u", "'a' < 'b'", "'a' < 1", "true < false", "null == null",
  "1 == 'a'", "[1, 2] == [1, 2]", "{'a': 1} == {'a': 1}", "[1, 'a'] == [1, 'a']", "2.5 > n", "d >= 2.5",
  // Logic and errors.
  "true && false", "false && (1/0 == 1)", "(1/0 == 1) && false", "true || (1/0 == 1)", "(1/0 == 1) || true",
  "(1/0 == 1) || false", "!true", "!1", "1 && true", "true ? 1 : 'x'", "1 ? 2 : 3", "(1/0 == 1) ? 1 : 2",
  "nope.x", "request.nope", "request.headers['missing']", "list[3]", "list[-1]", "list[1u]", "list[1.0]",
  // Strings.
  "size(s)", "s.size()", "size(uni)", "uni.substring(4, 2)", "s.lowerAscii()", "s.upperAscii()", "'  a b \\t\\n'.trim()",
  "s.replace('l', 'L')", "s.replace('l', 'L', 2)", "s.split(', ')", "s.split('')", "e.split(',')", "s.indexOf('o')", "s.indexOf('o', 5)",
  "s.indexOf('')", "s.indexOf('', 20)", "s.lastIndexOf('o')", "s.lastIndexOf('o', 5)", "s.lastIndexOf('')",
  "s.contains('World')", "s.endsWith('ld')", "s.startsWith('')", "strs.join()", "strs.join('-')", "[1].join()",
  "'a' + 'b'", "s + 1", "'\\x41\\u00e9\\U0001F600\\101'", "r'\\n'", "\"\"\"multi\nline\"\"\"", 
  // Conversions.
  "string(1)", "string(-1)", "string(1u)", "string(1.5)", "string(1.0)", "string(1e21)", "string(0.1)", "string(true)",
  "string(list)", "int('42')", "int('-42')", "int('4.2')", "int(2.9)", "int(-2.9)", "int(1e19)",
  "int(u)", "uint('7')", "uint(-1)", "uint(2.5)", "double('2.5')", "double('1e3')", "double(n)",
  "int('9223372036854775808')", "uint('18446744073709551616')",
  // Lists, maps, macros.
  "[1, 2, 3].map(x, x * 2)", "[1, 2, 3].map(x, x > 1, x * 10)", "[1, 2, 3].filter(x, x % 2 == 1)",
  "[1, 2, 3].all(x, x > 0)", "[1, 2, 3].exists_one(x, x > 1)", "[1, 2, 3].exists_one(x, x > 2)",
  "[1, 0].exists(x, 1 / x == 1)", "[0, 1].exists(x, 1 / x == 1)", "[0, 1].all(x, 1 / x == 1)", "[1, 0].all(x, 1 / x > 5)",
  "{'a': 1, 'b': 2}.map(k, k)", "{'a': 1}['a']", "{'a': 1}.a", "{'a': 1}.b", "{1: 'x'}[1]", "{'a': 1, 'a': 2}",
  "size({'a': 1})", "size([1, 2])", "[1, 2] + [3]", "list.map(x, [x]).size()", "[[1], [2]].exists(l, 2 in l)",
  "strs.map(s, s.upperAscii()).join()", "request.headers.filter(h, h.startsWith('x-')).size()",
  // Parse errors.
  "1 +", "(1", "[1, 2", "a.", "1 ==== 2", "'unterminated", "if", "has(a)", "[1].exists(1, true)", "",
  // Timestamps and durations (RFC 3339, Go durations, arithmetic, getters).
  "string(timestamp('2024-05-01T12:30:00Z'))",
  "string(timestamp('2024-05-01T12:30:00+02:00'))",
  "int(timestamp('2024-05-01T12:30:00Z'))",
  "int(timestamp('1969-12-31T23:59:59.5Z'))",
  "timestamp('2024-05-01T12:30:00Z') < timestamp('2024-05-01T12:30:01Z')",
  "timestamp('2024-05-01T12:30:00Z') == timestamp('2024-05-01T14:30:00+02:00')",
  "string(timestamp('2024-05-01T12:30:00Z') - timestamp('2024-05-01T10:00:00Z'))",
  "string(timestamp('2024-05-01T12:30:00Z') + duration('90m'))",
  "string(duration('90m') + timestamp('2024-12-31T23:00:00Z'))",
  "string(timestamp('2024-03-01T00:00:00Z') - duration('24h'))",
  "string(duration('1h30m'))",
  "duration('90m') == duration('1h30m')",
  "duration('59m') < duration('1h')",
  "duration('1h').getMinutes()",
  "duration('3723s').getHours()",
  "duration('1500ms').getSeconds()",
  "timestamp('2024-02-29T13:45:30.123Z').getFullYear()",
  "timestamp('2024-02-29T13:45:30.123Z').getMonth()",
  "timestamp('2024-02-29T13:45:30.123Z').getDate()",
  "timestamp('2024-02-29T13:45:30.123Z').getDayOfMonth()",
  "timestamp('2024-02-29T13:45:30.123Z').getDayOfYear()",
  "timestamp('2024-02-29T13:45:30.123Z').getDayOfWeek()",
  "timestamp('2024-02-29T13:45:30.123Z').getHours()",
  "timestamp('2024-02-29T13:45:30.123Z').getMinutes()",
  "timestamp('2024-02-29T13:45:30.123Z').getSeconds()",
  "timestamp('2024-02-29T13:45:30.123Z').getMilliseconds()",
  "timestamp('2024-02-29T23:45:30Z').getHours('+02:00')",
  "timestamp('2024-02-29T23:45:30Z').getDate('+02:00')",
  "timestamp('2024-01-01T00:30:00Z').getDayOfYear('-01:00')",
  "timestamp('1969-07-20T20:17:40Z').getDayOfWeek()",
  "timestamp('2024-02-30T00:00:00Z')",
  "timestamp('2024-05-01 12:30:00Z')",
  "timestamp('2024-05-01T12:30:00')",
  "duration('1d')",
  "duration('')",
  "duration('.s')",
  "timestamp('2024-05-01T12:30:00Z') + timestamp('2024-05-01T12:30:00Z')",
  "duration('1h') - timestamp('2024-05-01T12:30:00Z')",
  "duration('1h') < 3600",
];

/**
 * Where @bufbuild/cel departs from the CEL spec and cel-go (whose semantics Kuadrant's evaluators
 * follow), we assert cel-go's answer instead.
 */
const celGoOutcomes: Array<{ expr: string; expect: Rendered; why: string }> = [
  { expr: "9223372036854775808", expect: { parseError: "" }, why: "int literal out of range is a parse error (the reference accepts it)" },
  { expr: "uni.charAt(3)", expect: { string: "😀" }, why: "CEL indexes strings by code point; the reference by UTF-16 unit" },
  { expr: "uni.charAt(5)", expect: { string: "" }, why: "code points: index == size() gives ''" },
  { expr: "uni.charAt(6)", expect: { error: "" }, why: "code points: past the end is an error" },
  { expr: "uni.indexOf('x')", expect: { int: "4" }, why: "code point index" },
  { expr: "uni.substring(2, 4)", expect: { string: "ë😀" }, why: "code point range" },
  { expr: "s.replace('', '-')", expect: { string: "-H-e-l-l-o-,- -W-o-r-l-d-" }, why: "Go strings.Replace with empty old inserts at every rune boundary" },
  { expr: "s.replace('', '-', 2)", expect: { string: "-H-ello, World" }, why: "Go strings.Replace, n = 2" },
  { expr: "s.split('l', 2)", expect: { list: [{ string: "He" }, { string: "lo, World" }] }, why: "Go strings.SplitN: the last part is the rest" },
  { expr: "s.split('', 3)", expect: { list: [{ string: "H" }, { string: "e" }, { string: "llo, World" }] }, why: "Go strings.SplitN" },
  { expr: "'\\z'", expect: { parseError: "" }, why: "an unknown escape is a syntax error" },
  { expr: "int(' 4')", expect: { error: "" }, why: "Go strconv.ParseInt rejects spaces" },
  { expr: "int('')", expect: { error: "" }, why: "Go strconv.ParseInt rejects the empty string (the reference gives 0)" },
  { expr: "double('x')", expect: { error: "" }, why: "Go strconv.ParseFloat rejects 'x' (the reference gives NaN)" },
  { expr: "string(timestamp('2024-05-01T12:30:00.250Z'))", expect: { string: "2024-05-01T12:30:00.25Z" }, why: "Go's RFC3339Nano drops trailing zeros (the reference prints milliseconds)" },
  { expr: "string(timestamp('1969-12-31T23:59:59.5Z'))", expect: { string: "1969-12-31T23:59:59.5Z" }, why: "Go's RFC3339Nano, before the epoch too" },
  { expr: "string(timestamp(1714566600))", expect: { string: "2024-05-01T12:30:00Z" }, why: "cel-go's timestamp(int) is seconds since the epoch (the reference takes milliseconds)" },
  { expr: "string(duration('1.5s'))", expect: { string: "1.5s" }, why: "cel-go: FormatFloat(seconds, 'f', -1) + 's'" },
  { expr: "string(duration('-250ms'))", expect: { string: "-0.25s" }, why: "cel-go: FormatFloat(seconds, 'f', -1) + 's'" },
  { expr: "string(duration('2h45m30.5s') - duration('45m'))", expect: { string: "7230.5s" }, why: "cel-go: FormatFloat(seconds, 'f', -1) + 's'" },
  { expr: "string(-duration('3s'))", expect: { string: "-3s" }, why: "cel-go's Duration implements Negate" },
  { expr: "int(duration('1ms'))", expect: { int: "1000000" }, why: "cel-go's int(duration) is nanoseconds" },
  { expr: "duration('1500ms').getMilliseconds()", expect: { int: "1500" }, why: "cel-go: the whole duration in milliseconds (Go's Duration.Milliseconds)" },
];

test("where @bufbuild/cel departs from cel-go, the filter gives cel-go's answer", () => {
  for (const { expr, expect, why } of celGoOutcomes) {
    assert.ok(sameOutcome(cel.eval(expr, activation), expect), `${expr}: ${why}; got ${JSON.stringify(cel.eval(expr, activation))}`);
  }
});

test("queryMap (a Kuadrant extension): first occurrence wins, values are %-decoded", () => {
  assert.deepEqual(cel.eval("queryMap(request.query)", activation), { map: [[{ string: "mode" }, { string: "full" }], [{ string: "x" }, { string: "a b" }]] });
  assert.deepEqual(cel.eval("'mode' in queryMap(request.query) ? queryMap(request.query)['mode'] == 'full' : false", activation), { bool: true });
  assert.deepEqual(cel.eval("queryMap('')", activation), { map: [] });
});

test("curated corpus: the filter's CEL agrees with @bufbuild/cel", () => {
  const mismatches: string[] = [];
  for (const expr of corpus) {
    const ours = cel.eval(expr, activation);
    const ref = referenceEval(expr, activation);
    if (!sameOutcome(ours, ref)) mismatches.push(`${expr}\n    ours: ${JSON.stringify(ours)}\n    ref:  ${JSON.stringify(ref)}`);
  }
  assert.equal(mismatches.length, 0, `${mismatches.length} of ${corpus.length} differ:\n${mismatches.join("\n")}`);
});

// ---- generated expressions ----------------------------------------------------------------

function prng(seed: number) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

class Gen {
  constructor(private readonly r: () => number) {}
  pick<T>(xs: T[]): T { return xs[Math.floor(this.r() * xs.length)]; }
  int(depth: number): string {
    if (depth <= 0 || this.r() < 0.3) return this.pick(["0", "1", "2", "7", "-3", "n", "100", "9223372036854775807", "size(s)", "size(list)"]);
    const a = this.int(depth - 1), b = this.int(depth - 1);
    return this.pick([`(${a} + ${b})`, `(${a} - ${b})`, `(${a} * ${b})`, `(${a} / ${b})`, `(${a} % ${b})`,
      `size(${this.str(depth - 1)})`, `${this.str(depth - 1)}.indexOf(${this.str(0)})`, `int(string(${a}))`,
      `(${this.bool(depth - 1)} ? ${a} : ${b})`, `list[${a}]`, `int(${this.dbl(depth - 1)})`]);
  }
  dbl(depth: number): string {
    if (depth <= 0 || this.r() < 0.4) return this.pick(["0.5", "2.5", "d", "-1.25", "1e3", "double(n)"]);
    const a = this.dbl(depth - 1), b = this.dbl(depth - 1);
    return this.pick([`(${a} + ${b})`, `(${a} * ${b})`, `(${a} / ${b})`, `double(${this.int(depth - 1)})`]);
  }
  str(depth: number): string {
    if (depth <= 0 || this.r() < 0.3) return this.pick(["'a'", "''", "'Hello'", "s", "e", "'a/b/c'", "request.url_path", "auth.identity.tier", "' x '"]);
    const a = this.str(depth - 1), b = this.str(depth - 1), i = this.int(depth - 1);
    return this.pick([`(${a} + ${b})`, `${a}.lowerAscii()`, `${a}.upperAscii()`, `${a}.trim()`, `${a}.substring(${i})`,
      `${a}.substring(0, ${i})`, `${a}.replace(${this.pick(["'l'", "'/'", "'a'", "' '"])}, 'Z')`, `${a}.charAt(${i})`, `string(${i})`, `${a}.split('/')[${i}]`,
      `${a}.split(${this.pick(["'/'", "'l'", "''", "', '"])}).join('+')`, `string(${this.pick(["0.5", "2.5", "-1.25", "1e3", "d"])})`, `(${this.bool(depth - 1)} ? ${a} : ${b})`,
      `strs.map(x, x + ${a}).join()`]);
  }
  bool(depth: number): string {
    if (depth <= 0 || this.r() < 0.2) return this.pick(["true", "false", "has(auth.identity.tier)", "has(auth.identity.zzz)"]);
    const d = depth - 1;
    return this.pick([
      `(${this.int(d)} < ${this.int(d)})`, `(${this.int(d)} == ${this.dbl(d)})`, `(${this.str(d)} == ${this.str(d)})`,
      `(${this.str(d)} < ${this.str(d)})`, `(${this.bool(d)} && ${this.bool(d)})`, `(${this.bool(d)} || ${this.bool(d)})`,
      `!${this.bool(d)}`, `${this.str(d)}.startsWith(${this.str(d)})`, `${this.str(d)}.contains(${this.str(d)})`,
      `${this.str(d)}.endsWith(${this.str(d)})`, `(${this.int(d)} in list)`, `(${this.str(d)} in strs)`,
      `list.exists(x, x > ${this.int(d)})`, `list.all(x, ${this.bool(d)})`, `strs.exists_one(x, x == ${this.str(d)})`,
      `${this.str(d)}.matches(${this.pick(["'^a'", "'b$'", "'[a-z]+'", "'x|y'", "'.*'", "'^$'", "'l{2}'", "'\\\\d+'"])})`,
      `(${this.int(d)} > ${this.dbl(d)})`,
    ]);
  }
}

test("generated expressions (seeded): the filter's CEL agrees with @bufbuild/cel", () => {
  const gen = new Gen(prng(20261121));
  const mismatches: string[] = [];
  const kinds = ["bool", "int", "str", "dbl"] as const;
  let compared = 0;
  for (let i = 0; i < 1500; i++) {
    const kind = kinds[i % kinds.length];
    const expr = gen[kind](4);
    const ours = cel.eval(expr, activation);
    const ref = referenceEval(expr, activation);
    compared++;
    if (!sameOutcome(ours, ref) && mismatches.length < 15) mismatches.push(`${expr}\n    ours: ${JSON.stringify(ours)}\n    ref:  ${JSON.stringify(ref)}`);
  }
  assert.equal(mismatches.length, 0, `of ${compared} expressions, these differ:\n${mismatches.join("\n")}`);
});
