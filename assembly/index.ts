// The filter's entry: installs the plugin's root context and exports the proxy-wasm callbacks.
export * from "./abi/exports";
import "./abi/abort";
