// An Authorino stand-in for the local stack: envoy.service.auth.v3.Authorization/Check with API
// keys from a YAML file. `Authorization: APIKEY <key>` (Authorino's convention) or `Bearer <key>`;
// a known key → OK with dynamic_metadata {identity: {userid, tier, ...}}; a missing or unknown key
// → denied 401. Serves the filter's own auth action and the gateway's ext_authz stage alike.
import * as grpc from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { authorizationService } from "../proto/index.js";

export interface ApiKey { key: string; userid: string; tier: string; [field: string]: string }

export function loadApiKeys(file: string): ApiKey[] {
  const data = parse(readFileSync(file, "utf8"));
  if (!Array.isArray(data)) throw new Error(`${file}: expected a YAML list of {key, userid, tier}`);
  return data.map((entry: any, i: number) => {
    for (const field of ["key", "userid", "tier"]) {
      if (typeof entry?.[field] !== "string" || entry[field] === "") throw new Error(`${file}: entry [${i}] needs a non-empty string '${field}'`);
    }
    return Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, String(v)])) as ApiKey;
  });
}

/** google.protobuf.Struct in protobufjs's JSON-ish object form (camelCase Value fields). */
function struct(obj: Record<string, unknown>): any {
  const value = (v: unknown): any => (v !== null && typeof v === "object" ? { structValue: struct(v as Record<string, unknown>) } : { stringValue: String(v) });
  return { fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, value(v)])) };
}

export function keyFrom(headers: Record<string, string>): string | null {
  const auth = headers.authorization ?? "";
  const m = /^(?:APIKEY|Bearer)\s+(\S+)$/i.exec(auth.trim());
  return m ? m[1] : null;
}

export function checkApiKey(keys: ApiKey[], headers: Record<string, string>): { ok: true; identity: Record<string, string> } | { ok: false; reason: string } {
  const key = keyFrom(headers);
  if (key === null) return { ok: false, reason: "credential not found" };
  const entry = keys.find((k) => k.key === key);
  if (!entry) return { ok: false, reason: "the API Key provided is invalid" };
  const { key: _secret, ...identity } = entry;
  return { ok: true, identity };
}

export async function startAuthorino(opts: { port: number; host?: string; keys: () => ApiKey[]; log?: (l: string) => void }) {
  const server = new grpc.Server();
  server.addService(authorizationService().service, {
    Check: (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      const headers: Record<string, string> = call.request?.attributes?.request?.http?.headers ?? {};
      const result = checkApiKey(opts.keys(), headers);
      if (!result.ok) {
        opts.log?.(`denied ${call.request?.attributes?.request?.http?.path ?? ""}: ${result.reason}`);
        return callback(null, {
          status: { code: 16, message: result.reason },
          denied_response: {
            status: { code: 401 },
            headers: [{ header: { key: "WWW-Authenticate", value: 'APIKEY realm="maas"' } }, { header: { key: "X-Ext-Auth-Reason", value: result.reason } }],
            body: "",
          },
        });
      }
      callback(null, { status: { code: 0 }, ok_response: { headers: [] }, dynamic_metadata: struct({ identity: result.identity }) });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host ?? "127.0.0.1"}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}
