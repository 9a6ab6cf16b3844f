// CEL failures are values with a reason (and a position at parse time); nothing traps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsCel } from "../helpers/cel-harness.js";

const cel = new AsCel();

test("parse errors name the offset where they were found", () => {
  assert.deepEqual(cel.eval("request.method == 'POST' &&"), { parseError: "unexpected end of expression at offset 27" });
  assert.deepEqual(cel.eval("a.b(1, 2"), { parseError: "expected ')' before end of expression at offset 8" });
  assert.deepEqual(cel.eval("1 + 'x"), { parseError: "unterminated string literal at offset 4" });
  assert.deepEqual(cel.eval("x.exists(1, true)"), { parseError: "exists() needs a variable name as its first argument at offset 9" });
  assert.deepEqual(cel.eval("has(x)"), { parseError: "has() needs a field selection, e.g. has(a.b) at offset 0" });
});

test("deep nesting is refused, not a stack overflow", () => {
  const deep = "(".repeat(5000) + "1" + ")".repeat(5000);
  assert.match(JSON.stringify(cel.eval(deep)), /nested too deeply/);
  const negs = "!".repeat(5000) + "true";
  assert.match(JSON.stringify(cel.eval(negs)), /nested too deeply/);
});

test("runtime errors are values that name the problem", () => {
  assert.deepEqual(cel.eval("auth.identity.tier", { auth: { identity: {} } }), { error: "no such key: auth.identity.tier" });
  assert.deepEqual(cel.eval("nope == 1"), { error: "undeclared reference to 'nope'" });
  assert.deepEqual(cel.eval("'a'.matches('(')"), { error: "invalid regular expression: (" });
});

test("regex matching is linear: a pathological pattern over a long input returns quickly", () => {
  const start = Date.now();
  const input = "a".repeat(5000);
  assert.deepEqual(cel.eval(`s.matches('(a*)*b')`, { s: input }), { bool: false });
  assert.ok(Date.now() - start < 2000, "no catastrophic backtracking");
});
