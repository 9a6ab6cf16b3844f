// A MaaS configuration grown to `sets` action sets (one per model, each with auth, limit, token
// check and token report like local/config/plugin-config.json) and `labels` requestData labels:
// how the cost of a request grows with the size of the configuration it does not use.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const MAAS = fileURLToPath(new URL("../local/config/plugin-config.json", import.meta.url));
const TEMPLATE_MODEL = "facebook-opt-125m-simulated";

/** Label expressions, in order; the first three are MaaS's own. */
const LABELS: Array<[string, string]> = [
  ["user", "auth.identity.userid"],
  ["tier", "auth.identity.tier"],
  ["model", "request.url_path.split('/')[2]"],
  ["method", "request.method"],
  ["host", "request.host"],
  ["scheme", "request.scheme"],
  ["path", "request.url_path"],
  ["client", "source.address"],
  ["content_type", "request.headers['content-type']"],
  ["account", "auth.identity.userid + '/' + auth.identity.tier"],
];

export function largeConfig(sets: number, labels: number): string {
  if (labels > LABELS.length) throw new Error(`at most ${LABELS.length} labels`);
  const maas = JSON.parse(readFileSync(MAAS, "utf8"));
  const template = JSON.stringify(maas.actionSets.find((s: any) => JSON.stringify(s).includes(`/llm/${TEMPLATE_MODEL}/`)));
  const actionSets = Array.from({ length: sets }, (_, i) => {
    const set = JSON.parse(template.split(TEMPLATE_MODEL).join(`model-${i}`));
    set.name = `model-${i}`;
    return set;
  });
  const requestData = Object.fromEntries(LABELS.slice(0, labels).map(([field, expr]) => [`metrics.labels.${field}`, expr]));
  return JSON.stringify({ ...maas, requestData, actionSets }, null, 2);
}
