/**
 * The retry decisions of one route, prepared once: which outcome kinds retry and how long to wait
 * before the next attempt (the retry budget is a policy of its own, retry-budget.ts).
 *
 * "Fail over first": when the next attempt goes to a target this request has not tried, it
 * goes at once; the backoff (or the upstream's Retry-After) only applies when the same target
 * is tried again. A Retry-After longer than max_retry_after_ms is not waited for.
 */
import type { RetryPolicyConfig } from "../config/resilience-schema.js";
import { OUTCOME_KINDS, type OutcomeKind } from "../core/outcome.js";
import { type Backoff, type Random, createBackoff } from "./backoff.js";

/** delayBefore's answer when the wait would exceed max_retry_after_ms: stop instead. */
export const DONT_WAIT = -1;

export class RetryPolicy {
  readonly attempts: number;
  readonly backoff: Backoff;
  private readonly retryOn: boolean[];
  private readonly maxRetryAfterMs: number;

  constructor(config: RetryPolicyConfig, random: Random = Math.random) {
    this.attempts = config.attempts;
    this.backoff = createBackoff(config.backoff, random);
    this.retryOn = OUTCOME_KINDS.map((k) => (config.retry_on as readonly string[]).includes(k));
    this.maxRetryAfterMs = config.max_retry_after_ms;
  }

  /** Is this kind worth another attempt (config retry_on)? */
  retries(kind: OutcomeKind): boolean {
    return this.retryOn[KIND_INDEX[kind]] ?? false;
  }

  /**
   * Ms to wait before retry number `retry` (1 = the second attempt), or DONT_WAIT.
   * sameTarget: the next attempt goes to a target this request already tried (every eligible
   * one was tried). retryAtMs: the last outcome's Outcome.retryAtMs (0 = none). prevMs: the
   * delay returned for the previous retry of this request (decorrelated jitter needs it).
   */
  delayBefore(retry: number, sameTarget: boolean, retryAtMs: number, now: number, prevMs = 0): number {
    if (!sameTarget) return 0;
    const wait = retryAtMs > now ? retryAtMs - now : 0;
    if (wait > this.maxRetryAfterMs) return DONT_WAIT;
    const d = this.backoff.delay(retry, prevMs > 0 ? prevMs : undefined);
    return d > wait ? d : wait;
  }
}

const KIND_INDEX = Object.fromEntries(OUTCOME_KINDS.map((k, i) => [k, i])) as Record<OutcomeKind, number>;
