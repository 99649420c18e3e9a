/** Waiting in tests: a plain sleep, and one polling loop that either answers (`until`) or throws (`eventually`). */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until fn() is true or the time is up; resolves to the last answer (checked once more at the deadline). */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(stepMs);
  }
  return fn();
}

/** Polls every 10 ms until check() is true; throws "timed out waiting for <what>" after timeoutMs. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = "condition"): Promise<void> {
  if (!(await until(check, timeoutMs, 10))) throw new Error(`timed out waiting for ${what}`);
}
