// AssemblyScript's `abort` (failed assertion, out-of-bounds access, ...) would import env.abort,
// which Envoy does not provide. The build routes it here (--use abort=...): log, then trap, so
// the host applies its failure policy.
import { proxy_log } from "./imports";
import { LogLevel } from "./enums";

export function abortHandler(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text = "abort: " + (message !== null ? message : "") + " at " +
    (fileName !== null ? fileName : "?") + ":" + line.toString() + ":" + column.toString();
  const bytes = String.UTF8.encode(text);
  proxy_log(LogLevel.Critical, changetype<usize>(bytes), <usize>bytes.byteLength);
  unreachable();
}
