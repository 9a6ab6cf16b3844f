// The CEL subset the filter evaluates (design §3.2).
export { Value, Kind, CelMap, valuesEqual } from "./value";
export { Resolver, Scope } from "./resolver";
export { AttrPath, attrPath, attrPathCount, attrPathById } from "./attr-path";
export { Expression, CompileResult, compileCel } from "./expression";
export { toStringValue } from "./functions";
export { formatDouble } from "./strings";
