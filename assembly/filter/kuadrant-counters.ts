// wasm-shim's own gateway counters (metrics/mod.rs in v0.12.3 and main), kept so dashboards and
// alerts built on them keep working: kuadrant.configs (each configuration loaded), hits (a
// request an action set took), misses (none did), allowed (every response headers, local
// replies included, as Envoy calls them), denied (each local reply the pipeline sent), errors (a
// call that failed under its failureMode, or a route that could not be evaluated). Envoy shows
// them as wasmcustom.kuadrant.*.
import { MetricType } from "../abi/enums";
import { defineMetric, incrementMetric } from "../abi/hostcalls";

class Counters {
  configs: u32 = 0;
  hits: u32 = 0;
  misses: u32 = 0;
  allowed: u32 = 0;
  denied: u32 = 0;
  errors: u32 = 0;
  defined: bool = false;

  define(): void {
    if (this.defined) return;
    this.configs = defineMetric(MetricType.Counter, "kuadrant.configs");
    this.hits = defineMetric(MetricType.Counter, "kuadrant.hits");
    this.misses = defineMetric(MetricType.Counter, "kuadrant.misses");
    this.allowed = defineMetric(MetricType.Counter, "kuadrant.allowed");
    this.denied = defineMetric(MetricType.Counter, "kuadrant.denied");
    this.errors = defineMetric(MetricType.Counter, "kuadrant.errors");
    this.defined = true;
  }

  bump(id: u32): void { if (this.defined) incrementMetric(id, 1); }
}

export const kuadrantCounters = new Counters();
