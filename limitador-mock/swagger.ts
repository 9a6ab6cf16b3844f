// GET /api/spec: a Swagger 2.0 description of the HTTP API, as Limitador serves one (it generates
// its own with paperclip). Written here from the routes and JSON shapes this mock implements.
const string = { type: "string" };
const u64 = { type: "integer", format: "int64" };
const nullable = (schema: object) => schema;

const limit = {
  type: "object",
  properties: {
    id: nullable(string), namespace: string, max_value: u64, seconds: u64, name: nullable(string),
    conditions: { type: "array", items: string }, variables: { type: "array", items: string },
  },
  required: ["conditions", "max_value", "namespace", "seconds", "variables"],
};

const checkAndReportInfo = {
  type: "object",
  properties: { namespace: string, values: { type: "object", additionalProperties: string }, delta: u64, response_headers: string },
  required: ["delta", "namespace", "values"],
};

const errors = { 429: { description: "Too Many Requests" }, 500: { description: "Internal Server Error" } };
const body = [{ in: "body", name: "body", required: true, schema: { $ref: "#/definitions/CheckAndReportInfo" } }];
const namespace = [{ in: "path", name: "namespace", required: true, type: "string" }];

export function swaggerSpec() {
  return {
    swagger: "2.0",
    definitions: {
      CheckAndReportInfo: checkAndReportInfo,
      Counter: {
        type: "object",
        properties: { limit: { $ref: "#/definitions/Limit" }, set_variables: { type: "object", additionalProperties: string }, remaining: u64, expires_in_seconds: u64 },
        required: ["limit", "set_variables"],
      },
      Limit: limit,
      Status: {
        type: "object",
        properties: { started_at: { type: "string", format: "date-time" }, config_applied_at: { type: "string", format: "date-time" }, config_version: u64, config_err_since: u64 },
        required: ["config_applied_at", "config_err_since", "config_version", "started_at"],
      },
    },
    paths: {
      "/check": { post: { parameters: body, responses: { 200: { description: "OK" }, ...errors } } },
      "/check_and_report": { post: { parameters: body, responses: { 200: { description: "OK" } } } },
      "/counters/{namespace}": { get: { responses: { 200: { description: "OK", schema: { type: "array", items: { $ref: "#/definitions/Counter" } } }, ...errors } }, parameters: namespace },
      "/limits/{namespace}": { get: { responses: { 200: { description: "OK", schema: { type: "array", items: { $ref: "#/definitions/Limit" } } }, ...errors } }, parameters: namespace },
      "/metrics": { get: { responses: { 200: { description: "OK", schema: string } } } },
      "/report": { post: { parameters: body, responses: { 200: { description: "OK" }, ...errors } } },
      "/status": { get: { responses: { 200: { description: "OK", schema: { $ref: "#/definitions/Status" } } } } },
    },
    info: { version: "", title: "" },
  };
}
