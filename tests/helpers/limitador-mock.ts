// Starts limitador-mock in-process on free ports with a limits file written for the test.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLimitadorMock, type MockOptions } from "../../limitador-mock/server.js";
import { LimitadorClient } from "./limitador-client.js";

/** `t` ties the cleanup to the test, so a failing assertion cannot leave servers running. */
export async function startMock(t: { after(fn: () => unknown): void }, limitsYaml: string, opts: Partial<MockOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "limitador-mock-"));
  const limitsFile = join(dir, "limits.yaml");
  writeFileSync(limitsFile, limitsYaml);
  const logs: string[] = [];
  const mock = await startLimitadorMock({ limitsFile, rlsIp: "127.0.0.1", rlsPort: 0, httpIp: "127.0.0.1", httpPort: 0, log: (l) => logs.push(l), ...opts });
  const client = new LimitadorClient(`127.0.0.1:${mock.grpcPort}`);
  const http = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${mock.httpPort}${path}`, init);
  let closed = false;
  const close = async () => { if (closed) return; closed = true; client.close(); await mock.close(); };
  t.after(close);
  return { mock, client, http, logs, dir, limitsFile, metrics: async () => (await http("/metrics")).text(), close };
}
