// The Authorino stand-in as its own process (so the soak can kill it): PORT API_KEYS_FILE.
import { startAuthorino, loadApiKeys } from "../authorino.js";

const [port, keysFile] = process.argv.slice(2);
const keys = loadApiKeys(keysFile);
const server = await startAuthorino({ port: Number(port), keys: () => keys });
console.log(`authorino listening on 127.0.0.1:${port}`); // the soak's readiness line (processes.ts)
process.on("SIGTERM", () => { server.close().then(() => process.exit(0)); });
