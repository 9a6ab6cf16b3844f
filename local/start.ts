// `npm start`: the local stack with the MaaS defaults, the URLs, and a curl to try. Ctrl-C stops it.
import { parseArgs } from "node:util";
import { startStack, DEFAULT_PORTS, PortInUse } from "./stack.js";

const HELP = `npm start -- [options]

  --plugin-config FILE     Kuadrant wasm-shim plugin configuration (default local/config/plugin-config.json)
  --limits FILE            Limitador limits file (default local/config/limits.yaml)
  --api-keys FILE          API keys for the Authorino stand-in (default local/config/api-keys.yaml)
  --limitador HOST:PORT    use an external Limitador's gRPC instead of limitador-mock
  --ext-authz              put Envoy's ext_authz filter in front of the wasm filter (Istio without Kuadrant);
                           on by itself when the plugin configuration has no auth action
  --gateway-port N, --admin-port N, --limitador-grpc-port N, --limitador-http-port N,
  --authorino-port N, --model-port N, --dashboard-port N
                           override the default ports (10000, 9901, 8081, 8080, 50051, 8000, 9902)
`;

const portFlags = { "gateway-port": "gateway", "admin-port": "admin", "limitador-grpc-port": "limitadorGrpc", "limitador-http-port": "limitadorHttp", "authorino-port": "authorino", "model-port": "model", "dashboard-port": "dashboard" } as const;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        "plugin-config": { type: "string" }, limits: { type: "string" }, "api-keys": { type: "string" }, limitador: { type: "string" },
        "ext-authz": { type: "boolean" }, help: { type: "boolean", short: "h" },
        ...Object.fromEntries(Object.keys(portFlags).map((f) => [f, { type: "string" as const }])),
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const o = parsed.values as Record<string, string | boolean | undefined>;
  if (o.help) { console.log(HELP); return 0; }
  const ports: Partial<typeof DEFAULT_PORTS> = {};
  for (const [flag, key] of Object.entries(portFlags)) {
    if (o[flag] === undefined) continue;
    const n = Number(o[flag]);
    if (!Number.isInteger(n) || n < 0 || n > 65535) { console.error(`--${flag} must be a port number`); return 2; }
    ports[key] = n;
  }
  if (typeof o.limitador === "string" && !/^[^:]+:\d+$/.test(o.limitador)) { console.error("--limitador takes HOST:PORT, e.g. 127.0.0.1:8081"); return 2; }
  let stack;
  try {
    stack = await startStack({
      pluginConfig: o["plugin-config"] as string | undefined, limits: o.limits as string | undefined, apiKeys: o["api-keys"] as string | undefined,
      limitador: (o.limitador as string | undefined) ?? null, extAuthz: !!o["ext-authz"], ports,
    });
  } catch (err) {
    console.error(err instanceof PortInUse ? `error: ${err.message}` : `error: ${(err as Error).message}`);
    return 1;
  }
  const p = stack.ports;
  const external = typeof o.limitador === "string";
  if (stack.extAuthz === "no-auth-action") {
    console.log(`note: ${stack.files.pluginConfig} has no auth action, so Envoy's ext_authz filter asks Authorino
      first and the filter reads auth.identity.* from its metadata (as envoy/envoy.yaml does for such configurations)`);
  }
  console.log(`
LLM gateway telemetry & rate limiting: local stack is up
  gateway            http://127.0.0.1:${p.gateway}   (${stack.extAuthz ? "ext_authz → " : ""}wasm filter → model simulator)
  gateway admin      http://127.0.0.1:${p.admin}/stats/prometheus
  Limitador          ${external ? `${o.limitador} (external)` : `gRPC 127.0.0.1:${p.limitadorGrpc}, metrics http://127.0.0.1:${p.limitadorHttp}/metrics`}
  Authorino          gRPC 127.0.0.1:${p.authorino} (keys: ${stack.files.apiKeys})
  model simulator    http://127.0.0.1:${p.model}/v1/models
  dashboard          http://127.0.0.1:${p.dashboard}/   (live: per user, tier and model; limits and what remains)

Try it (alice is on the free tier: 5 requests and 200 tokens per minute):
  curl -s http://127.0.0.1:${p.gateway}/llm/facebook-opt-125m-simulated/v1/chat/completions \\
    -H 'Authorization: APIKEY alice-free-key' -H 'Content-Type: application/json' \\
    -d '{"model":"facebook-opt-125m-simulated","messages":[{"role":"user","content":"Hello!"}]}'

Then: npm run traffic    (a mix of users, tiers and models, and the per-user metrics)
Ctrl-C stops everything.
`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  console.log("stopping…");
  await stack.close();
  return 0;
}

main().then((code) => process.exit(code));
