export { JsonKind, JsonMember, JsonValue, jsonPointer } from "./value";
export { parseJson, JsonParseResult } from "./parse";
