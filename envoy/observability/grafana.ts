// The Grafana dashboard for clusters, typed with @grafana/schema and rendered to
// grafana-dashboard.json by `npm run envoy:render`: the panels of the local dashboard over
// Prometheus (the filter's Envoy stats and Limitador's metrics). Queries live in queries.ts.
import { FieldColorModeId, MappingType, ThresholdsMode, type Dashboard, type Panel, type RowPanel, type VariableModel } from "@grafana/schema";
import { LATENCY_METRICS, health, limitador, overTime, table, tableLatency, totals } from "./queries.js";

const DS = { type: "prometheus", uid: "${datasource}" };
type Target = { refId: string; expr: string; legendFormat?: string; instant?: boolean; range?: boolean; format?: string };
let nextId = 1;

function panel(type: string, title: string, gridPos: Panel["gridPos"], targets: Target[], extra: Partial<Panel> = {}): Panel {
  return { id: nextId++, type, title, gridPos, datasource: DS, targets: targets.map((t) => ({ datasource: DS, ...t })), ...extra };
}

function stat(title: string, expr: string, x: number, unit = "short", color = "text"): Panel {
  return panel("stat", title, { x, y: 1, w: 3, h: 4 }, [{ refId: "A", expr, instant: true, range: false }], {
    fieldConfig: { defaults: { unit, decimals: unit === "ms" ? 1 : 0, color: { mode: FieldColorModeId.Fixed, fixedColor: color } }, overrides: [] },
    options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "value", graphMode: "none", textMode: "value" },
  });
}

function series(title: string, targets: Target[], gridPos: Panel["gridPos"], unit: string): Panel {
  return panel("timeseries", title, gridPos, targets, {
    fieldConfig: { defaults: { unit, custom: { lineWidth: 2, fillOpacity: 0, spanNulls: false } }, overrides: [] },
    options: { legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "desc" } },
  });
}

/** An instant query per column, merged on the row labels; "Value #X" renamed to the column's name. */
function tableOf(title: string, columns: Record<string, string>, gridPos: Panel["gridPos"], unit = "short"): Panel {
  const entries = Object.entries(columns);
  const refId = (i: number) => String.fromCharCode(65 + i);
  return panel("table", title, gridPos, entries.map(([, expr], i) => ({ refId: refId(i), expr, instant: true, range: false, format: "table" })), {
    fieldConfig: { defaults: { unit, decimals: unit === "ms" ? 1 : 0 }, overrides: [] },
    options: { showHeader: true, cellHeight: "sm", footer: { show: false, reducer: ["sum"], fields: "" } },
    transformations: [
      { id: "merge", options: {} },
      { id: "organize", options: { excludeByName: { Time: true }, renameByName: Object.fromEntries(entries.map(([name], i) => [`Value #${refId(i)}`, name])) } },
    ],
  });
}

function row(title: string, y: number): RowPanel {
  return { id: nextId++, type: "row", title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] };
}

function variable(name: string, label: string, query: string): VariableModel {
  return {
    type: "query", name, label, datasource: DS, query: { query, refId: `${name}-values` } as unknown as string, definition: query,
    refresh: 2, includeAll: true, multi: true, allValue: ".*", current: { text: "All", value: "$__all" } as any, sort: 1, hide: 0,
  } as VariableModel;
}

export function grafanaDashboard(): Dashboard {
  nextId = 1;
  const latencyTargets = (qs: number[]) => qs.flatMap((q) => Object.entries(LATENCY_METRICS).map(([name, metric]) => ({
    refId: `${name.replace(/\W/g, "")}${q * 100}`, expr: overTime.latency(q, metric), legendFormat: `${name} p${q * 100}`,
  })));
  const latencyColumns = Object.fromEntries(Object.entries(LATENCY_METRICS).flatMap(([name, metric]) =>
    [0.5, 0.95, 0.99].map((q) => [`${name} p${q * 100}`, tableLatency(q, metric)])));
  const panels: Array<Panel | RowPanel> = [
    row("Totals over the time range", 0),
    ...Object.entries(totals).map(([title, expr], i) => stat(title, expr, i * 3,
      title.startsWith("p99") ? "ms" : "short",
      title === "2xx" ? "green" : title === "401" || title === "429" ? "orange" : title === "5xx" ? "red" : "text")),
    row("Over time", 5),
    series("Responses per second, by status", [{ refId: "A", expr: overTime.responses, legendFormat: "{{response_code}}" }], { x: 0, y: 6, w: 8, h: 8 }, "reqps"),
    series("Tokens per second", [{ refId: "A", expr: overTime.tokensIn, legendFormat: "in" }, { refId: "B", expr: overTime.tokensOut, legendFormat: "out" }], { x: 8, y: 6, w: 8, h: 8 }, "short"),
    series("Latency: gateway, model time to first byte, Limitador", latencyTargets([0.5, 0.99]), { x: 16, y: 6, w: 8, h: 8 }, "ms"),
    series("Tokens per second by user (Limitador authorized_hits, top 10)", [{ refId: "A", expr: overTime.tokensByUser, legendFormat: "{{user}}" }], { x: 0, y: 14, w: 12, h: 8 }, "short"),
    series("Calls refused by Limitador, by tier", [{ refId: "A", expr: overTime.limitedByTier, legendFormat: "{{tier}}" }], { x: 12, y: 14, w: 12, h: 8 }, "reqps"),
    row("Per user, tier and model", 22),
    tableOf("Traffic (gateway; user when the filter's metricsUserLabel is on)", table, { x: 0, y: 23, w: 24, h: 8 }),
    tableOf("Latency, ms: p50 / p95 / p99", latencyColumns, { x: 0, y: 31, w: 24, h: 8 }, "ms"),
    tableOf("Limitador: calls, hits (requests and tokens), refused calls", limitador, { x: 0, y: 39, w: 24, h: 8 }),
    row("Health", 47),
    panel("stat", "Limitador up (scrape)", { x: 0, y: 48, w: 8, h: 4 }, [{ refId: "A", expr: health.limitadorUp, legendFormat: "{{instance}}", instant: true, range: false }], {
      fieldConfig: { defaults: { mappings: [{ type: MappingType.ValueToText, options: { "0": { text: "DOWN", color: "red" }, "1": { text: "UP", color: "green" } } }], color: { mode: FieldColorModeId.Thresholds }, thresholds: { mode: ThresholdsMode.Absolute, steps: [{ color: "red", value: null as unknown as number }, { color: "green", value: 1 }] } }, overrides: [] },
    }),
    series("Limitador answers the gateway could not use (failure mode, UNKNOWN)", [{ refId: "A", expr: health.failureModeErrors, legendFormat: "{{error_class}}" }], { x: 8, y: 48, w: 16, h: 8 }, "reqps"),
  ];
  return {
    title: "LLM gateway: usage per user, tier and model",
    uid: "llm-gateway-usage",
    description: "Requests, 401s, 429s, tokens and latency per user, tier and model, from the llm-telemetry filter's Envoy stats and Limitador's metrics.",
    tags: ["llm", "kuadrant", "limitador", "maas"],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    timezone: "browser",
    templating: {
      list: [
        { type: "datasource", name: "datasource", label: "Prometheus", query: "prometheus", current: {} as any, hide: 0, refresh: 1 } as VariableModel,
        variable("model", "model", "label_values(inference_model_request_total, model_name)"),
        variable("tier", "tier", "label_values(inference_model_request_total, tier)"),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}
