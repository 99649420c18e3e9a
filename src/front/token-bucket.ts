/**
 * A token bucket with continuous refill, for quotas whose units vary per request (tokens per
 * minute): a request takes its estimate before the call, and the difference to what the answer
 * actually used is given back or taken afterwards (`adjust`), which may leave the bucket in debt:
 * the next requests wait until the refill covers it. State is two numbers, refilled lazily from
 * the time of the last change, so every operation is O(1) and allocates nothing. Time is the
 * caller's, in ms from a monotonic clock (performance.now()), so tests drive it by hand.
 *
 * Request counts use SlidingWindow instead: a bucket lets twice its size through in its first
 * window (see sliding-window.ts). For tokens that matters less than being able to correct an
 * estimate after the fact, which a window of admission times cannot do cheaply.
 */
export class TokenBucket {
  private level: number;
  private last: number;
  /** Refill, units per ms. */
  readonly perMs: number;

  /** A bucket of `capacity` units that refills `capacity` every `periodMs` (tpm: periodMs 60,000), full at `now`. */
  constructor(
    readonly capacity: number,
    periodMs: number,
    now: number,
  ) {
    if (!(capacity > 0)) throw new RangeError(`capacity must be > 0, got ${capacity}`);
    if (!(periodMs > 0)) throw new RangeError(`periodMs must be > 0, got ${periodMs}`);
    this.perMs = capacity / periodMs;
    this.level = capacity;
    this.last = now;
  }

  /** Units in the bucket now (negative while in debt). */
  available(now: number): number {
    this.refill(now);
    return this.level;
  }

  /** Takes `n` units; the caller checked available(now) >= n at the same `now`. */
  take(n: number, now: number): void {
    this.refill(now);
    this.level -= n;
  }

  /** Gives `n` units back (n > 0) or takes `-n` more (n < 0) after the fact; never above capacity. */
  adjust(n: number, now: number): void {
    this.refill(now);
    const l = this.level + n;
    this.level = l > this.capacity ? this.capacity : l;
  }

  /** ms until `n` units are in the bucket (0: now). */
  waitMs(n: number, now: number): number {
    this.refill(now);
    return this.level >= n ? 0 : (n - this.level) / this.perMs;
  }

  /** ms until the bucket is full again. */
  resetMs(now: number): number {
    this.refill(now);
    return (this.capacity - this.level) / this.perMs;
  }

  private refill(now: number): void {
    const dt = now - this.last;
    if (dt <= 0) return;
    this.last = now;
    if (this.level >= this.capacity) return;
    const l = this.level + dt * this.perMs;
    this.level = l > this.capacity ? this.capacity : l;
  }
}
