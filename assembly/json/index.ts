export { JsonKind, JsonMember, JsonValue, jsonPointer, jsonAt } from "./value";
export { parseJson, parseSelected, JsonParseResult } from "./parse";
export { JsonSelection } from "./selection";
