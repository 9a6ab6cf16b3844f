// The gateway (host/gateway.ts with build/filter.wasm) as its own process, so the soak measures
// its memory alone. Argument: JSON {port, adminPort, pluginConfigFile, upstreamUrl, limitador, authorino}.
import { readFileSync } from "node:fs";
import { startGateway } from "../../host/gateway.js";
import { ensureFilterBuilt } from "../build-wasm.js";

const o = JSON.parse(process.argv[2]);
const wasm = readFileSync(await ensureFilterBuilt(() => {}));
const gw = await startGateway({
  wasm, pluginConfig: readFileSync(o.pluginConfigFile, "utf8"), port: o.port, adminPort: o.adminPort, upstreamUrl: o.upstreamUrl,
  clusters: { "limitador": o.limitador, "kuadrant-ratelimit-service": o.limitador, "authorino": o.authorino, "kuadrant-auth-service": o.authorino },
  failurePolicy: "FAIL_CLOSED", logLevel: 4,
}).catch((err) => { console.error(err.message); process.exit(1); });
console.log(`gateway listening on ${gw.port}, admin ${gw.adminPort}`); // the soak's readiness line (processes.ts)
process.on("SIGTERM", () => { gw.close().then(() => process.exit(0)); });
