// Hot reload of the limits file: the parent directory is watched (so an editor's or a
// ConfigMap's atomic rename in the same directory is seen, unlike Limitador's issue #523);
// a good file replaces the limits and keeps surviving counters; a bad one keeps the old limits.
import { watch, readFileSync, realpathSync, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseLimits } from "./limits.js";
import type { RateLimiter } from "./limiter.js";

function timestamp(d: Date): string {
  return d.toISOString().replace("Z", "").replace(/\.(\d{3})$/, ".$1000000");
}

export class ReloadStatus {
  readonly startedAt = new Date();
  configAppliedAt = new Date();
  configVersion = 0;
  configErrSince = 0;
  json() {
    return { started_at: timestamp(this.startedAt), config_applied_at: timestamp(this.configAppliedAt), config_version: this.configVersion, config_err_since: this.configErrSince };
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
      status.configVersion++;
      status.configAppliedAt = new Date();
      status.configErrSince = 0;
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
