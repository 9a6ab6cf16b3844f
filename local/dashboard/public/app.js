// The dashboard page: one Server-Sent Events stream from /api/events, one state per scrape,
// rendered into the tiles, three uPlot charts and four tables. Numbers are shown as scraped;
// every cell carries its raw value in data-value (what the browser test compares with /metrics).
/* global uPlot */

const $ = (sel) => document.querySelector(sel);
const count = (n) => (n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));
const ms = (n) => (n === null || n === undefined ? "–" : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US"));
const none = (s) => s || "—";

function cell(text, value, field, cls = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (field) td.dataset.field = field;
  if (value !== undefined && value !== null) td.dataset.value = String(value);
  if (cls) td.className = cls;
  return td;
}

function fillTable(name, rows, keyOf, cellsOf) {
  const body = $(`table[data-table="${name}"] tbody`);
  const trs = rows.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.key = keyOf(r);
    for (const td of cellsOf(r)) tr.appendChild(td);
    return tr;
  });
  if (trs.length === 0) {
    const tr = document.createElement("tr");
    const td = cell("no data yet: send some traffic (npm run traffic)", undefined, "", "empty");
    td.colSpan = body.parentElement.querySelectorAll("thead th").length;
    tr.appendChild(td);
    trs.push(tr);
  }
  body.replaceChildren(...trs);
}

const who = (r) => (r.user ? r.user : r.tier === "unknown" || !r.tier ? "(no identity)" : "(all users)");

function renderTraffic(rows) {
  fillTable("traffic", rows, (r) => [r.user, r.tier, r.model].join("|"), (r) => [
    cell(who(r), r.user, "user"), cell(none(r.tier), r.tier, "tier"),
    cell(r.model + (r.servedBy.length && r.servedBy.join() !== r.model ? ` (${r.servedBy.join(", ")})` : ""), r.model, "model"),
    cell(count(r.requests), r.requests, "requests", "n"), cell(count(r.ok), r.ok, "ok", "n"),
    cell(count(r.unauthorized), r.unauthorized, "unauthorized", r.unauthorized ? "n warn" : "n"),
    cell(count(r.limited), r.limited, "limited", r.limited ? "n warn" : "n"),
    cell(count(r.serverErrors), r.serverErrors, "serverErrors", r.serverErrors ? "n bad" : "n"),
    cell(count(r.tokensIn), r.tokensIn, "tokensIn", "n"), cell(count(r.tokensOut), r.tokensOut, "tokensOut", "n"),
  ]);
  fillTable("latency", rows.filter((r) => r.latency.total.count > 0), (r) => [r.user, r.tier, r.model].join("|"), (r) => [
    cell(who(r), r.user, "user"), cell(none(r.tier), r.tier, "tier"), cell(r.model, r.model, "model"),
    ...["total", "ttfb", "limitador"].map((k) => {
      const p = r.latency[k];
      return cell(p.count ? `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.p99)}` : "–", p.p99, `${k}`, "n");
    }),
  ]);
}

function renderLimits(rows) {
  fillTable("limits", rows, (r) => [r.namespace, r.limit, r.who].join("|"), (r) => {
    const bar = document.createElement("td");
    bar.dataset.field = "remaining";
    bar.dataset.value = String(r.remaining);
    const share = r.max > 0 ? r.remaining / r.max : 0;
    bar.innerHTML = `<div class="meter ${share < 0.2 ? "low" : ""}"><div style="width:${(share * 100).toFixed(1)}%"></div></div><span>${count(r.remaining)} of ${count(r.max)} / ${r.seconds}s</span>`;
    return [
      cell(r.namespace, r.namespace, "namespace"), cell(r.limit, r.limit, "limit"),
      cell(r.who || "(nobody in this window)", r.who, "who", r.who ? "" : "muted"),
      cell(count(r.used), r.used, "used", "n"), bar,
      cell(r.resetsInSeconds === null ? "–" : `${r.resetsInSeconds}s`, r.resetsInSeconds, "resetsIn", "n"),
    ];
  });
}

