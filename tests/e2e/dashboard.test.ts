// The dashboard `npm start` serves, in headless Chromium (Debian's, driven by playwright-core):
// it loads without a console error, its numbers follow `npm run traffic` live and equal what
// /metrics says, and a screenshot lands in build/test-output/dashboard.png.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { startStackProcess } from "../helpers/stack-process.js";
import { missing } from "../helpers/services.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOT = join(ROOT, "build/test-output/dashboard.png");

/** `npm run traffic` against the test's stack; resolves when it has printed its summary. */
function runTraffic(ports: Record<string, number>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "local/traffic.ts"),
      "--gateway", `http://127.0.0.1:${ports.gateway}`, "--admin", `http://127.0.0.1:${ports.admin}`,
      "--limitador-http", `http://127.0.0.1:${ports.limitadorHttp}`], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { out += d; });
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`traffic exited ${code}:\n${out}`))));
  });
}

/** Sum of a metric's samples whose labels include `match`, read straight from the exposition text. */
function sumOf(text: string, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    const m = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) total += Number(m[2]);
  }
  return total;
}

interface Shown {
  totals: Record<string, number | null>;
  traffic: Record<string, Record<string, string>>; limitador: Record<string, Record<string, string>>;
  limits: Record<string, Record<string, string>>; latency: Record<string, Record<string, string>>;
  updates: number;
}

// Runs in the page. A string, not a function: tsx's esbuild wraps named functions in a __name
// helper that does not exist in the browser.
const READ_PAGE = `(() => {
  const num = (el) => (el && el.dataset.value !== "" ? Number(el.dataset.value) : null);
  const totals = {};
  for (const el of document.querySelectorAll("[data-total]")) totals[el.dataset.total] = num(el);
  const rows = (table) => Object.fromEntries([...document.querySelectorAll('table[data-table="' + table + '"] tbody tr[data-key]')].map((tr) => [
    tr.dataset.key,
    Object.fromEntries([...tr.querySelectorAll("td[data-field]")].map((td) => [td.dataset.field, td.dataset.value ?? ""])),
  ]));
  return { totals, traffic: rows("traffic"), limitador: rows("limitador"), limits: rows("limits"), latency: rows("latency"), updates: Number(document.body.dataset.updates ?? 0) };
})()`;

/** What the page shows, read from the data-value attributes of its cells. */
async function shown(page: Page): Promise<Shown> {
  return page.evaluate(READ_PAGE) as Promise<Shown>;
}

/** Waits (scrapes come every 2 s) until the page agrees with `expected`; fails with the last difference. */
async function until<T>(page: Page, read: (s: Shown) => T, expected: T, what: string, ms = 60000): Promise<void> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = read(await shown(page));
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(last, expected, `${what}: the page never showed what /metrics says`);
}

