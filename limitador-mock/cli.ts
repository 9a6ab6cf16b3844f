// `limitador-mock [OPTIONS] <LIMITS_FILE> [STORAGE]`: Limitador's command line, flags, environment
// fallbacks, exit codes (2 for a usage error, 1 for a bad limits file) and --validate output.
import { stringify } from "yaml";
import { describeLimits, readLimitsFile } from "./limits.js";
import { compile } from "./cel.js";
import { parseCommandLine, UsageError, GLOBAL, SUBCOMMANDS } from "./cli-args.js";
import { startLimitadorMock, type MockOptions, type StorageOptions } from "./server.js";
import { HELP, SUBCOMMAND_HELP, USAGE, VERSION } from "./cli-help.js";

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: ReturnType<typeof configure>;
  try {
    config = configure(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${err.usage ? `${USAGE}\n\n` : ""}For more information, try '--help'.\n`);
    return 2;
  }
  if (config === "help") { process.stdout.write(HELP); return 0; }
  if (config === "version") { process.stdout.write(`Limitador Server ${VERSION}\n`); return 0; }
  if (typeof config === "string") { process.stdout.write(config); return 0; }

  if (config.validate) {
    try {
      const limits = readLimitsFile(config.options.limitsFile);
      process.stdout.write(`${stringify(describeLimits(limits), { indentSeq: false, singleQuote: true })}\n`); // serde_yaml's layout
      return 0;
    } catch (err) {
      console.error((err as Error).message);
      return 1;
    }
  }

  process.stderr.write(`Limitador Server ${VERSION}\n`);
  const log = logger(config.structuredLogs);
  if (config.tracingEndpoint) log(`--tracing-endpoint ${config.tracingEndpoint}: accepted; the mock exports no traces`);
  try {
    const mock = await startLimitadorMock({ ...config.options, log });
    console.error(`[limitador-mock] ${mock.limiter.limits.length} limit(s) from ${config.options.limitsFile}; gRPC on :${mock.grpcPort}, HTTP on :${mock.httpPort} (${config.options.storage!.kind})`);
    const stop = async () => { await mock.close(); process.exit(0); };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return -1; // keep running
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE") console.error(`error: port already in use (${e.message})`);
    else console.error(`Failed to load limit file: ${e.message}`);
    return 1;
  }
}

type Config = { validate: boolean; structuredLogs: boolean; tracingEndpoint: string; options: MockOptions };

/** The command line and environment → options, "help"/"version", or a subcommand's help text. */
function configure(argv: string[], env: NodeJS.ProcessEnv): Config | "help" | "version" | string {
  const { values: o, positionals, subcommand } = parseCommandLine(argv);
  if (o.help) return "help";
  if (o.version) return "version";
  if (subcommand?.values.help) return SUBCOMMAND_HELP[subcommand.name];
  if ((o.v as number | undefined ?? 0) > 4) throw new UsageError(`invalid value '${o.v}' for '-v...': ${o.v} is not in 0..5`, false);

  // Environment fallbacks are clap defaults: checked like values given on the command line.
  const fallback = (id: string, envName: string, builtin?: string): unknown => {
    if (o[id] !== undefined) return o[id];
    const raw = env[envName] ?? builtin;
    if (raw === undefined) return undefined;
    return parseCommandLine([`--${GLOBAL.find((s) => s.id === id)!.long}=${raw}`, "x"]).values[id];
  };
  const limitsFile = positionals[0] ?? env.LIMITS_FILE;
  const headers = fallback("rate_limit_headers", "RATE_LIMIT_HEADERS", "NONE") as "NONE" | "DRAFT_VERSION_03";
  const rlsPort = fallback("port", "ENVOY_RLS_PORT", "8081") as number;
  const httpPort = fallback("http_port", "HTTP_API_PORT", "8080") as number;
  const metricLabelsDefault = o.metric_labels_default as string | undefined;
  if (metricLabelsDefault !== undefined) {
    try { compile(metricLabelsDefault); } catch (err) {
      throw new UsageError(`invalid value '${metricLabelsDefault}' for '--metric-labels-default <metric_labels_default>': couldn't parse ${metricLabelsDefault}: ${(err as Error).message.split("\n")[0]}`, false);
    }
  }
  const storage = storageOf(subcommand, env);
  if (!limitsFile) throw new UsageError("the following required arguments were not provided:\n  <LIMITS_FILE>");

  return {
    validate: Boolean(o.validate),
    structuredLogs: Boolean(o.S),
    tracingEndpoint: (o.tracing_endpoint as string | undefined) ?? env.TRACING_ENDPOINT ?? "",
    options: {
      limitsFile,
      storage,
      rlsIp: (o.ip as string | undefined) ?? env.ENVOY_RLS_HOST ?? "0.0.0.0",
      rlsPort,
      httpIp: (o.http_ip as string | undefined) ?? env.HTTP_API_HOST ?? "0.0.0.0",
      httpPort,
      metricLabelsDefault: metricLabelsDefault ?? null,
      customMetricLabels: (o.custom_metric_labels as string | undefined) ?? null,
      limitNameInLabels: Boolean(o.limit_name_in_labels) || env.LIMIT_NAME_IN_PROMETHEUS_LABELS === "1",
      rateLimitHeaders: headers,
      grpcReflectionService: Boolean(o.grpc_reflection_service),
    },
  };
}

