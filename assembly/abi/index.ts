// The proxy-wasm ABI 0.2.1 layer for AssemblyScript, as Envoy implements it. Usable on its own:
// extend RootContext/HttpContext, call setRootContextFactory at top level, and re-export
// `./exports` from the entry module.
export * from "./enums";
export * from "./pairs";
export * from "./property";
export * from "./hostcalls";
export { RootContext, HttpContext, LateCall, setRootContextFactory, RootContextFactory } from "./context";
export { utf8, fromUtf8 } from "./memory";
