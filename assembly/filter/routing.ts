// Which action set applies to a request: the most specific hostname entry (exact beats wildcard,
// longer wildcard beats shorter, "*" last) selects the candidates, in config order; the first whose
// route predicates all hold wins. No fall-back to a less specific hostname (wasm-shim's trie).
import { ActionSet } from "./config";

export class HostIndex {
  private exact: Map<string, Array<ActionSet>> = new Map();
  /** Wildcard suffixes (".example.com") with their sets, longest first. */
  private wildcards: Array<string> = [];
  private wildcardSets: Map<string, Array<ActionSet>> = new Map();
  private catchAll: Array<ActionSet> = [];

  constructor(sets: Array<ActionSet>) {
    for (let i = 0; i < sets.length; i++) {
      const set = sets[i];
      for (let h = 0; h < set.hostnames.length; h++) {
        const host = set.hostnames[h];
        if (host == "*") this.catchAll.push(set);
        else if (host.startsWith("*.")) {
          const suffix = host.substring(1);
          if (!this.wildcardSets.has(suffix)) { this.wildcardSets.set(suffix, []); this.wildcards.push(suffix); }
          this.wildcardSets.get(suffix).push(set);
        } else {
          if (!this.exact.has(host)) this.exact.set(host, []);
          this.exact.get(host).push(set);
        }
      }
    }
    this.wildcards.sort((a: string, b: string): i32 => b.length - a.length);
  }

  /** Candidate action sets for a Host/:authority value (port stripped, case-insensitive). */
  candidates(authority: string): Array<ActionSet> {
    if (this.exact.size == 0 && this.wildcards.length == 0) return this.catchAll; // "*" only: the host does not matter
    const host = normalizeHost(authority);
    if (this.exact.has(host)) return this.exact.get(host);
    for (let i = 0; i < this.wildcards.length; i++) {
      const suffix = this.wildcards[i];
      if (host.length > suffix.length && host.endsWith(suffix)) return this.wildcardSets.get(suffix);
    }
    return this.catchAll;
  }
}

/** "API.Example.com:8080" → "api.example.com"; "[::1]:80" → "[::1]". */
export function normalizeHost(authority: string): string {
  let host = authority;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close > 0) host = host.substring(0, close + 1);
  } else {
    const colon = host.indexOf(":");
    if (colon >= 0) host = host.substring(0, colon);
  }
  if (host.endsWith(".")) host = host.substring(0, host.length - 1);
  return host.toLowerCase();
}
