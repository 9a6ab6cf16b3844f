// Descriptors for `dynamic` services the filter has none for (research/wasm-shim-newer-config.md
// §3.6): one kuadrant.v1.DescriptorService/GetServiceDescriptors call to the `descriptorService`
// cluster at configure time (1 s timeout), then every 2 s (on_tick) for what is still missing.
// Until a service's descriptors arrive, its calls fail and its failureMode decides.
import { RootContext } from "../abi/context";
import { HeaderPair } from "../abi/pairs";
import { WasmResult } from "../abi/enums";
import { logInfo, logWarn, setTickPeriodMilliseconds } from "../abi/hostcalls";
import { PluginConfig, ServiceConfig } from "./config";
import { ProtoWriter, ProtoReader, WIRE_LEN } from "../proto/wire";
import { descriptorPool } from "../proto/pool";

const SERVICE = "kuadrant.v1.DescriptorService";
const METHOD = "GetServiceDescriptors";
const TIMEOUT_MS: u32 = 1000;
const RETRY_MS: u32 = 2000;

export class DescriptorFetcher {
  private inFlight: i64 = -1;

  constructor(private readonly root: RootContext, private readonly config: PluginConfig) {}

  /** Services still waiting for descriptors. */
  missing(): Array<ServiceConfig> {
    const out = new Array<ServiceConfig>();
    const names = this.config.services.keys();
    for (let i = 0; i < names.length; i++) {
      const s = this.config.services.get(names[i]);
      if (s.needsFetchedDescriptors && s.method === null) out.push(s);
    }
    return out;
  }

  get needed(): bool { return this.missing().length > 0; }

  start(): void {
    setTickPeriodMilliseconds(RETRY_MS);
    this.request();
  }

  onTick(): void {
    if (this.inFlight < 0 && this.needed) this.request();
  }

  private request(): void {
    const missing = this.missing();
    if (missing.length == 0) return;
    // GetServiceDescriptorsRequest{services = 1: ServiceRef{cluster_name = 1, service = 2}}
    const w = new ProtoWriter();
    for (let i = 0; i < missing.length; i++) {
      const ref = w.begin(1);
      w.stringField(1, missing[i].endpoint);
      w.stringField(2, missing[i].grpcService);
      w.end(ref);
    }
    const cluster = this.config.descriptorService;
    const dispatch = this.root.dispatchGrpcCall(cluster, SERVICE, METHOD, new Array<HeaderPair>(), w.finish(), TIMEOUT_MS);
    if (dispatch.status != WasmResult.Ok) {
      logWarn("descriptor service: cannot call cluster '" + cluster + "' (status " + dispatch.status.toString() + "); retrying every " + RETRY_MS.toString() + " ms");
      return;
    }
    this.inFlight = dispatch.token;
  }

  onReply(token: u32, message: ArrayBuffer): void {
    if (<i64>token != this.inFlight) return;
    this.inFlight = -1;
    // GetServiceDescriptorsResponse{descriptors = 1: ServiceDescriptor{cluster_name = 1, service = 2, file_descriptor_set = 3}}
    const r = new ProtoReader(message);
    while (!r.done) {
      const f = r.tag();
      if (r.failed) break;
      if (f != 1 || r.wire != WIRE_LEN) { r.skip(); continue; }
      const d = new ProtoReader(r.bytes());
      let service = "";
      let set: ArrayBuffer | null = null;
      while (!d.done) {
        const g = d.tag();
        if (d.failed) break;
        if (g == 2 && d.wire == WIRE_LEN) service = d.string();
        else if (g == 3 && d.wire == WIRE_LEN) set = d.bytes();
        else d.skip();
      }
      if (d.failed || set === null) { logWarn("descriptor service: a malformed ServiceDescriptor was ignored"); continue; }
      this.accept(service, set);
    }
    if (r.failed) logWarn("descriptor service: the reply is not a GetServiceDescriptorsResponse; retrying");
  }

  onFailure(token: u32, status: u32, message: string): void {
    if (<i64>token != this.inFlight) return;
    this.inFlight = -1;
    logWarn("descriptor service: gRPC status " + status.toString() + (message.length > 0 ? " (" + message + ")" : "") + "; retrying every " + RETRY_MS.toString() + " ms");
  }

  private accept(service: string, set: ArrayBuffer): void {
    const pool = descriptorPool();
    const err = pool.addFileDescriptorSet(set);
    if (err.length > 0) { logWarn("descriptor service: descriptors for " + service + " refused: " + err); return; }
    const missing = this.missing();
    for (let i = 0; i < missing.length; i++) {
      const s = missing[i];
      if (s.grpcService != service) continue;
      s.method = pool.method(s.grpcService, s.grpcMethod);
      if (s.method === null) logWarn("descriptor service: " + service + " has no method " + s.grpcMethod + " (service '" + s.name + "')");
      else logInfo("descriptors for " + service + "/" + s.grpcMethod + " loaded (service '" + s.name + "')");
    }
  }
}
