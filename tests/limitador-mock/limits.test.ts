// The limits file as Limitador (serde_yaml) reads it; the messages are the ones limitador-server
// v2.4.0-dev (2981b2bd) printed for these files with --validate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseLimits, LimitsError } from "../../limitador-mock/limits.js";

const item = (fields: string) => `- namespace: ns\n${fields}`;

test("the first problem stops the load, with serde_yaml's path, words and position", () => {
  const cases: Array<[string, string]> = [
    ["- x\n", '.[0]: invalid type: string "x", expected struct Limit at line 1 column 3'],
    ['"foo"\n', 'invalid type: string "foo", expected a sequence'],
    ["foo: bar\n", "invalid type: map, expected a sequence"],
    [item("  max_value: 1\n  conditions: []\n  variables: []\n"), ".[0]: missing field `seconds` at line 1 column 3"],
    [item("  max_value: -1\n  seconds: 5\n  conditions: []\n  variables: []\n"), ".[0].max_value: invalid type: integer `-1`, expected u64 at line 2 column 14"],
    [item("  seconds: 5\n  max_value: 1.5\n  conditions: []\n  variables: []\n"), ".[0].max_value: invalid type: floating point `1.5`, expected u64 at line 3 column 14"],
    [item('  seconds: "5"\n  conditions: []\n  variables: []\n'), '.[0].seconds: invalid type: string "5", expected u64 at line 2 column 12'],
    [item("  seconds: 18446744073709551616\n  conditions: []\n  variables: []\n"), ".[0].seconds: invalid type: integer `18446744073709551616` as u128, expected u64 at line 2 column 12"],
    [item("  seconds: 5\n  conditions: ~\n  variables: []\n"), ".[0].conditions: invalid type: unit value, expected a sequence at line 3 column 15"],
    [item('  seconds: 5\n  conditions: "a"\n  variables: []\n'), '.[0].conditions: invalid type: string "a", expected a sequence at line 3 column 15'],
    ["- namespace: ns\n  namespace: ns2\n  seconds: 5\n  conditions: []\n  variables: []\n", ".[0]: duplicate field `namespace` at line 1 column 3"],
    [item("  seconds: 5\n  conditions: []\n  variables: []\n") + "- namespace: ns\n  conditions: []\n", ".[1]: missing field `seconds` at line 5 column 3"],
  ];
  for (const [yaml, message] of cases) {
    assert.throws(() => parseLimits(yaml), (e: Error) => e instanceof LimitsError && e.message === `Invalid limit file: Couldn't parse: ${message}`, yaml);
  }
  assert.throws(() => parseLimits(item('  seconds: 5\n  conditions: []\n  variables: ["a b"]\n')), /^Error: Invalid limit file: Couldn.t parse: \.\[0\]\.variables: couldn.t parse a b: .* at line 4 column 14$/s);
});

test("what serde_yaml accepts: plain scalars as strings, a blank list, unknown keys, an empty file; duplicates collapse", () => {
  assert.deepEqual(parseLimits(""), []);
  const [l] = parseLimits("- namespace: 5\n  seconds: 60\n  max_value: 18446744073709551615\n  name: 7\n  conditions: [1]\n  variables:\n  extra: ignored\n- namespace: '5'\n  seconds: 60\n  conditions: ['1']\n  variables: []\n");
  assert.equal(l.namespace, "5");
  assert.equal(l.name, "7");
  assert.equal(l.maxExact, 18446744073709551615n);
  assert.deepEqual(l.conditions.map((c) => c.source), ["1"]);
  assert.deepEqual(l.variables, []);
  assert.equal(parseLimits("- namespace: a\n  seconds: 1\n  conditions: [\"x == 'b'\", \"x == 'a'\", \"x == 'b'\"]\n  variables: []\n")[0].conditions.map((c) => c.source).join(" | "), "x == 'a' | x == 'b'", "a set, in byte order");
});
