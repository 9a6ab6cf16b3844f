// Number formatting as Limitador's Rust prints it, where JavaScript would print otherwise.

/** f64 Display: shortest round-trip digits, never an exponent (1e21 → "1000000000000000000000"). */
export function rustFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, first, rest = "", expText] = m;
  const digits = first + rest;
  const exp = Number(expText);
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + "0".repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

const U64 = 1n << 64n;

/** `a - b` on u64 in a release build: wraps instead of going negative (100 − 116 → 18446744073709551600). */
export function u64WrappingSub(a: bigint, b: bigint): bigint {
  return (((a - b) % U64) + U64) % U64;
}

export const U64_MAX = U64 - 1n;
