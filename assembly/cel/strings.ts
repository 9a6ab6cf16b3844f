// CEL string semantics over code points (AssemblyScript strings are UTF-16).

export function codePoints(s: string): Array<i32> {
  const out = new Array<i32>();
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i);
    out.push(c);
    if (c > 0xFFFF) i++;
  }
  return out;
}

export function fromCodePoints(cps: Array<i32>, start: i32, end: i32): string {
  let out = "";
  for (let i = start; i < end; i++) out += String.fromCodePoint(cps[i]);
  return out;
}

export function hasSurrogates(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xD800 && c <= 0xDFFF) return true;
  }
  return false;
}

export function codePointLength(s: string): i32 {
  return hasSurrogates(s) ? codePoints(s).length : s.length;
}

/** Compares by code point (UTF-16 unit order differs above the BMP). */
export function compareStrings(a: string, b: string): i32 {
  if (!hasSurrogates(a) && !hasSurrogates(b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = codePoints(a), y = codePoints(b);
  const n = min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
}

/** Index (in code points) of `needle` in `hay` at or after code point `from`; -1 if absent. */
export function indexOfCodePoints(hay: string, needle: string, from: i32): i32 {
  const h = codePoints(hay), n = codePoints(needle);
  for (let i = from; i + n.length <= h.length; i++) {
    let match = true;
    for (let j = 0; j < n.length; j++) if (h[i + j] != n[j]) { match = false; break; }
    if (match) return i;
  }
  return -1;
}

export function lastIndexOfCodePoints(hay: string, needle: string, from: i32): i32 {
  const h = codePoints(hay), n = codePoints(needle);
  for (let i = min(from, h.length - n.length); i >= 0; i--) {
    let match = true;
    for (let j = 0; j < n.length; j++) if (h[i + j] != n[j]) { match = false; break; }
    if (match) return i;
  }
  return -1;
}

export function isCelWhitespace(c: i32): bool {
  // Unicode White_Space, as cel-go's strings.trim uses.
  return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
    || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/** Shortest round-trip text of a double, as cel-go and @bufbuild/cel print it (1 → "1", 1e21 → "1e+21"). */
export function formatDouble(d: f64): string {
  if (isNaN(d)) return "NaN";
  if (!isFinite(d)) return d > 0 ? "+Inf" : "-Inf";
  if (d == Math.floor(d) && Math.abs(d) < 1e21) {
    if (Math.abs(d) < 9007199254740992.0) return (<i64>d).toString();
  }
  let s = d.toString();
  if (s.endsWith(".0")) s = s.substring(0, s.length - 2);
  return s;
}
