// Hot reload of the limits file: the parent directory is watched (so an editor's or a
// ConfigMap's atomic rename in the same directory is seen, unlike Limitador's issue #523);
// a good file replaces the limits and keeps surviving counters; a bad one keeps the old limits.
import { watch, readFileSync, realpathSync, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseLimits } from "./limits.js";
import type { RateLimiter } from "./limiter.js";

const EPOCH_NS_AT_START = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now, in nanoseconds since the epoch (Limitador's clock has nanoseconds; Date has milliseconds). */
function nowNs(): bigint {
  return EPOCH_NS_AT_START + process.hrtime.bigint();
}

/** chrono's NaiveDateTime as JSON: UTC without a zone, the fraction in 3, 6 or 9 digits as needed. */
export function chronoTimestamp(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const nanos = ns % 1_000_000_000n;
  if (nanos === 0n) return base;
  const digits = nanos.toString().padStart(9, "0");
  return `${base}.${nanos % 1_000_000n === 0n ? digits.slice(0, 3) : nanos % 1000n === 0n ? digits.slice(0, 6) : digits}`;
}

export class ReloadStatus {
  readonly startedAt = nowNs();
  configAppliedAt = this.startedAt;
  configVersion = 0;
  configErrSince = 0;
  json() {
    return { started_at: chronoTimestamp(this.startedAt), config_applied_at: chronoTimestamp(this.configAppliedAt), config_version: this.configVersion, config_err_since: this.configErrSince };
  }

  applied(): void {
    this.configVersion++;
    this.configAppliedAt = nowNs();
    this.configErrSince = 0;
  }
}

export function watchLimitsFile(file: string, limiter: RateLimiter, status: ReloadStatus, log: (line: string) => void): FSWatcher {
  const path = resolve(file);
  const name = basename(path);
  let lastText = readFileSync(path, "utf8");
  let lastReal = realpathSync(path);
  let timer: NodeJS.Timeout | null = null;

  const reload = async () => {
    timer = null;
    let text: string, real: string;
    try {
      text = readFileSync(path, "utf8");
      real = realpathSync(path);
    } catch (err) {
      return; // mid-rename: the next event brings the file back
    }
    if (text === lastText && real === lastReal) return;
    lastText = text;
    lastReal = real;
    try {
      await limiter.setLimits(parseLimits(text));
      status.applied();
      log(`limits reloaded from ${path} (version ${status.configVersion}, ${limiter.limits.length} limit(s))`);
    } catch (err) {
      status.configErrSince++;
      log(`Failed reloading limit file: ${(err as Error).message}`);
    }
  };

  const watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
    if (changed !== null && changed !== name && !String(changed).startsWith("..")) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, 50);
  });
  return watcher;
}
