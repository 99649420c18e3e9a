/**
 * Outcome windows for breakers and key auto-disable (resilience4j's two kinds). Both keep
 * running totals, so recording and reading are O(1) and allocate nothing.
 *
 *   count: ring of the last N outcomes, one byte each (bit 0 failed, bit 1 slow)
 *   time:  ring of N buckets of bucketMs each (1 s by default); a bucket older than the
 *          window is subtracted from the totals and cleared before it is reused
 */
export interface OutcomeWindow {
  record(failed: boolean, slow: boolean, now: number): void;
  calls(now: number): number;
  failures(now: number): number;
  slowCalls(now: number): number;
  reset(): void;
}

const FAILED = 1;
const SLOW = 2;

export class CountWindow implements OutcomeWindow {
  private readonly ring: Uint8Array;
  private next = 0;
  private size = 0;
  private failed = 0;
  private slow = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError("CountWindow capacity must be >= 1");
    this.ring = new Uint8Array(capacity);
  }

  record(failed: boolean, slow: boolean): void {
    const i = this.next;
    if (this.size === this.capacity) {
      const old = this.ring[i] ?? 0;
      if (old & FAILED) this.failed--;
      if (old & SLOW) this.slow--;
    } else this.size++;
    const bits = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    this.ring[i] = bits;
    if (failed) this.failed++;
    if (slow) this.slow++;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
  }

  calls(): number {
    return this.size;
  }
  failures(): number {
    return this.failed;
  }
  slowCalls(): number {
    return this.slow;
  }

  reset(): void {
    this.ring.fill(0);
    this.next = this.size = this.failed = this.slow = 0;
  }
}

export class TimeWindow implements OutcomeWindow {
  private readonly bucketCalls: Int32Array;
  private readonly bucketFailed: Int32Array;
  private readonly bucketSlow: Int32Array;
  /** Index of the newest bucket in use (epoch / bucketMs); -1 = empty. */
  private head = -1;
  private total = 0;
  private failed = 0;
  private slow = 0;

  constructor(
    readonly buckets: number,
    readonly bucketMs = 1000,
  ) {
    if (!(buckets >= 1) || !(bucketMs > 0)) throw new RangeError("TimeWindow needs buckets >= 1 and bucketMs > 0");
    this.bucketCalls = new Int32Array(buckets);
    this.bucketFailed = new Int32Array(buckets);
    this.bucketSlow = new Int32Array(buckets);
  }

  record(failed: boolean, slow: boolean, now: number): void {
    const i = this.advance(now);
    this.bucketCalls[i] = (this.bucketCalls[i] ?? 0) + 1;
    this.total++;
    if (failed) {
      this.bucketFailed[i] = (this.bucketFailed[i] ?? 0) + 1;
      this.failed++;
    }
    if (slow) {
      this.bucketSlow[i] = (this.bucketSlow[i] ?? 0) + 1;
      this.slow++;
    }
  }

  calls(now: number): number {
    this.advance(now);
    return this.total;
  }
  failures(now: number): number {
    this.advance(now);
    return this.failed;
  }
  slowCalls(now: number): number {
    this.advance(now);
    return this.slow;
  }

  reset(): void {
    this.bucketCalls.fill(0);
    this.bucketFailed.fill(0);
    this.bucketSlow.fill(0);
    this.head = -1;
    this.total = this.failed = this.slow = 0;
  }

  /**
   * Moves the head to now's bucket, expiring every bucket it passes (at most `buckets` of them,
   * so the cost is bounded). A clock that steps back keeps writing into the newest bucket.
   */
  private advance(now: number): number {
    const n = this.buckets;
    const b = Math.floor(now / this.bucketMs);
    if (this.head === -1) this.head = b;
    else if (b > this.head) {
      const steps = b - this.head >= n ? n : b - this.head;
      for (let k = 1; k <= steps; k++) this.clear((this.head + k) % n);
      this.head = b;
    }
    return this.head % n;
  }

  private clear(i: number): void {
    this.total -= this.bucketCalls[i] ?? 0;
    this.failed -= this.bucketFailed[i] ?? 0;
    this.slow -= this.bucketSlow[i] ?? 0;
    this.bucketCalls[i] = this.bucketFailed[i] = this.bucketSlow[i] = 0;
  }
}
