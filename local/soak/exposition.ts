// A strict reader of the Prometheus text exposition format (0.0.4): every line must be a comment,
// blank, or `name{label="value",...} number`, with label values escaped as the format requires
// (\\, \", \n). The soak reads its books with it, and the label suites use it to prove that odd
// values survive the round trip.

export interface Sample { name: string; labels: Record<string, string>; value: number }

export class ExpositionError extends Error {}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((line, i) => {
    if (line === "" || line.startsWith("#")) return;
    try {
      out.push(parseLine(line));
    } catch (err) {
      throw new ExpositionError(`line ${i + 1}: ${(err as Error).message}: ${line.slice(0, 200)}`);
    }
  });
  return out;
}

function parseLine(line: string): Sample {
  const name = NAME.exec(line)?.[0];
  if (!name) throw new Error("no metric name");
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === "{") {
    pos++;
    while (line[pos] !== "}") {
      const label = LABEL.exec(line.slice(pos))?.[0];
      if (!label) throw new Error(`bad label name at ${pos}`);
      pos += label.length;
      if (line[pos] !== "=" || line[pos + 1] !== '"') throw new Error(`expected =" after ${label}`);
      pos += 2;
      let value = "";
      for (;;) {
        const c = line[pos];
        if (c === undefined) throw new Error(`unterminated value of ${label}`);
        if (c === '"') { pos++; break; }
        if (c === "\\") {
          const e = line[pos + 1];
          if (e === "\\") value += "\\"; else if (e === '"') value += '"'; else if (e === "n") value += "\n";
          else throw new Error(`bad escape \\${e} in ${label}`);
          pos += 2;
          continue;
        }
        value += c;
        pos++;
      }
      if (label in labels) throw new Error(`duplicate label ${label}`);
      labels[label] = value;
      if (line[pos] === ",") pos++;
      else if (line[pos] !== "}") throw new Error(`expected , or } after ${label}`);
    }
    pos++;
  }
  if (line[pos] !== " ") throw new Error("expected a space before the value");
  const rest = line.slice(pos + 1).split(" ");
  if (rest.length > 2) throw new Error("trailing fields");
  const value = rest[0] === "+Inf" ? Infinity : rest[0] === "-Inf" ? -Infinity : rest[0] === "NaN" ? NaN : Number(rest[0]);
  if (Number.isNaN(value) && rest[0] !== "NaN") throw new Error(`bad value ${rest[0]}`);
  return { name, labels, value };
}

/** Sum of `name` over the samples whose labels include `match`. */
export function sum(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
