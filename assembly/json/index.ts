export { JsonKind, JsonMember, JsonValue, jsonPointer } from "./value";
export { parseJson, parseSelected, JsonParseResult } from "./parse";
export { JsonSelection } from "./selection";
