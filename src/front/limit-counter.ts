import type { LimitScope, Tightest, Verdict } from "./limit-scope.js";

/**
 * Where the inbound limits' windows and buckets are counted: in this process (`localCounter`, the
 * scopes' own SlidingWindows and TokenBuckets) or in Redis for every instance of the gateway
 * together (RedisLimits, redis-limits.ts). One admission is one call, over every scope the request
 * meets (its client key's, its route's, the gateway's; any may be absent):
 *
 *   take(k, r, g, tokens)   check every limit; take from all of them only if all allow
 *     refused   → `v` names the first limit refused (key before route before global; rps, rpm,
 *                 tpm, then parallel) and the longest wait; nothing was taken
 *     admitted  → `t` holds the tightest limit left (the RateLimit header); each scope's
 *                 in-flight count is one more (max_parallel; the request's end gives it back)
 *     false     → the counter could not answer (Redis down or slow): nothing was taken, and the
 *                 caller counts the request in this process instead
 *   adjust(scope, n)         the scope's tpm bucket corrected by n tokens once the answer's usage
 *                            is known (n > 0 gives back, n < 0 takes more)
 */
export interface LimitCounter {
  take(
    k: LimitScope | undefined,
    r: LimitScope | undefined,
    g: LimitScope | undefined,
    tokens: number,
    now: number,
    v: Verdict,
    t: Tightest,
  ): boolean | Promise<boolean>;
  adjust(scope: LimitScope, n: number, now: number): void;
}

/** The limits counted by this process alone: synchronous, allocation-free, always answers. */
class LocalCounter implements LimitCounter {
  take(
    k: LimitScope | undefined,
    r: LimitScope | undefined,
    g: LimitScope | undefined,
    tokens: number,
    now: number,
    v: Verdict,
    t: Tightest,
  ): true {
    k?.check(tokens, now, v);
    r?.check(tokens, now, v);
    g?.check(tokens, now, v);
    if (v.scope !== null) return true;
    k?.take(tokens, now, t);
    r?.take(tokens, now, t);
    g?.take(tokens, now, t);
    return true;
  }

  adjust(scope: LimitScope, n: number, now: number): void {
    scope.tpm?.adjust(n, now);
  }
}

/** The one local counter (it holds no state: the scopes do). */
export const localCounter = new LocalCounter();
