import { z } from "zod";
import type { Strategy, StrategyEnv } from "./strategy.js";
import type { Target } from "../gateway/target.js";
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
 * The key that has rested longest. A key rests from the end of its last call (or from its pick,
 * if the call has not reported yet); a key with a call in flight is not resting at all. Keys used
 * within `window_s` are thus skipped while any other key has rested, which spreads calls over keys
 * whose quotas reset over time. Never-used keys have rested forever and go first, in pool order
 * rotated per pick.
 */
export class LeastRecentlyUsed implements Strategy {
  readonly name = "least-recently-used";
  /** Monotonic ms of the last pick or result per pool index; -Infinity = never used. */
  private readonly usedAt: Float64Array;
  private rotation = 0;

  constructor(
    pool: readonly Target[],
    private readonly windowMs: number,
    private readonly fallbackWhenNoneRested: boolean,
    private readonly now: () => number,
  ) {
    this.usedAt = new Float64Array(pool.length).fill(-Infinity);
  }

  pick(eligible: readonly Target[]): Target | undefined {
    const n = eligible.length;
    if (n === 0) return undefined;
    const now = this.now();
    const start = this.rotation % n;
    this.rotation = (this.rotation + 1) & 0x3fffffff;
    let best = eligible[start]!;
    let bestRest = this.restOf(best, now);
    for (let j = 1; j < n; j++) {
      let i = start + j;
      if (i >= n) i -= n;
      const t = eligible[i]!;
      const rest = this.restOf(t, now);
      if (rest > bestRest) {
        best = t;
        bestRest = rest;
      }
    }
    if (bestRest < this.windowMs && this.fallbackWhenNoneRested) return undefined;
    this.usedAt[best.index] = now;
    return best;
  }

  onResult(target: Target): void {
    const now = this.now();
    if (now > this.usedAt[target.index]!) this.usedAt[target.index] = now;
  }

  /** How long the target has been idle, in ms; -1 while a call is in flight. */
  private restOf(t: Target, now: number): number {
    return t.stats.inFlight > 0 ? -1 : now - this.usedAt[t.index]!;
  }

  status(): Record<string, unknown> {
    return { window_s: this.windowMs / 1000, none_rested: this.fallbackWhenNoneRested ? "fallback" : "oldest" };
  }

  targetStatus(target: Target): Record<string, unknown> {
    const rest = this.restOf(target, this.now());
    return { rested_ms: rest === Infinity ? null : Math.round(rest), rested: rest >= this.windowMs };
  }
}

export function createLeastRecentlyUsed(pool: readonly Target[], options: Record<string, unknown>, env?: StrategyEnv): Strategy {
  const o = parseOptions("least-recently-used", optionsSchema, options);
  return new LeastRecentlyUsed(pool, o.window_s * 1000, o.none_rested === "fallback", clockOf(env));
}
