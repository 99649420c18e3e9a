/**
 * An exact sliding-window limit: at most `capacity` admissions in any window of `windowMs`.
 * Each admission holds one unit that comes back exactly `windowMs` after it was taken, so
 *
 *   {capacity: 1000, window 1 s}   1,000 at once, then nothing until the first of them is 1 s old
 *   {capacity: 50,   window 1 s}   over 10 s of hammering: 500 admitted, never 550
 *
 * Why not a token bucket for request counts: a bucket of size N refilled N/s lets 2N through in
 * the first second (the full bucket plus a second's refill), and "1,000 per second" means no more
 * than 1,000 in any second to the clients that read it (and to the bar). A GCRA has the
 * same burst-plus-refill shape. The window needs the admission times, kept in a ring allocated
 * once; checking, taking and expiring are O(1) amortised and allocate nothing. Time is the
 * caller's, in ms from a monotonic clock, so tests drive it by hand.
 *
 *   ring of entries (time of its first and last admission, count), oldest at `start`:
 *   [ e5 e6 · · e2 e3 e4 ]     expire(now): drop from start while last + windowMs <= now
 *
 * Memory stays bounded whatever the config says: up to MAX_ENTRIES units every admission has its
 * own entry (exact). Above, admissions less than windowMs / MAX_ENTRIES apart share one entry,
 * which comes back when its last one is a window old: never more than `capacity` in any window,
 * at most 1/4096 of a window late (0.25 ms of a second, 15 ms of a minute).
 */
const MAX_ENTRIES = 4096;

export class SlidingWindow {
  /** When each entry's first admission was (entries start at least `grainMs` apart). */
  private readonly first: Float64Array;
  /** When each entry's last admission was: it comes back a window after that. */
  private readonly last: Float64Array;
  private readonly count: Uint32Array;
  /** Admissions closer than this to their entry's first share it (0: exact, one entry each). */
  private readonly grainMs: number;
  private readonly slots: number;
  private start = 0;
  private entries = 0;
  /** Units held by the live entries. */
  private used = 0;

  constructor(
    readonly capacity: number,
    readonly windowMs: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    const exact = capacity <= MAX_ENTRIES;
    this.grainMs = exact ? 0 : windowMs / MAX_ENTRIES;
    // Coarse: live entries' firsts lie within a window and a grain, a grain apart.
    this.slots = exact ? capacity : MAX_ENTRIES + 2;
    this.first = new Float64Array(this.slots);
    this.last = new Float64Array(this.slots);
    this.count = new Uint32Array(this.slots);
  }

  /** Units free now. */
  remaining(now: number): number {
    this.expire(now);
    return this.capacity - this.used;
  }

  /** Takes one unit; the caller checked remaining(now) > 0 at the same `now`. */
  take(now: number): void {
    if (this.used >= this.capacity) throw new Error("SlidingWindow.take on a full window");
    this.used++;
    if (this.entries > 0) {
      const newest = this.at(this.entries - 1);
      // A full ring (float edge cases only) also merges: a unit back late, never one too many.
      if (now - (this.first[newest] as number) < this.grainMs || now === this.first[newest] || this.entries === this.slots) {
        this.last[newest] = now;
        (this.count[newest] as number)++;
        return;
      }
    }
    const i = this.at(this.entries);
    this.first[i] = this.last[i] = now;
    this.count[i] = 1;
    this.entries++;
  }

  /** ms until one more unit is free (0: free now). */
  waitMs(now: number): number {
    this.expire(now);
    if (this.used < this.capacity) return 0;
    return (this.last[this.start] as number) + this.windowMs - now;
  }

  /** ms until every unit is free again (the newest admission leaves the window). */
  resetMs(now: number): number {
    this.expire(now);
    if (this.entries === 0) return 0;
    return (this.last[this.at(this.entries - 1)] as number) + this.windowMs - now;
  }

  private at(k: number): number {
    const i = this.start + k;
    return i >= this.slots ? i - this.slots : i;
  }

  private expire(now: number): void {
    const last = this.last;
    while (this.entries > 0 && (last[this.start] as number) + this.windowMs <= now) {
      this.used -= this.count[this.start] as number;
      this.start++;
      if (this.start === this.slots) this.start = 0;
      this.entries--;
    }
  }
}
