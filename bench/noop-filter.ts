// The baseline for `npm run bench`: a filter that only passes requests through (same ABI layer).
import { setRootContextFactory, RootContext } from "../assembly/abi";
import "../assembly/abi/abort";
export * from "../assembly/abi/exports";

setRootContextFactory((id: u32): RootContext => new RootContext(id));
