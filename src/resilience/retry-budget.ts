/**
 * Finagle's retry budget: over the last ttl_s, retries may add at most percent % of the
 * requests plus a floor of min_per_sec × ttl_s (so a quiet route can still retry):
 *
 *   allowed = percent/100 × requests(ttl) + min_per_sec × ttl_s
 *   tryRetry: retries(ttl) + 1 ≤ allowed → count it, true; else false
 *
 * Counted in BUCKETS slices of the ttl with running totals: O(1) per call, no allocation.
 * Hedges are retries for this purpose (they add load the same way).
 */
import type { RetryBudgetConfig } from "../config/resilience-schema.js";
import type { Policy } from "./policy.js";

/** Slices of the ttl: coarse enough to be cheap, fine enough that expiry is smooth (1 s of 10). */
const BUCKETS = 10;

export interface RetryBudgetSnapshot {
  requests: number;
  retries: number;
  allowed: number;
}

/**
 * Its counters stay in this process (they move with every request; a shared budget would put a
 * store round trip on each): N processes each allow their own share of retries.
 */
export class RetryBudget implements Policy {
  readonly name = "retry_budget";
  private readonly requestsIn = new Int32Array(BUCKETS);
  private readonly retriesIn = new Int32Array(BUCKETS);
  private readonly sliceMs: number;
  private readonly ratio: number;
  private readonly floor: number;
  private readonly enabled: boolean;
  private head = -1;
  private requests = 0;
  private retries = 0;
  /** Retries refused since start: a metric worth watching (a storm was averted). */
  refused = 0;

  constructor(config: RetryBudgetConfig) {
    this.enabled = config.enabled;
    this.sliceMs = (config.ttl_s * 1000) / BUCKETS;
    this.ratio = config.percent / 100;
    this.floor = config.min_per_sec * config.ttl_s;
  }

  /** Every client request (not each retry) deposits here. */
  onRequest(now: number): void {
    const i = this.advance(now);
    this.requestsIn[i] = (this.requestsIn[i] ?? 0) + 1;
    this.requests++;
  }

  /** Asks to retry (or hedge) once; counts the retry when allowed. */
  tryRetry(now: number): boolean {
    if (!this.enabled) return true;
    const i = this.advance(now);
    if (this.retries + 1 > this.allowedNow()) {
      this.refused++;
      return false;
    }
    this.retriesIn[i] = (this.retriesIn[i] ?? 0) + 1;
    this.retries++;
    return true;
  }

  /** Retries still available right now (without consuming). */
  available(now: number): number {
    if (!this.enabled) return Infinity;
    this.advance(now);
    return Math.max(0, Math.floor(this.allowedNow() - this.retries));
  }

  status(now: number): Record<string, unknown> {
    return { ...this.toJSON(now), refused: this.refused };
  }

  toJSON(now?: number): RetryBudgetSnapshot {
    if (now !== undefined) this.advance(now);
    return { requests: this.requests, retries: this.retries, allowed: Math.floor(this.allowedNow()) };
  }

  private allowedNow(): number {
    return this.ratio * this.requests + this.floor;
  }

  /** Moves to now's slice, expiring the slices passed over (at most BUCKETS). */
  private advance(now: number): number {
    const b = Math.floor(now / this.sliceMs);
    if (this.head === -1) this.head = b;
    else if (b > this.head) {
      const steps = b - this.head >= BUCKETS ? BUCKETS : b - this.head;
      for (let k = 1; k <= steps; k++) {
        const i = (this.head + k) % BUCKETS;
        this.requests -= this.requestsIn[i] ?? 0;
        this.retries -= this.retriesIn[i] ?? 0;
        this.requestsIn[i] = this.retriesIn[i] = 0;
      }
      this.head = b;
    }
    return this.head % BUCKETS;
  }
}
