// Runs `npm start`'s program (local/start.ts) as a child process on free ports: the end-to-end
// suites talk to it over HTTP only.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unusedAddress } from "./raw-grpc-server.js";
import { withGenerousTimeouts } from "./filter-host.js";

const START = fileURLToPath(new URL("../../local/start.ts", import.meta.url));
const PLUGIN_CONFIG = fileURLToPath(new URL("../../local/config/plugin-config.json", import.meta.url));

/**
 * The stack's plugin configuration with generous service timeouts (written to a temporary file):
 * the 100 ms of the shipped file are what the operator generates, but on a busy machine a reply
 * can take longer, and then failureMode, not the limit, would answer. `edit` may change it first.
 */
export function generousPluginConfig(edit: (config: any) => void = () => {}): string {
  const config = JSON.parse(readFileSync(PLUGIN_CONFIG, "utf8"));
  edit(config);
  const file = join(mkdtempSync(join(tmpdir(), "stack-config-")), "plugin-config.json");
  writeFileSync(file, JSON.stringify(withGenerousTimeouts(config)));
  return file;
}

export async function startStackProcess(t: { after(fn: () => unknown): void }, extraArgs: string[] = []) {
  const free = async () => Number((await unusedAddress()).split(":")[1]);
  const ports = { gateway: await free(), admin: await free(), limitadorGrpc: await free(), limitadorHttp: await free(), authorino: await free(), model: await free(), dashboard: await free() };
  const args = [
    "--import", "tsx", START,
    "--gateway-port", String(ports.gateway), "--admin-port", String(ports.admin),
    "--limitador-grpc-port", String(ports.limitadorGrpc), "--limitador-http-port", String(ports.limitadorHttp),
    "--authorino-port", String(ports.authorino), "--model-port", String(ports.model), "--dashboard-port", String(ports.dashboard),
    ...(extraArgs.includes("--plugin-config") ? [] : ["--plugin-config", generousPluginConfig()]), ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => { output += d; });
  child.stderr.on("data", (d) => { output += d; });
  t.after(() => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGINT");
  }));
  const end = Date.now() + 60000;
  while (!output.includes("local stack is up")) {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}):\n${output}`);
    if (Date.now() > end) throw new Error(`the stack did not start within 60 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const gateway = `http://127.0.0.1:${ports.gateway}`;
  return {
    ports, gateway, child,
    output: () => output,
    chat: (key: string | null, model = "facebook-opt-125m-simulated", body: Record<string, unknown> = {}) => fetch(`${gateway}/llm/${model}/v1/chat/completions`, {
      method: "POST",
      headers: { ...(key ? { authorization: `APIKEY ${key}` } : {}), "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "Hello there" }], max_tokens: 8, ...body }),
    }),
    limitadorMetrics: async () => (await fetch(`http://127.0.0.1:${ports.limitadorHttp}/metrics`)).text(),
    gatewayMetrics: async () => (await fetch(`http://127.0.0.1:${ports.admin}/stats/prometheus`)).text(),
  };
}
