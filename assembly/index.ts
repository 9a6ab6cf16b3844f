// The filter's entry: installs the plugin's root context and exports the proxy-wasm callbacks.
import { setRootContextFactory, RootContext } from "./abi";
import { Plugin } from "./filter/plugin";
import "./abi/abort";
export * from "./abi/exports";

setRootContextFactory((contextId: u32): RootContext => new Plugin(contextId));
