// Paths of the built wasm artifacts (npm test builds them first: see package.json pretest).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export function fixtureWasm(name: string): Uint8Array {
  return readFileSync(`${root}build/fixtures/${name}.wasm`);
}

export function filterWasm(): Uint8Array {
  return readFileSync(`${root}build/filter.wasm`);
}

export const GET = (path: string, extra: Array<[string, string]> = []): Array<[string, string]> =>
  [[":method", "GET"], [":path", path], [":authority", "api.example.com"], [":scheme", "http"], ...extra];
