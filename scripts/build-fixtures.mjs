// Builds the wasm fixtures the host suites load (tests/fixtures/*.ts → build/fixtures/*.wasm).
import asc from "assemblyscript/asc";

const common = ["--config", "tests/fixtures/asconfig.json", "--runtime", "incremental", "--exportStart", "_initialize", "-O2"];
const fixtures = [
  ["probe-filter", ["--use", "abort=assembly/abi/abort/abortHandler"]],
  ["cel-harness", ["--use", "abort=assembly/abi/abort/abortHandler"]],
  ["imports-env-abort", []],
  ["old-sdk-grpc-call", ["--use", "abort="]],
  ["clear-route-cache", ["--use", "abort="]],
  ["no-malloc", ["--use", "abort="]],
  ["restricted-init", ["--use", "abort="]],
];

for (const [name, extra] of fixtures) {
  const { error, stderr } = await asc.main([`tests/fixtures/${name}.ts`, "--outFile", `build/fixtures/${name}.wasm`, ...common, ...extra]);
  if (error) {
    console.error(stderr.toString());
    console.error(`fixture ${name} failed to build: ${error.message}`);
    process.exit(1);
  }
}
console.log(`built ${fixtures.length} fixtures into build/fixtures/`);
