// The model simulator behind a fault injector: a request carrying `x-soak-reset: before-usage`
// or `after-usage` has its SSE stream cut (socket destroyed) after the second event or right
// after the usage event, as a model server that crashes mid-answer would.
import http from "node:http";
import { startModelSimulator } from "../model-simulator.js";

export async function startFaultyModel(models: string[]): Promise<{ port: number; resets: number; close(): Promise<void> }> {
  const sim = await startModelSimulator({ port: 0, models, latencyMs: 5, interTokenMs: 1 });
  const state = { resets: 0 };
  const server = http.createServer((req, res) => {
    const mode = req.headers["x-soak-reset"];
    const upstream = http.request({ host: "127.0.0.1", port: sim.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (mode !== "before-usage" && mode !== "after-usage") return void up.pipe(res);
      let events = 0;
      let pending = "";
      up.on("data", (chunk: Buffer) => {
        if (res.destroyed || up.destroyed) return;
        pending += chunk.toString("utf8");
        let end: number;
        while ((end = pending.indexOf("\n\n")) >= 0) {
          const event = pending.slice(0, end + 2);
          pending = pending.slice(end + 2);
          const cut = mode === "before-usage" ? events === 2 : event.includes('"usage"');
          events++;
          if (!cut) { res.write(event); continue; }
          state.resets++;
          up.destroy();
          // after-usage: the usage event is flushed to the gateway first, then the connection dies.
          if (mode === "after-usage") res.write(event, () => setTimeout(() => res.destroy(), 20));
          else res.destroy();
          return;
        }
      });
      up.on("end", () => { if (!res.destroyed && !up.destroyed) res.end(pending); });
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as import("node:net").AddressInfo).port,
    get resets() { return state.resets; },
    close: async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); await sim.close(); },
  };
}
