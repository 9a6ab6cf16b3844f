// `npm run traffic`: a mix of users, tiers and models (JSON and streamed), one bad key, then the
// per user/tier/model counters a user came to see, read from Limitador's and the gateway's metrics.
import { parseArgs } from "node:util";

const { values: o } = parseArgs({ options: { gateway: { type: "string" }, "limitador-http": { type: "string" }, admin: { type: "string" }, requests: { type: "string" } } });
const gateway = o.gateway ?? "http://127.0.0.1:10000";
const limitadorMetrics = `${o["limitador-http"] ?? "http://127.0.0.1:8080"}/metrics`;
const adminMetrics = `${o.admin ?? "http://127.0.0.1:9901"}/stats/prometheus`;
const perUser = Number(o.requests ?? 8);

const users = [
  { key: "alice-free-key", name: "alice" }, { key: "bob-free-key", name: "bob" },
  { key: "carol-premium-key", name: "carol" }, { key: "dave-enterprise-key", name: "dave" },
];
const models = ["facebook-opt-125m-simulated", "qwen3-0-6b-instruct-simulated"];

async function send(key: string, model: string, stream: boolean): Promise<number> {
  const res = await fetch(`${gateway}/llm/${model}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `APIKEY ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream, stream_options: stream ? { include_usage: true } : undefined, max_tokens: 24, messages: [{ role: "user", content: "Tell me something about rate limits and token budgets." }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

function series(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out = [];
  for (const line of text.split("\n")) {
    const m = new RegExp(`^${name}\\{(.*)\\} ([0-9.e+-]+)$`).exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of m[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

async function main(): Promise<void> {
  const statuses: Record<string, Record<number, number>> = {};
  const jobs: Array<Promise<void>> = [];
  for (const user of users) {
    jobs.push((async () => {
      for (let i = 0; i < perUser; i++) {
        // Most traffic goes to one model, so the free tier (5 requests per minute) runs into its limit.
        const status = await send(user.key, models[i % 4 === 3 ? 1 : 0], i % 3 === 2);
        (statuses[user.name] ??= {})[status] = (statuses[user.name][status] ?? 0) + 1;
      }
    })());
  }
  jobs.push((async () => { const s = await send("not-a-key", models[0], false); (statuses["(bad key)"] ??= {})[s] = 1; })());
  await Promise.all(jobs);
  console.log("\nResponses per user (HTTP status: count):");
  for (const [name, counts] of Object.entries(statuses)) console.log(`  ${name.padEnd(10)} ${Object.entries(counts).map(([s, n]) => `${s}: ${n}`).join("  ")}`);

  await new Promise((r) => setTimeout(r, 200)); // the token Reports are fire-and-forget
  const text = await (await fetch(limitadorMetrics)).text();
  const rows = new Map<string, { calls: number; hits: number; limited: number }>();
  const add = (name: string, field: "calls" | "hits" | "limited") => {
    for (const s of series(text, name)) {
      const key = [s.labels.user ?? "-", s.labels.tier ?? "-", s.labels.model ?? "-"].join("\u0000");
      const row = rows.get(key) ?? { calls: 0, hits: 0, limited: 0 };
      row[field] += s.value;
      rows.set(key, row);
    }
  };
  add("authorized_calls", "calls");
  add("authorized_hits", "hits");
  add("limited_calls", "limited");
  console.log(`\nLimitador (${limitadorMetrics}), per user / tier / model:`);
  console.log(`  ${"user".padEnd(8)} ${"tier".padEnd(11)} ${"model".padEnd(30)} ${"authorized_calls".padStart(16)} ${"authorized_hits".padStart(15)} ${"limited_calls".padStart(13)}`);
  for (const [key, r] of [...rows.entries()].sort()) {
    const [user, tier, model] = key.split("\u0000");
    console.log(`  ${user.padEnd(8)} ${tier.padEnd(11)} ${model.padEnd(30)} ${String(r.calls).padStart(16)} ${String(r.hits).padStart(15)} ${String(r.limited).padStart(13)}`);
  }
  console.log("  (authorized_hits adds request hits and reported tokens, as Limitador does for one namespace)");

  const admin = await (await fetch(adminMetrics)).text();
  console.log(`\nGateway filter metrics (${adminMetrics}):`);
  for (const name of ["inference_model_request_total", "inference_model_rate_limited_total", "inference_model_input_tokens_sum", "inference_model_output_tokens_sum"]) {
    // Summed over response_code and target_model_name: one line per model and tier.
    const sums = new Map<string, number>();
    for (const s of series(admin, name)) {
      const key = `model_name="${s.labels.model_name}",tier="${s.labels.tier}"`;
      sums.set(key, (sums.get(key) ?? 0) + s.value);
    }
    for (const [labels, value] of sums) console.log(`  ${name}{${labels}} ${value}`);
  }
}

main().catch((err) => {
  console.error(`traffic failed: ${err.message} (is the stack running? npm start)`);
  process.exit(1);
});
