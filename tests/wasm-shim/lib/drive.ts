// Runs one compatibility case through build/filter.wasm in the Envoy-like host: scripted gRPC
// clusters, the configuration, then each request step (headers, body, upstream answer), and
// collects what a reviewer would look at: the calls dispatched, what reached the upstream, what
// the client got, filter state, and whether streamed chunks were held.
import { unusedAddress } from "../../helpers/raw-grpc-server.js";
import { startFilter, errorLogs } from "../../helpers/filter-host.js";
import type { EnvoyHost, HttpStream, StreamOptions, UpstreamResponse } from "../../../host/index.js";
import { observeCall, startScriptedCluster, type ObservedCall, type ScriptedCluster } from "./grpc-script.js";
import type { CompatCase, Reply, RequestStep } from "./case-schema.js";
import { assertConfigure, assertCounters, assertStep } from "./expect.js";

export interface StepObservation {
  calls: ObservedCall[];
  requestId: string;
  upstreamReached: boolean;
  forwarded: { headers: Array<[string, string]>; body: string };
  response: { status: number; headers: Array<[string, string]>; body: string; reset: boolean };
  filterState: Map<string, unknown>;
  heldChunks: number[];
  callsBeforeResponseEnd: number | null;
  unusedReplies: string[];
}

const WAIT_MS = 5000;

function parseAddress(s: string | undefined): { address: string; port: number } | undefined {
  if (!s) return undefined;
  const colon = s.lastIndexOf(":");
  return { address: s.slice(0, colon), port: Number(s.slice(colon + 1)) };
}

/** Every Envoy cluster the configuration names (service endpoints and the descriptor service). */
function clusterNames(config: any): string[] {
  const names = new Set<string>();
  for (const svc of Object.values<any>(config?.services ?? {})) if (typeof svc?.endpoint === "string") names.add(svc.endpoint);
  if (typeof config?.descriptorService === "string") names.add(config.descriptorService);
  return [...names];
}

async function until(what: string, predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function queueReplies(servers: Map<string, ScriptedCluster>, replies: Record<string, Reply[]> = {}): void {
  for (const [cluster, list] of Object.entries(replies)) {
    const server = servers.get(cluster);
    if (!server) throw new Error(`case error: replies scripted for '${cluster}', which has no server`);
    server.queue.push(...list);
  }
}

function unusedReplies(servers: Map<string, ScriptedCluster>): string[] {
  const out: string[] = [];
  for (const [name, s] of servers) if (s.queue.length > 0) out.push(`${name}: ${JSON.stringify(s.queue)}`), s.queue.length = 0;
  return out;
}

export async function runCase(c: CompatCase): Promise<void> {
  const config = typeof c.config === "string" ? JSON.parse(c.config) : c.config;
  const missing = new Set(c.clusters?.missing ?? []);
  const down = new Set(c.clusters?.down ?? []);
  const servers = new Map<string, ScriptedCluster>();
  const clusters: Record<string, string> = {};
  for (const name of clusterNames(config)) {
    if (missing.has(name)) continue;
    if (down.has(name)) { clusters[name] = await unusedAddress(); continue; }
    const server = await startScriptedCluster(name);
    servers.set(name, server);
    clusters[name] = server.address;
  }
  const dispatched: ObservedCall[] = [];
  let host: EnvoyHost | null = null;
  try {
    queueReplies(servers, c.configure?.replies);
    host = await startFilter(config, { clusters, onGrpcCall: (call) => dispatched.push(observeCall(call)) });
    const h = host;
    if (!h.configured) throw new Error(`the filter refused the configuration:\n  ${errorLogs(h).join("\n  ")}`);
    await until("configure-time gRPC calls to finish", () => h.vm.pendingGrpc.size === 0);
    assertConfigure(c.configure, dispatched.splice(0), h.vm.tickPeriodMs, unusedReplies(servers));
    for (const [i, step] of c.requests.entries()) {
      queueReplies(servers, step.replies);
      const observed = await runStep(h, step, dispatched, servers);
      assertStep(step, observed, step.name ?? `request ${i + 1}`);
    }
    assertCounters(c.counters ?? {}, (name) => h.stats.counter(name), h.stats.names());
  } finally {
    host?.close();
    await Promise.all([...servers.values()].map((s) => s.close()));
  }
}

async function runStep(host: EnvoyHost, step: RequestStep, dispatched: ObservedCall[], servers: Map<string, ScriptedCluster>): Promise<StepObservation> {
  const start = dispatched.length;
  const req = step.request;
  let stream!: HttpStream;
  let upstreamReached = false;
  const received: Buffer[] = [];
  const heldChunks: number[] = [];
  let callsBeforeResponseEnd: number | null = null;

  const upstream = (): UpstreamResponse => {
    upstreamReached = true;
    const u = step.upstream ?? {};
    const chunks = u.body === undefined ? undefined : Array.isArray(u.body) ? u.body : [u.body];
    const response: UpstreamResponse = { status: u.status ?? 200, headers: u.headers ?? [] };
    if (!u.streamed) {
      if (chunks) response.body = chunks;
      return response;
    }
    response.body = (async function* () {
      for (const [i, chunk] of (chunks ?? []).entries()) {
        yield Buffer.from(chunk);
        // The next chunk comes only once the client has this one, or after WAIT_MS (then: held).
        try { await stream.waitFor(() => received.length > i, WAIT_MS); } catch { heldChunks.push(i); }
      }
      callsBeforeResponseEnd = dispatched.length - start;
    })();
    return response;
  };

  const options: StreamOptions = {
    source: parseAddress(req.source),
    destination: parseAddress(req.destination),
    dynamicMetadata: req.dynamicMetadata,
    upstream,
    onDownstreamData: (chunk) => received.push(chunk),
  };
  stream = await host.newStream(options);
  const body = req.body === undefined ? [] : Array.isArray(req.body) ? req.body : [req.body];
  stream.sendRequestHeaders(req.headers, body.length === 0);
  if (req.bodyAfterCalls !== undefined && body.length > 0) {
    await until(`${req.bodyAfterCalls} call(s) before the request body`, () => dispatched.length - start >= req.bodyAfterCalls!);
    await until("the replies to those calls", () => host.vm.pendingGrpc.size === 0);
  }
  body.forEach((chunk, i) => stream.sendRequestBody(chunk, i === body.length - 1));
  const response = await stream.completion;
  await until("in-flight gRPC calls to finish", () => host.vm.pendingGrpc.size === 0);

  const filterState = (stream.attributes().get("filter_state") as Map<string, unknown>) ?? new Map();
  const forwarded = stream.forwarded;
  return {
    calls: dispatched.slice(start),
    requestId: forwarded.headers.find(([k]) => k === "x-request-id")?.[1] ?? "",
    upstreamReached,
    forwarded: { headers: forwarded.headers, body: forwarded.body.toString() },
    response: { status: response.status, headers: response.headers, body: response.body.toString(), reset: response.reset },
    filterState,
    heldChunks,
    callsBeforeResponseEnd,
    unusedReplies: unusedReplies(servers),
  };
}
