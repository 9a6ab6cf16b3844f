// Real Redis and Prometheus from Debian packages, on free loopback ports, for the suites that
// need them. Missing binaries give a clear skip reason (CI installs both: see .ci/run).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unusedAddress } from "./raw-grpc-server.js";

/** A skip reason when `binary` is absent; in CI (REQUIRE_SERVICES=1) its absence is an error instead. */
export function missing(binary: string, pkg: string): string | false {
  const found = spawnSync("sh", ["-c", `command -v ${binary}`]).status === 0;
  if (found) return false;
  if (process.env.REQUIRE_SERVICES) throw new Error(`${binary} is required here (REQUIRE_SERVICES is set): apt-get install -y ${pkg}`);
  return `${binary} is not installed (apt-get install -y ${pkg}); CI installs it`;
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${ms} ms`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = Number((await unusedAddress()).split(":")[1]);
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const net = await import("node:net");
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => { s.write("PING\r\n"); });
    s.on("data", (d) => { s.destroy(); resolve(d.toString().startsWith("+PONG")); });
    s.on("error", () => resolve(false));
  }), "redis-server");
  return { url: `redis://127.0.0.1:${port}`, stop: stopper(child) };
}

export async function startPrometheus(targets: string[], metricsPath = "/metrics"): Promise<{ url: string; query(q: string): Promise<any[]>; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "prometheus-"));
  const port = Number((await unusedAddress()).split(":")[1]);
  const config = join(dir, "prometheus.yml");
  writeFileSync(config, [
    "global:",
    "  scrape_interval: 1s",
    "scrape_configs:",
    "  - job_name: test",
    `    metrics_path: ${metricsPath}`,
    "    static_configs:",
    `      - targets: [${targets.map((t) => `'${t}'`).join(", ")}]`,
    "",
  ].join("\n"));
  const child = spawn("prometheus", [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, "prometheus");
  return {
    url,
    query: async (q: string) => {
      const res = await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)).json();
      if (res.status !== "success") throw new Error(`PromQL failed: ${JSON.stringify(res)}`);
      return res.data.result;
    },
    stop: stopper(child),
  };
}

/** Polls a PromQL query until `accept` is satisfied (scrapes happen every second). */
export async function promqlEventually(p: { query(q: string): Promise<any[]> }, q: string, accept: (r: any[]) => boolean, ms = 30000): Promise<any[]> {
  const end = Date.now() + ms;
  let last: any[] = [];
  while (Date.now() < end) {
    last = await p.query(q);
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`PromQL ${q} never matched; last result ${JSON.stringify(last)}`);
}
