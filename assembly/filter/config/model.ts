// What a plugin configuration says once parsed and checked: services, action sets, and each
// action in the shape it was written in (classic, as Kuadrant operator ≤ 1.5 writes it, or typed,
// as wasm-shim ≥ 0.13 and operator main do). Both shapes run through one request pipeline
// (filter/plan.ts); classic actions keep wasm-shim v0.12.3's behaviour there.
import { Expression } from "../../cel";
import { MethodInfo } from "../../proto/descriptors";
import { GrpcTarget } from "../../abi/hostcalls";

/** The service `type`; Dynamic is a named gRPC method (`grpcService`/`grpcMethod`). */
export enum ServiceType { Auth, RateLimit, RateLimitCheck, RateLimitReport, Tracing, Dynamic }

export const AUTH_SERVICE = "envoy.service.auth.v3.Authorization";
export const ENVOY_RLS_SERVICE = "envoy.service.ratelimit.v3.RateLimitService";
export const KUADRANT_RLS_SERVICE = "kuadrant.service.ratelimit.v1.RateLimitService";

export class ServiceConfig {
  /** The method's descriptor, when known (built-in services at once, others once fetched). */
  method: MethodInfo | null = null;
  /** Endpoint, service and method as the host reads them (made on the first call). */
  target: GrpcTarget | null = null;
  /** Its calls are Limitador's (timed for kuadrant_limitador_call_duration_ms). */
  get isLimitador(): bool {
    return this.isRateLimit || (this.type == ServiceType.Dynamic && this.grpcService.includes(".ratelimit."));
  }

  constructor(public name: string, public type: ServiceType, public endpoint: string,
              public failureModeDeny: bool, public timeoutMs: u32,
              public grpcService: string, public grpcMethod: string) {}

  /** Its calls report usage after the response (classic ratelimit-report, or Kuadrant RLS Report). */
  get isReport(): bool {
    return this.type == ServiceType.RateLimitReport || (this.type == ServiceType.Dynamic && this.grpcService == KUADRANT_RLS_SERVICE && this.grpcMethod == "Report");
  }

  get isRateLimit(): bool {
    return this.type == ServiceType.RateLimit || this.type == ServiceType.RateLimitCheck || this.type == ServiceType.RateLimitReport;
  }

  /** Its descriptors come from the descriptor service (wasm-shim §3.6), not from the filter. */
  get needsFetchedDescriptors(): bool {
    return this.type == ServiceType.Dynamic && this.grpcService != AUTH_SERVICE && this.grpcService != ENVOY_RLS_SERVICE && this.grpcService != KUADRANT_RLS_SERVICE;
  }
}

export const KEY_DOMAIN = "ratelimit.domain";
export const KEY_HITS_ADDEND = "ratelimit.hits_addend";

/** Base of both action shapes, in config order within their action set. */
export class ActionConfig {
  /**
   * Non-empty: a mistake confined to this action (e.g. an empty static ratelimit.domain). The
   * configuration still loads, as with wasm-shim; a request that reaches the action fails it and
   * the service's failureMode decides, so one bad route never takes the others down.
   */
  misconfigured: string = "";
  constructor(public readonly typed: bool, public index: i32, public path: string) {}
}

// ---- classic shape (research/wasm-shim.md §1) -------------------------------------------------

/** One descriptor entry source: a literal or a CEL expression. */
export class DataItem {
  /**
   * Pre-encoded RateLimitDescriptor.Entry parts (filter/descriptors.ts): the whole entry field
   * when the value is a literal, else its key field. Made on first use.
   */
  encoded: ArrayBuffer | null = null;
  /** ratelimit.hits_addend or ratelimit.domain: a setting of the request, not a descriptor entry. */
  readonly special: bool;
  constructor(public key: string, public staticValue: string | null, public expression: Expression | null) {
    this.special = key == KEY_HITS_ADDEND || key == KEY_DOMAIN;
  }
}

export class ConditionalData {
  constructor(public predicates: Array<Expression>, public data: Array<DataItem>) {}
}

export class Action extends ActionConfig {
  /** Set at planning time: the request body must be read before this action runs. */
  needsRequestBody: bool = false;

  constructor(index: i32, path: string, public service: ServiceConfig, public scope: string,
              public predicates: Array<Expression>, public conditionalData: Array<ConditionalData>) {
    super(false, index, path);
  }

