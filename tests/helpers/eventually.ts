// Waiting on a condition instead of a fixed sleep: fire-and-forget work (token Reports, scrapes)
// finishes when it finishes, and a busy machine only makes the wait longer, never the test red.

/** Polls `check` until it returns a value other than undefined/false, or throws after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
