// The command line, run against either Limitador: exit codes, the first line of what it prints
// (clap's wording for usage errors), and --validate's YAML compared as data.
import { parse } from "yaml";
import { runCommand } from "./target.js";
import type { Step } from "./scenario.js";

export async function runCliScenario(name: "mock" | "real", files: { limits: string; labels: string; bad: string; missing: string }): Promise<Step[]> {
  const steps: Step[] = [];
  const run = async (step: string, args: string[], env: NodeJS.ProcessEnv = {}, keep: "first-line" | "yaml" | "prefix" = "first-line") => {
    const r = await runCommand(name, args, env);
    const out = r.stdout || r.stderr;
    const first = out.split("\n")[0];
    let shown: unknown = first;
    if (keep === "yaml" && r.code === 0) {
      const limits = (parse(r.stdout) as Array<Record<string, unknown>>).map((l) => ({ ...l, conditions: [...(l.conditions as string[])].sort(), variables: [...(l.variables as string[])].sort() }));
      shown = limits.map((l) => JSON.stringify(l)).sort();
    }
    if (keep === "prefix") shown = first.replace(/^(Invalid limit file: Couldn't (parse|read file)).*$/, "$1 …");
    // Not compared: which build (-V's parenthesis on), and the CEL parser's own wording (cel-rust vs @bufbuild/cel).
    if (typeof shown === "string") shown = shown.replace(/^(Limitador Server v\S+) \(.*$/, "$1 (…)").replace(/^(error: invalid value '.*' for '--metric-labels-default <metric_labels_default>': couldn't parse [^:]*: ).*$/, "$1…");
    steps.push({ step, result: { code: r.code, stream: r.stdout ? "stdout" : r.stderr ? "stderr" : "none", shown } });
  };
  const v = files.limits;
  await run("-V", ["-V"], {}, "first-line");
  await run("--validate", ["--validate", v], {}, "yaml");
  await run("--validate with -L and every logging/tracing flag", ["--validate", "-L", files.labels, "--structured-logs", "--tracing-endpoint", "http://127.0.0.1:4317", "--grpc-reflection-service", "-vv", v], {}, "yaml");
  await run("--validate a bad file", ["--validate", files.bad], {}, "prefix");
  await run("--validate a missing file", ["--validate", files.missing], {}, "prefix");
  await run("-H in lower case", ["--validate", "-H", "draft_version_03", v]);
  await run("-H unknown", ["--validate", "--rate-limit-headers", "DRAFT_VERSION_04", v]);
  await run("--metric-labels-default that does not parse", ["--validate", "--metric-labels-default", "descriptors[", v]);
  await run("-p out of range", ["--validate", "-p", "70000", v]);
  await run("-p not a number", ["--validate", "--rls-port=http", v]);
  await run("-vvvvv", ["--validate", "-vvvvv", v]);
  await run("unknown option", ["--validate", "--frobnicate", v]);
  await run("unknown storage", ["--validate", v, "etcd"]);
  await run("no LIMITS_FILE", ["--validate"]);
  await run("memory --cache N", ["--validate", v, "memory", "--cache", "1000"]);
  await run("memory --cache not a number", ["--validate", v, "memory", "-c", "lots"]);
  await run("disk without PATH", ["--validate", v, "disk"]);
  await run("disk PATH --optimize disk", ["--validate", v, "disk", "--optimize", "disk", "/tmp/limitador-conformance-db"]);
  await run("disk --optimize unknown", ["--validate", v, "disk", "--optimize", "speed", "/tmp/x"]);
  await run("redis without URL", ["--validate", v, "redis"]);
  await run("redis_cached with its flags", ["--validate", v, "redis_cached", "redis://127.0.0.1:1", "--batch-size", "10", "--flush-period", "500", "--max-cached", "5", "--response-timeout", "100"]);
  await run("redis_cached --batch-size negative", ["--validate", v, "redis_cached", "redis://127.0.0.1:1", "--batch-size=-1"]);
  await run("--validate after the storage", ["--validate", v, "memory", "--validate"]);
  await run("RATE_LIMIT_HEADERS invalid in the environment", ["--validate", v], { RATE_LIMIT_HEADERS: "yes" });
  await run("LIMITS_FILE from the environment", ["--validate"], { LIMITS_FILE: v }, "yaml");
  return steps;
}
