// The texts of --help, --version and usage errors, laid out as clap lays out Limitador's.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** The Limitador version this mock answers as, then the mock's own. */
export const VERSION = `v2.4.0-dev (limitador-mock ${pkg.version}) [] mock`;

export const USAGE = "Usage: limitador-server [OPTIONS] <LIMITS_FILE> [STORAGE]";

export const HELP = `Rate Limiting Server

${USAGE}

STORAGES:
  memory        Counters are held in Limitador (ephemeral)
  disk          Counters are held on disk (persistent)
  redis         Uses Redis to store counters
  redis_cached  Uses Redis to store counters, with an in-memory cache

Arguments:
  <LIMITS_FILE>  The limit file to use

Options:
  -b, --rls-ip <ip>
          The IP to listen on for RLS [default: 0.0.0.0]
  -p, --rls-port <port>
          The port to listen on for RLS [default: 8081]
  -B, --http-ip <http_ip>
          The IP to listen on for HTTP [default: 0.0.0.0]
  -P, --http-port <http_port>
          The port to listen on for HTTP [default: 8080]
  -l, --limit-name-in-labels
          Include the Limit Name in prometheus label
  -L, --custom-metric-labels <custom_metric_labels>
          File with custom labels for prometheus metrics
      --metric-labels-default <metric_labels_default>
          A CEL expression resolving to a Map with labels & their values to use
      --tracing-endpoint <tracing_endpoint>
          The host for the tracing service [default: ] (accepted; the mock exports no traces)
  -v...
          Sets the level of verbosity
      --structured-logs
          Enables structured JSON logging
      --validate
          Validates the LIMITS_FILE and exits
  -H, --rate-limit-headers <rate_limit_headers>
          Enables rate limit response headers [default: NONE] [possible values: NONE, DRAFT_VERSION_03]
      --grpc-reflection-service
          Enables gRPC server reflection service
  -h, --help
          Print help
  -V, --version
          Print version
`;

export const SUBCOMMAND_HELP: Record<string, string> = {
  memory: `Counters are held in Limitador (ephemeral)

Usage: limitador-server <LIMITS_FILE> memory [OPTIONS]

Options:
  -c, --cache <CACHE_SIZE>  Sets the size of the cache for 'qualified counters' (the least recently used go first)
  -h, --help                Print help
`,
  disk: `Counters are held on disk (persistent)

Usage: limitador-server <LIMITS_FILE> disk [OPTIONS] <PATH>

Arguments:
  <PATH>  Path to counter DB (a directory; the mock keeps PATH/counters.jsonl)

Options:
      --optimize <OPTIMIZE>  Optimizes either to save disk space or higher throughput [default: throughput] [possible values: throughput, disk]
  -h, --help                 Print help
`,
  redis: `Uses Redis to store counters

Usage: limitador-server <LIMITS_FILE> redis <URL>

Arguments:
  <URL>  Redis URL to use

Options:
  -h, --help  Print help
`,
  redis_cached: `Uses Redis to store counters, with an in-memory cache

Usage: limitador-server <LIMITS_FILE> redis_cached [OPTIONS] <URL>

Arguments:
  <URL>  Redis URL to use

Options:
      --batch-size <batch>          Size of entries to flush in as single flush [default: 100]
      --flush-period <flush>        Flushing period for counters in milliseconds [default: 1000]
      --max-cached <max>            Maximum amount of counters cached [default: 10000]
      --response-timeout <timeout>  Timeout for Redis commands in milliseconds [default: 350]
  -h, --help                        Print help

The mock accepts these flags but does not batch: every call goes to Redis, as with \`redis\`.
`,
};
