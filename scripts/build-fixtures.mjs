// Builds the wasm fixtures the host suites load (tests/fixtures/*.ts → build/fixtures/*.wasm).
import asc from "assemblyscript/asc";

const common = ["--config", "tests/fixtures/asconfig.json", "--exportStart", "_initialize", "-O2"];
// The probe filter runs on the ABI layer with the filter's runtime (minimal: the ABI layer
// collects at callback ends); the CEL harness has its own exports, so it keeps the automatic one.
const incremental = ["--runtime", "incremental"];
const fixtures = [
  ["probe-filter", ["--runtime", "minimal", "--use", "abort=assembly/abi/abort/abortHandler"]],
  ["cel-harness", [...incremental, "--use", "abort=assembly/abi/abort/abortHandler"]],
  ["imports-env-abort", incremental],
  ["old-sdk-grpc-call", [...incremental, "--use", "abort="]],
  ["clear-route-cache", [...incremental, "--use", "abort="]],
  ["no-malloc", [...incremental, "--use", "abort="]],
  ["restricted-init", [...incremental, "--use", "abort="]],
];

// The filter itself, with linear memory capped at 24 pages (1.5 MiB): out-of-memory behaviour.
{
  const { error, stderr } = await asc.main(["assembly/index.ts", "--config", "asconfig.json", "--target", "release", "--maximumMemory", "24", "--outFile", "build/fixtures/filter-24-pages.wasm"]);
  if (error) { console.error(stderr.toString()); console.error(`fixture filter-24-pages failed to build: ${error.message}`); process.exit(1); }
}

for (const [name, extra] of fixtures) {
  const { error, stderr } = await asc.main([`tests/fixtures/${name}.ts`, "--outFile", `build/fixtures/${name}.wasm`, ...common, ...extra]);
  if (error) {
    console.error(stderr.toString());
    console.error(`fixture ${name} failed to build: ${error.message}`);
    process.exit(1);
  }
}
console.log(`built ${fixtures.length + 1} fixtures into build/fixtures/`);