  /** Every expression of the action (predicates and data), for planning. */
  expressions(): Array<Expression> {
    const out = this.predicates.slice(0);
    for (let b = 0; b < this.conditionalData.length; b++) {
      const block = this.conditionalData[b];
      for (let i = 0; i < block.predicates.length; i++) out.push(block.predicates[i]);
      for (let i = 0; i < block.data.length; i++) {
        const e = block.data[i].expression;
        if (e !== null) out.push(e);
      }
    }
    return out;
  }
}

// ---- typed shape (research/wasm-shim-newer-config.md §2.5) -----------------------------------

export enum TypedKind { Grpc, Deny, Headers, Store, Fail }

export class TypedAction extends ActionConfig {
  /** `isGuard` (default true): the phase waits for this call. Only grpc uses it. */
  isGuard: bool = true;
  /** `execution: sequential`: waits for everything before it since the last fence, and is a fence. */
  sequential: bool = false;
  sources: Array<string> = [];
  label: string = "";
  // grpc
  varName: string = "";
  service: ServiceConfig | null = null;
  messageBuilder: Expression | null = null;
  onReply: Array<TypedAction> = [];
  // deny
  denyWith: Expression | null = null;
  // headers
  targetResponse: bool = false;
  headers: Expression | null = null;
  // store
  storePath: string = "";
  value: Expression | null = null;
  exportToHost: bool = false;
  // fail
  logMessage: string = "";

  constructor(index: i32, path: string, public kind: TypedKind, public predicate: Expression, public terminal: bool) {
    super(true, index, path);
  }

  /** The expressions of this action itself (not of its onReply children). */
  expressions(): Array<Expression> {
    const out: Array<Expression> = [this.predicate];
    const candidates: Array<Expression | null> = [this.messageBuilder, this.denyWith, this.headers, this.value];
    for (let i = 0; i < candidates.length; i++) {
      const e = candidates[i];
      if (e !== null) out.push(e);
    }
    return out;
  }

  get kindName(): string {
    switch (this.kind) {
      case TypedKind.Grpc: return "grpc";
      case TypedKind.Deny: return "deny";
      case TypedKind.Headers: return "headers";
      case TypedKind.Store: return "store";
      default: return "fail";
    }
  }
}

export class ActionSet {
  constructor(public index: i32, public name: string, public hostnames: Array<string>,
              public predicates: Array<Expression>, public actions: Array<ActionConfig>) {}
}

/** A requestData binding: "metrics.labels.user" → domain "metrics.labels", field "user". */
export class RequestDatum {
  /** The descriptors[1] entry key wasm-shim uses. */
  readonly entryKey: string;
  readonly isMetricLabel: bool;
  /** The filter_metadata namespace a CheckRequest carries it in: "io.kuadrant[.<domain>]". */
  readonly metadataNamespace: string;
  /** Its CheckRequest Struct field when it is sent as {"cel_expr": source} (auth.* bindings); encoded once. */
  celExprField: ArrayBuffer | null = null;
  /** It reads auth.*: a CheckRequest carries its source for Authorino to evaluate. */
  readonly readsAuth: bool;

  constructor(public domain: string, public field: string, public expression: Expression) {
    this.entryKey = domain.length == 0 || domain == "metrics.labels" ? field : domain + "." + field;
    this.isMetricLabel = domain == "metrics.labels";
    this.metadataNamespace = domain.length == 0 ? "io.kuadrant" : "io.kuadrant." + domain;
    this.readsAuth = expression.usesRoot("auth");
  }
}

export class PluginConfig {
  services: Map<string, ServiceConfig> = new Map();
  actionSets: Array<ActionSet> = [];
  requestData: Array<RequestDatum> = [];
  requestIdHeader: string = "";
  /** The Envoy cluster that serves kuadrant.v1.DescriptorService (wasm-shim's default name). */
  descriptorService: string = "kuadrant-operator-grpc";
  /** -1: follow Envoy's level; else a LogLevel (6 = off). */
  logLevel: i32 = -1;
  /** Notes about accepted-but-ignored parts (logged at debug). */
  ignored: Array<string> = [];
  /** Accepted, but wrong somewhere a request will notice, or ignored fields (logged at warn). */
  warnings: Array<string> = [];
}

export class ConfigResult {
  constructor(public config: PluginConfig | null, public errors: Array<string>) {}
  get ok(): bool { return this.config !== null; }
}
