// The Prometheus text that Limitador's exporter (metrics-exporter-prometheus 0.17) writes, including
// its odd spots: label names are sanitised, and label values go through its backslash handling,
// which does not escape a backslash that precedes `"` and lets one before a newline move past it.

/** Label name: first character [a-zA-Z_], then [a-zA-Z0-9_]; anything else becomes `_` (per code point). */
export function sanitizeLabelName(name: string): string {
  let out = "";
  let first = true;
  for (const ch of name) {
    const ok = first ? /[a-zA-Z_]/.test(ch) : /[a-zA-Z0-9_]/.test(ch);
    out += ok ? ch : "_";
    first = false;
  }
  return out;
}

/**
 * Label value (and, with `description`, HELP text, where `"` is left alone) as the exporter writes
 * it. A backslash is held back until the next character shows whether it was already escaping
 * something: `\\` is written as one escaped backslash (so it reads back as a single `\`), `\"` loses
 * the backslash, and a newline is written as `\n` while a held backslash waits for the character
 * after it.
 */
export function exporterEscape(value: string, description = false): string {
  if (!/[\\"\n]/.test(value)) return value;
  let out = "";
  let held = false;
  for (const ch of value) {
    if (ch === "\n") { out += "\\n"; continue; }
    if (ch === '"' && !description) { held = false; out += '\\"'; continue; }
    if (ch === "\\") {
      if (held) out += "\\\\";
      held = !held;
      continue;
    }
    if (held) { held = false; out += "\\\\"; }
    out += ch;
  }
  if (held) out += "\\\\";
  return out;
}

/**
 * One series' labels as the exporter renders them: a raw name seen twice keeps its first position
 * and its last value; names are sanitised after that (so `a.b` and `a_b` both print as `a_b`).
 */
export function renderLabels(labels: ReadonlyArray<readonly [string, string]>): string {
  const merged = new Map<string, string>();
  for (const [k, v] of labels) merged.set(k, v);
  if (merged.size === 0) return "";
  const parts: string[] = [];
  for (const [k, v] of merged) parts.push(`${sanitizeLabelName(k)}="${exporterEscape(v)}"`);
  return `{${parts.join(",")}}`;
}