function renderLimitador(rows) {
  fillTable("limitador", rows, (r) => [r.user, r.tier, r.model, r.namespace].join("|"), (r) => [
    cell(none(r.user), r.user, "user"), cell(none(r.tier), r.tier, "tier"), cell(none(r.model), r.model, "model"),
    cell(r.namespace, r.namespace, "namespace", "muted"),
    cell(count(r.authorizedCalls), r.authorizedCalls, "authorizedCalls", "n"),
    cell(count(r.authorizedHits), r.authorizedHits, "authorizedHits", "n"),
    cell(count(r.limitedCalls), r.limitedCalls, "limitedCalls", r.limitedCalls ? "n warn" : "n"),
  ]);
}

function renderTotals(t) {
  for (const el of document.querySelectorAll("[data-total]")) {
    const v = t ? t[el.dataset.total] : null;
    el.textContent = el.dataset.total === "p99Ms" ? (v === null || v === undefined ? "–" : `${ms(v)} ms`) : count(v);
    el.dataset.value = v === null || v === undefined ? "" : String(v);
    el.parentElement.classList.toggle("zero", v === 0);
  }
}

// ---- charts ------------------------------------------------------------------------------

const COLORS = { ok: "#16a34a", unauthorized: "#d97706", limited: "#dc2626", serverErrors: "#7c3aed", in: "#2563eb", out: "#0891b2", total: "#111827", ttfb: "#2563eb", limitador: "#d97706" };
const charts = {};

function chart(id, series, data) {
  const el = document.getElementById(id);
  if (!charts[id]) {
    const opts = {
      width: el.clientWidth || 400, height: 200,
      legend: { live: false },
      scales: { x: { time: true } },
      axes: [{ stroke: "#6b7280" }, { stroke: "#6b7280", size: 50 }],
      series: [{}, ...series],
    };
    charts[id] = new uPlot(opts, data, el);
    new ResizeObserver(() => charts[id].setSize({ width: el.clientWidth, height: 200 })).observe(el);
  } else charts[id].setData(data);
}

function renderCharts(s) {
  if (!s || s.t.length === 0) return;
  const line = (label, stroke, dash) => ({ label, stroke, width: 2, dash, spanGaps: false, points: { show: false } });
  chart("chart-responses", [line("2xx", COLORS.ok), line("401", COLORS.unauthorized), line("429", COLORS.limited), line("5xx", COLORS.serverErrors)],
    [s.t, s.responses.ok, s.responses.unauthorized, s.responses.limited, s.responses.serverErrors]);
  chart("chart-tokens", [line("in", COLORS.in), line("out", COLORS.out)], [s.t, s.tokensIn, s.tokensOut]);
  const kinds = [["total", "gateway"], ["ttfb", "model TTFB"], ["limitador", "Limitador"]];
  chart("chart-latency", [...kinds.map(([k, l]) => line(`${l} p99`, COLORS[k])), ...kinds.map(([k, l]) => line(`${l} p50`, COLORS[k], [4, 4]))],
    [s.t, ...kinds.map(([k]) => s.p99[k]), ...kinds.map(([k]) => s.p50[k])]);
}

// ---- state ---------------------------------------------------------------------------------

function render(state) {
  const errors = Object.entries(state.sources).filter(([, v]) => v.error).map(([k, v]) => `${k}: ${v.error}`);
  const status = $("#status");
  status.textContent = `${errors.length ? "⚠ " + errors.join("; ") : "live"} · updated ${new Date(state.at).toLocaleTimeString("en-GB")} · every ${state.intervalMs / 1000} s`;
  status.className = `status ${errors.length ? "error" : "ok"}`;
  status.dataset.at = String(state.at);
  renderTotals(state.totals);
  renderTraffic(state.traffic);
  renderLimits(state.limits);
  renderLimitador(state.limitador);
  renderCharts(state.series);
  $("#sources").textContent = `Scraped from ${state.sources.gateway.url}${state.sources.limitador.url ? ` and ${state.sources.limitador.url}` : " (an external Limitador: its metrics are not read)"}: the text Prometheus would scrape.`;
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
}

const events = new EventSource("/api/events");
events.onmessage = (e) => render(JSON.parse(e.data));
events.onerror = () => { const s = $("#status"); s.textContent = "reconnecting…"; s.className = "status error"; };
