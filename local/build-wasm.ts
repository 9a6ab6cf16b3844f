// Builds build/filter.wasm (release) when it is missing or older than the AssemblyScript sources.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const FILTER_WASM = join(ROOT, "build/filter.wasm");

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestSource(p) : st.mtimeMs);
  }
  return newest;
}

export async function ensureFilterBuilt(log: (line: string) => void): Promise<string> {
  if (existsSync(FILTER_WASM) && statSync(FILTER_WASM).mtimeMs >= newestSource(join(ROOT, "assembly"))) return FILTER_WASM;
  log("building build/filter.wasm (AssemblyScript, release)…");
  const asc = await import("assemblyscript/asc");
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const { error, stderr } = await asc.main(["assembly/index.ts", "--target", "release"]);
    if (error) throw new Error(`the filter did not build:\n${stderr.toString()}`);
  } finally {
    process.chdir(cwd);
  }
  return FILTER_WASM;
}
