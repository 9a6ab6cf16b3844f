// The whole picture on one machine (design §6): limitador-mock (or an external Limitador), the
// Authorino stand-in, the model simulator, and the gateway (ext_authz? → wasm → router).
import { readFileSync, watch } from "node:fs";
import { fileURLToPath } from "node:url";
import { startLimitadorMock } from "../limitador-mock/server.js";
import { startGateway } from "../host/gateway.js";
import { startAuthorino, loadApiKeys, type ApiKey } from "./authorino.js";
import { startModelSimulator } from "./model-simulator.js";
import { ensureFilterBuilt } from "./build-wasm.js";
import { usesAuthAction, VM_CONFIG } from "../envoy/render.js";
import { startDashboard } from "./dashboard/server.js";
import { parse as parseYaml } from "yaml";

const CONFIG_DIR = fileURLToPath(new URL("./config/", import.meta.url));

export interface StackOptions {
  pluginConfig?: string;
  limits?: string;
  apiKeys?: string;
  /** HOST:PORT of an external Limitador's gRPC (e.g. the real one) instead of the mock. */
  limitador?: string | null;
  /** Put Envoy's ext_authz filter in front of the wasm filter (Istio without Kuadrant). */
  extAuthz?: boolean;
  ports?: Partial<typeof DEFAULT_PORTS>;
  models?: string[];
  quiet?: boolean;
}

export const DEFAULT_PORTS = { gateway: 10000, admin: 9901, limitadorGrpc: 8081, limitadorHttp: 8080, authorino: 50051, model: 8000, dashboard: 9902 };

export const DEFAULT_FILES = {
  pluginConfig: `${CONFIG_DIR}plugin-config.json`,
  limits: `${CONFIG_DIR}limits.yaml`,
  apiKeys: `${CONFIG_DIR}api-keys.yaml`,
};

export class PortInUse extends Error {}

async function guard<T>(what: string, port: number, flag: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const text = String((err as Error).message);
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE" || /EADDRINUSE|address already in use|No address added/i.test(text)) {
      throw new PortInUse(`port ${port} (${what}) is already in use: stop what listens there, or pass ${flag} <port>`);
    }
    throw err;
  }
}

export async function startStack(opts: StackOptions = {}) {
  const ports = { ...DEFAULT_PORTS, ...opts.ports };
  const files = { pluginConfig: opts.pluginConfig ?? DEFAULT_FILES.pluginConfig, limits: opts.limits ?? DEFAULT_FILES.limits, apiKeys: opts.apiKeys ?? DEFAULT_FILES.apiKeys };
  const log = opts.quiet ? () => {} : (line: string) => console.log(line);
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => { for (const c of closers.reverse()) await c().catch(() => {}); };
  try {
    const wasm = readFileSync(await ensureFilterBuilt(log));
    const pluginConfig = readFileSync(files.pluginConfig, "utf8");
    // Without an auth action nothing sets auth.identity.*: put ext_authz in front, as envoy.yaml does.
    const extAuthz = opts.extAuthz ? "flag" : hasAuthAction(pluginConfig) ? null : "no-auth-action";
    let keys: ApiKey[] = loadApiKeys(files.apiKeys);
    const keyWatcher = watch(files.apiKeys, { persistent: false }, () => {
      try { keys = loadApiKeys(files.apiKeys); log(`[authorino] reloaded ${keys.length} API key(s)`); } catch (err) { log(`[authorino] keeping the old keys: ${(err as Error).message}`); }
    });
    closers.push(async () => keyWatcher.close());

    let limitadorGrpc = opts.limitador ?? null;
    if (!limitadorGrpc) {
      const mock = await guard("Limitador gRPC/HTTP", ports.limitadorGrpc, "--limitador-grpc-port/--limitador-http-port", () => startLimitadorMock({
        limitsFile: files.limits, rlsIp: "127.0.0.1", rlsPort: ports.limitadorGrpc, httpIp: "127.0.0.1", httpPort: ports.limitadorHttp,
        metricLabelsDefault: "descriptors[1]", limitNameInLabels: true, rateLimitHeaders: "DRAFT_VERSION_03",
        log: (l) => log(`[limitador] ${l}`),
      }));
      closers.push(mock.close);
      limitadorGrpc = `127.0.0.1:${mock.grpcPort}`;
      ports.limitadorGrpc = mock.grpcPort;
      ports.limitadorHttp = mock.httpPort;
    }
    const authorino = await guard("Authorino stand-in", ports.authorino, "--authorino-port", () => startAuthorino({ port: ports.authorino, keys: () => keys, log: (l) => log(`[authorino] ${l}`) }));
    closers.push(authorino.close);
    ports.authorino = authorino.port;
    const model = await guard("model simulator", ports.model, "--model-port", () => startModelSimulator({ port: ports.model, models: opts.models ?? ["facebook-opt-125m-simulated", "qwen3-0-6b-instruct-simulated"] }));
    closers.push(model.close);
    ports.model = model.port;
    const authorinoAddress = `127.0.0.1:${authorino.port}`;
    const gateway = await guard("gateway", ports.gateway, "--gateway-port/--admin-port", () => startGateway({
      wasm, pluginConfig, port: ports.gateway, adminPort: ports.admin,
      vmConfig: JSON.stringify(VM_CONFIG), // as envoy/envoy.yaml: a user label, for latency per user
      upstreamUrl: `http://127.0.0.1:${model.port}`,
      extAuthz: extAuthz ? authorinoAddress : null,
      // The cluster names Kuadrant's operator and our envoy.yaml define.
      clusters: { "limitador": limitadorGrpc, "kuadrant-ratelimit-service": limitadorGrpc, "authorino": authorinoAddress, "kuadrant-auth-service": authorinoAddress },
      failurePolicy: "FAIL_CLOSED",
      logLevel: 2,
      onLog: (e) => { if (e.level >= 3) log(`[wasm] ${e.message}`); },
    }));
    closers.push(gateway.close);
    ports.gateway = gateway.port;
    ports.admin = gateway.adminPort;
    const dashboard = await guard("dashboard", ports.dashboard, "--dashboard-port", () => startDashboard({
      port: ports.dashboard,
      gatewayMetricsUrl: `http://127.0.0.1:${gateway.adminPort}/stats/prometheus`,
      limitadorUrl: opts.limitador ? null : `http://127.0.0.1:${ports.limitadorHttp}`,
      namespaces: () => limitNamespaces(files.limits),
    }));
    closers.push(dashboard.close);
    ports.dashboard = dashboard.port;
    return { ports, files, close: closeAll, gateway, extAuthz };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Unparseable JSON counts as having one: the gateway then refuses it with the reasons. */
function hasAuthAction(pluginConfig: string): boolean {
  try { return usesAuthAction(JSON.parse(pluginConfig)); } catch { return true; }
}

/** The namespaces of the limits file, so the dashboard lists limits nobody has used yet. */
function limitNamespaces(file: string): string[] {
  try {
    const limits = parseYaml(readFileSync(file, "utf8"));
    return Array.isArray(limits) ? [...new Set(limits.map((l: any) => String(l?.namespace ?? "")).filter(Boolean))] : [];
  } catch {
    return [];
  }
}
