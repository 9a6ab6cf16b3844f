// `limitador-mock [options] LIMITS_FILE [memory | redis URL]`, with Limitador's flags and
// environment fallbacks.
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { describeLimits, parseLimits } from "./limits.js";
import { startLimitadorMock, type MockOptions } from "./server.js";

const HELP = `limitador-mock: a Limitador-compatible rate limit server (gRPC + HTTP + Prometheus metrics)

Usage: limitador-mock [OPTIONS] <LIMITS_FILE> [STORAGE]

Storage:
  memory             counters in this process (default)
  redis <URL>        counters in Redis, shared by every instance using it (env REDIS_URL)

Options:
  -b, --rls-ip <ip>                  gRPC listen address [default: 0.0.0.0] (env ENVOY_RLS_HOST)
  -p, --rls-port <port>              gRPC port [default: 8081] (env ENVOY_RLS_PORT)
  -B, --http-ip <ip>                 HTTP listen address [default: 0.0.0.0] (env HTTP_API_HOST)
  -P, --http-port <port>             HTTP port [default: 8080] (env HTTP_API_PORT)
      --metric-labels-default <CEL>  a map expression whose string entries become metric labels, e.g. descriptors[1]
  -l, --limit-name-in-labels         add limit_name to limited_calls (env LIMIT_NAME_IN_PROMETHEUS_LABELS)
  -H, --rate-limit-headers <kind>    NONE | DRAFT_VERSION_03 [default: NONE] (env RATE_LIMIT_HEADERS)
      --validate                     check the limits file, print it normalized, and exit
  -v                                 more logging (accepted for compatibility)
  -h, --help                         this text
`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        "rls-ip": { type: "string", short: "b" },
        "rls-port": { type: "string", short: "p" },
        "http-ip": { type: "string", short: "B" },
        "http-port": { type: "string", short: "P" },
        "metric-labels-default": { type: "string" },
        "limit-name-in-labels": { type: "boolean", short: "l" },
        "rate-limit-headers": { type: "string", short: "H" },
        validate: { type: "boolean" },
        verbose: { type: "boolean", short: "v", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  if (o.help) { process.stdout.write(HELP); return 0; }
  const env = process.env;
  const limitsFile = positionals[0] ?? env.LIMITS_FILE;
  if (!limitsFile) { console.error(`error: the LIMITS_FILE argument is required\n\n${HELP}`); return 2; }

  if (o.validate) {
    try {
      const limits = parseLimits(readFileSync(limitsFile, "utf8"));
      process.stdout.write(stringify(describeLimits(limits)));
      return 0;
    } catch (err) {
      console.error(`Invalid limit file: ${(err as Error).message.replace(/^Invalid limit file:\s*/, "")}`);
      return 1;
    }
  }

  let storage: MockOptions["storage"] = { kind: "memory" };
  const kind = positionals[1] ?? (env.REDIS_URL ? "redis" : "memory");
  if (kind === "redis") {
    const url = positionals[2] ?? env.REDIS_URL;
    if (!url) { console.error("error: redis storage needs a URL, e.g. redis 'redis://127.0.0.1:6379'"); return 2; }
    storage = { kind: "redis", url };
  } else if (kind !== "memory") {
    console.error(`error: unknown storage '${kind}' (memory | redis URL)`);
    return 2;
  }
  const headers = (o["rate-limit-headers"] ?? env.RATE_LIMIT_HEADERS ?? "NONE").toUpperCase();
  if (headers !== "NONE" && headers !== "DRAFT_VERSION_03") { console.error(`error: --rate-limit-headers must be NONE or DRAFT_VERSION_03, got ${headers}`); return 2; }
  const port = (v: string | undefined, fallback: number, flag: string): number => {
    const n = Number(v ?? fallback);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port number, got ${v}`);
    return n;
  };
  try {
    const mock = await startLimitadorMock({
      limitsFile,
      storage,
      rlsIp: o["rls-ip"] ?? env.ENVOY_RLS_HOST,
      rlsPort: port(o["rls-port"] ?? env.ENVOY_RLS_PORT, 8081, "--rls-port"),
      httpIp: o["http-ip"] ?? env.HTTP_API_HOST,
      httpPort: port(o["http-port"] ?? env.HTTP_API_PORT, 8080, "--http-port"),
      metricLabelsDefault: o["metric-labels-default"] ?? null,
      limitNameInLabels: o["limit-name-in-labels"] ?? env.LIMIT_NAME_IN_PROMETHEUS_LABELS === "1",
      rateLimitHeaders: headers as "NONE" | "DRAFT_VERSION_03",
    });
    console.error(`[limitador-mock] ${mock.limiter.limits.length} limit(s) from ${limitsFile}; gRPC on :${mock.grpcPort}, HTTP on :${mock.httpPort} (${storage.kind})`);
    const stop = async () => { await mock.close(); process.exit(0); };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return -1; // keep running
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE") console.error(`error: port already in use (${e.message})`);
    else console.error(`Failed to load limit file or start: ${e.message}`);
    return 1;
  }
}