function storageOf(sub: ReturnType<typeof parseCommandLine>["subcommand"], env: NodeJS.ProcessEnv): StorageOptions {
  const required = (name: string, envName: string): string => {
    const v = sub!.positional ?? env[envName];
    if (v === undefined) throw new UsageError(`the following required arguments were not provided:\n  <${SUBCOMMANDS[name].positional}>`);
    return v;
  };
  const subDefault = (id: string, envName: string | null, builtin: string): unknown => {
    if (sub!.values[id] !== undefined) return sub!.values[id];
    const raw = (envName && env[envName]) || builtin;
    const spec = SUBCOMMANDS[sub!.name].options.find((s) => s.id === id)!;
    return parseCommandLine(["x", sub!.name, ...(sub!.name === "memory" ? [] : ["u"]), `--${spec.long}=${raw}`]).subcommand!.values[id];
  };
  if (!sub) {
    // No subcommand: REDIS_URL means Redis (cached with REDIS_LOCAL_CACHE_ENABLED=1), else memory.
    if (env.REDIS_URL) return env.REDIS_LOCAL_CACHE_ENABLED === "1" ? { kind: "redis_cached", url: env.REDIS_URL } : { kind: "redis", url: env.REDIS_URL };
    return { kind: "memory" };
  }
  switch (sub.name) {
    case "memory": return { kind: "memory", cacheSize: (sub.values.CACHE_SIZE as number | undefined) ?? null };
    case "disk": return { kind: "disk", path: required("disk", "DISK_PATH"), optimize: subDefault("OPTIMIZE", "DISK_OPTIMIZE", "throughput") as "throughput" | "disk" };
    case "redis": return { kind: "redis", url: required("redis", "REDIS_URL") };
    default: return {
      kind: "redis_cached", url: required("redis_cached", "REDIS_URL"),
      batchSize: subDefault("batch", "REDIS_LOCAL_CACHE_BATCH_SIZE", "100") as number,
      flushPeriodMs: subDefault("flush", "REDIS_LOCAL_CACHE_FLUSHING_PERIOD_MS", "1000") as number,
      maxCached: subDefault("max", null, "10000") as number,
      responseTimeoutMs: subDefault("timeout", null, "350") as number,
    };
  }
}

/** Log lines: plain, or one JSON object per line with --structured-logs (as tracing's JSON layer). */
function logger(structured: boolean): (line: string) => void {
  if (!structured) return (line) => console.error(`[limitador-mock] ${line}`);
  return (line) => process.stderr.write(`${JSON.stringify({ timestamp: new Date().toISOString(), level: "INFO", fields: { message: line }, target: "limitador_mock" })}\n`);
}
