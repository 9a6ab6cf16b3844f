// -L, --custom-metric-labels FILE: a YAML map of label name → CEL expression, evaluated against the
// request's descriptors for authorized_calls, authorized_hits and limited_calls. As in Limitador
// (main.rs parse_custom_labels_file): an expression that does not parse is logged and left out,
// the file is watched and reloaded, and a reload that fails keeps the labels in use.
import { readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parse } from "yaml";
import { compile, type Compiled } from "./cel.js";
import type { LimitadorMetrics } from "./metrics.js";

export function loadCustomLabels(file: string, log: (line: string) => void): Array<[string, Compiled]> {
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch (err) { throw new Error(`Couldn't read file '${file}': ${(err as Error).message}`); }
  let data: unknown;
  try { data = parse(text); } catch (err) { throw new Error(`Couldn't parse: ${(err as Error).message.split("\n")[0]}`); }
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new Error("Couldn't parse: expected a map of label name to CEL expression");
  const out: Array<[string, Compiled]> = [];
  for (const [label, source] of Object.entries(data as Record<string, unknown>)) {
    if (typeof source !== "string") throw new Error(`Couldn't parse: ${label}: expected a string`);
    try { out.push([label, compile(source)]); } catch (err) { log(`Failed to parse custom label \`${label}\` \`${source}\`: ${(err as Error).message.split("\n")[0]}`); }
  }
  return out;
}

export function watchCustomLabels(file: string, metrics: LimitadorMetrics, log: (line: string) => void): FSWatcher {
  const path = resolve(file);
  let timer: NodeJS.Timeout | null = null;
  const reload = () => {
    timer = null;
    try {
      metrics.setCustomLabels(loadCustomLabels(path, log));
      log("custom labels reloaded");
    } catch (err) {
      log(`Failed to reload custom labels: ${(err as Error).message}`);
    }
  };
  return watch(dirname(path), { persistent: false }, (_event, changed) => {
    if (changed !== null && changed !== basename(path) && !String(changed).startsWith("..")) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, 50);
  });
}