test("the dashboard loads without console errors, follows npm run traffic live, matches /metrics, and is screenshotted", { skip: missing("chromium", "chromium"), timeout: 240000 }, async (t) => {
  const s = await startStackProcess(t);
  assert.match(s.output(), new RegExp(`dashboard +http://127\\.0\\.0\\.1:${s.ports.dashboard}/`));
  const profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1480, height: 1100 },
  });
  t.after(async () => { await browser.close().catch(() => {}); rmSync(profile, { recursive: true, force: true }); });
  const problems: string[] = [];
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => { if (!r.url().endsWith("/api/events")) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`); });
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

  await page.goto(`http://127.0.0.1:${s.ports.dashboard}/`);
  await until(page, (v) => v.updates > 0, true, "a first update");
  assert.equal((await shown(page)).totals.requests, 0, "nothing has been sent yet");
  assert.equal(await page.evaluate("typeof window.uPlot"), "function", "uPlot is served locally");

  const gatewayText = async () => (await fetch(`http://127.0.0.1:${s.ports.admin}/stats/prometheus`)).text();
  const limitadorText = async () => (await fetch(`http://127.0.0.1:${s.ports.limitadorHttp}/metrics`)).text();
  const expectFromMetrics = async () => {
    const gw = await gatewayText(), lim = await limitadorText();
    const alice = { user: "alice", tier: "free", model_name: "facebook-opt-125m-simulated" };
    return {
      totals: {
        requests: sumOf(gw, "inference_model_request_total"),
        limited: sumOf(gw, "inference_model_request_total", { response_code: "429" }),
        unauthorized: sumOf(gw, "inference_model_request_total", { response_code: "401" }),
        tokensIn: sumOf(gw, "inference_model_input_tokens_sum"),
        tokensOut: sumOf(gw, "inference_model_output_tokens_sum"),
      },
      alice: {
        requests: String(sumOf(gw, "inference_model_request_total", alice)),
        limited: String(sumOf(gw, "inference_model_request_total", { ...alice, response_code: "429" })),
        tokensOut: String(sumOf(gw, "inference_model_output_tokens_sum", alice)),
      },
      aliceAtLimitador: {
        authorizedCalls: String(sumOf(lim, "authorized_calls", { user: "alice", model: "facebook-opt-125m-simulated" })),
        authorizedHits: String(sumOf(lim, "authorized_hits", { user: "alice", model: "facebook-opt-125m-simulated" })),
        limitedCalls: String(sumOf(lim, "limited_calls", { user: "alice", model: "facebook-opt-125m-simulated" })),
      },
    };
  };
  const pageView = (v: Shown) => {
    const a = v.traffic["alice|free|facebook-opt-125m-simulated"] ?? {};
    const l = v.limitador["alice|free|facebook-opt-125m-simulated|llm/facebook-opt-125m-simulated-kserve-route"] ?? {};
    return {
      totals: { requests: v.totals.requests, limited: v.totals.limited, unauthorized: v.totals.unauthorized, tokensIn: v.totals.tokensIn, tokensOut: v.totals.tokensOut },
      alice: { requests: a.requests, limited: a.limited, tokensOut: a.tokensOut },
      aliceAtLimitador: { authorizedCalls: l.authorizedCalls, authorizedHits: l.authorizedHits, limitedCalls: l.limitedCalls },
    };
  };

  // Two rounds of `npm run traffic`: after each the page catches up with /metrics on its own.
  const seen: number[] = [];
  for (let round = 1; round <= 2; round++) {
    await runTraffic(s.ports);
    await new Promise((r) => setTimeout(r, 300)); // the token Reports are fire-and-forget
    const expected = await expectFromMetrics();
    assert.ok(expected.totals.requests > (seen.at(-1) ?? 0));
    await until(page, pageView, expected, `after traffic round ${round}`);
    seen.push((await shown(page)).totals.requests!);
  }
  assert.ok(seen[1] > seen[0], `the numbers moved: ${seen.join(" → ")}`);

  const v = await shown(page);
  assert.ok(v.totals.limited! > 0, "two rounds of traffic run the free tier into its limit");
  // Alice is on the free tier: her request limit shows what remains, as Limitador's /counters says.
  const ns = "llm/facebook-opt-125m-simulated-kserve-route";
  const counters = await (await fetch(`http://127.0.0.1:${s.ports.limitadorHttp}/counters/${encodeURIComponent(ns)}`)).json();
  const aliceCounter = counters.find((c: any) => c.limit.name === "free" && Object.values(c.set_variables).includes("alice"));
  assert.ok(aliceCounter && aliceCounter.remaining < 5, "alice used some of her 5 requests");
  await until(page, (x) => x.limits[`${ns}|free|alice`]?.remaining, String(aliceCounter.remaining), "alice's remaining requests");
  const latency = v.latency["alice|free|facebook-opt-125m-simulated"];
  for (const kind of ["total", "ttfb", "limitador"]) assert.ok(Number(latency[kind]) > 0, `a p99 for ${kind}`);
  // The charts drew (uPlot canvases with a size).
  assert.equal(await page.locator(".charts canvas").count(), 3);

  mkdirSync(join(ROOT, "build/test-output"), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-top.png") }); // the first screen (docs/dashboard.png)
  console.log(`# screenshots: ${SCREENSHOT} (whole page), ${SCREENSHOT.replace(/\.png$/, "-top.png")}`);
  await browser.close();
  assert.deepEqual(problems, [], "no console errors, failed requests or HTTP errors");
});
