#!/usr/bin/env node
// `npx limitador-mock`: runs the mock from one JavaScript bundle (build/limitador-mock.mjs) that
// esbuild makes from the TypeScript sources whenever one of them is newer, so a start costs no
// TypeScript compilation (Limitador itself is up in about 0.2 s). Without esbuild, tsx runs the sources.
import { readdirSync, renameSync, statSync } from "node:fs";

const root = new URL("../", import.meta.url);
const bundle = new URL("build/limitador-mock.mjs", root);
const banner = "import { createRequire as __limitadorMockRequire } from 'node:module'; const require = __limitadorMockRequire(import.meta.url);";

function newestSource(dir = new URL("limitador-mock/", root)) {
  // package.json (dependencies) and this file (the build options) count as sources too
  let newest = Math.max(statSync(new URL("package.json", root)).mtimeMs, statSync(new URL(import.meta.url)).mtimeMs);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(new URL(`${entry.name}/`, dir)));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(new URL(entry.name, dir)).mtimeMs);
  }
  return newest;
}

async function freshBundle() {
  try {
    if (statSync(bundle).mtimeMs >= newestSource()) return bundle;
  } catch { /* not built yet */ }
  try {
    const { build } = await import("esbuild");
    const tmp = new URL(`build/limitador-mock.${process.pid}.tmp.mjs`, root);
    await build({
      entryPoints: [new URL("limitador-mock/cli.ts", root).pathname], outfile: tmp.pathname, bundle: true, platform: "node", format: "esm",
      target: "node20", external: ["@grpc/*", "ioredis"], banner: { js: banner }, logLevel: "error",
      minifyWhitespace: true, minifySyntax: true, // less to parse at start; names kept for --cpu-prof
    });
    renameSync(tmp, bundle); // atomic: processes starting at the same time never read half a bundle
    return bundle;
  } catch (err) {
    if (process.env.LIMITADOR_MOCK_DEBUG) console.error(`[limitador-mock] no bundle (${err.message}); running the sources through tsx`);
    return null;
  }
}

const built = await freshBundle();
let main;
if (built) ({ main } = await import(built.href));
else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("./cli.ts"));
}
const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
