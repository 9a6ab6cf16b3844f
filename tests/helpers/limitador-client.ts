// grpc-js clients for Limitador's services (our .proto files), promise-based.
import * as grpc from "@grpc/grpc-js";
import { envoyRateLimitService, kuadrantRateLimitService } from "../../proto/index.js";

export type Descriptor = Record<string, string>;

export class LimitadorClient {
  private readonly envoy: any;
  private readonly kuadrant: any;
  constructor(address: string) {
    this.envoy = new (envoyRateLimitService())(address, grpc.credentials.createInsecure());
    this.kuadrant = new (kuadrantRateLimitService())(address, grpc.credentials.createInsecure());
  }

  private call(client: any, method: string, domain: string, descriptors: Descriptor[], hits = 0): Promise<{ overall_code: string; response_headers_to_add: Array<{ key: string; value: string }> }> {
    const request = { domain, hits_addend: hits, descriptors: descriptors.map((d) => ({ entries: Object.entries(d).map(([key, value]) => ({ key, value })) })) };
    return new Promise((resolve, reject) => client[method](request, { deadline: Date.now() + 60000 } /* generous: a busy machine is slow, not wrong */, (err: any, res: any) => (err ? reject(err) : resolve(res))));
  }

  shouldRateLimit(domain: string, descriptors: Descriptor[], hits = 0) { return this.call(this.envoy, "ShouldRateLimit", domain, descriptors, hits); }
  checkRateLimit(domain: string, descriptors: Descriptor[], hits = 0) { return this.call(this.kuadrant, "CheckRateLimit", domain, descriptors, hits); }
  report(domain: string, descriptors: Descriptor[], hits = 0) { return this.call(this.kuadrant, "Report", domain, descriptors, hits); }

  close(): void { this.envoy.close(); this.kuadrant.close(); }
}
