import { z } from "zod";
import type { Candidate, Strategy, StrategyEnv } from "./strategy.js";
import { nonNegative, parseOptions } from "./options.js";
import { clockOf } from "./clock.js";

const optionsSchema = z
  .object({
    /** A key counts as rested once it has been idle this long (e.g. the provider's quota window). */
    window_s: nonNegative().default(60),
    /**
     * When no eligible key has rested a full window: "oldest" still picks the key idle longest;
     * "fallback" returns no decision, handing the pick to the route's fallback_strategy.
     */
    none_rested: z.enum(["oldest", "fallback"], { error: "must be oldest or fallback" }).default("oldest"),
  })
  .strict();

/**
 * The key that has rested longest. A key rests from the end of its last call; a key with a call
 * in flight is not resting at all (it ranks after every idle key). Keys used within `window_s`
 * are thus skipped while any other key has rested, which spreads calls over keys whose quotas
 * reset over time. Never-used keys have rested forever and go first, in pool order rotated per
 * pick; ties rotate the same way.
 *
 * "Rested longest" is "used earliest", so the pick compares stamps and seldom needs the clock: the
 * picked key is stamped with the latest time the strategy has seen (it is now the most recently
 * used), and its result stamps the true end. none_rested: fallback reads the clock on every pick,
 * to measure the window.
 */
export class LeastRecentlyUsed<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "least-recently-used";
  /** Clock ms of the last use (pick or result) per pool index; -Infinity = never used. */
  private readonly usedAt: Float64Array;
  /** The latest clock reading seen (results, fallback-mode picks). */
  private latest = -Infinity;
  private rotation = 0;

  constructor(
    pool: readonly T[],
    private readonly windowMs: number,
    private readonly fallbackWhenNoneRested: boolean,
    private readonly now: () => number,
  ) {
    this.usedAt = new Float64Array(pool.length).fill(-Infinity);
  }

  pick(eligible: readonly T[]): T | undefined {
    const n = eligible.length;
    if (n === 0) return undefined;
    const usedAt = this.usedAt;
    const start = this.rotation % n;
    this.rotation = (this.rotation + 1) & 0x3fffffff;
    const first = eligible[start];
    if (first === undefined) return undefined;
    let best = first;
    let bestBusy = best.stats.inFlight > 0;
    let bestUsed = usedAt[best.index] ?? -Infinity;
    for (let j = 1; j < n; j++) {
      let i = start + j;
      if (i >= n) i -= n;
      const t = eligible[i];
      if (t === undefined) continue;
      const busy = t.stats.inFlight > 0;
      const used = usedAt[t.index] ?? -Infinity;
      if (busy === bestBusy ? used < bestUsed : bestBusy) {
        best = t;
        bestBusy = busy;
        bestUsed = used;
      }
    }
    if (this.fallbackWhenNoneRested) {
      const now = this.now();
      if (bestBusy || now - bestUsed < this.windowMs) return undefined;
      this.latest = now;
    }
    // Stamp it as the most recently used until its result lands. The clock is read only when the
    // latest reading does not already place it after its old stamp (the first picks, ties).
    let stamp = this.latest;
    if (!(stamp > bestUsed)) {
      stamp = this.now();
      if (stamp > this.latest) this.latest = stamp;
    }
    usedAt[best.index] = stamp > bestUsed ? stamp : bestUsed;
    return best;
  }

  onResult(target: T): void {
    const now = this.now();
    if (now > this.latest) this.latest = now;
    if (now > (this.usedAt[target.index] ?? -Infinity)) this.usedAt[target.index] = now;
  }

  status(): Record<string, unknown> {
    return { window_s: this.windowMs / 1000, none_rested: this.fallbackWhenNoneRested ? "fallback" : "oldest" };
  }

  targetStatus(target: T): Record<string, unknown> {
    const busy = target.stats.inFlight > 0;
    const rest = this.now() - (this.usedAt[target.index] ?? -Infinity);
    return { rested_ms: busy ? 0 : rest === Infinity ? null : Math.round(rest), rested: !busy && rest >= this.windowMs };
  }
}

export function createLeastRecentlyUsed<T extends Candidate>(
  pool: readonly T[],
  options: Record<string, unknown>,
  env?: StrategyEnv,
): Strategy<T> {
  const o = parseOptions("least-recently-used", optionsSchema, options);
  return new LeastRecentlyUsed(pool, o.window_s * 1000, o.none_rested === "fallback", clockOf(env));
}
