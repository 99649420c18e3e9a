import { build, type Histogram } from "hdr-histogram-js";

export type WindowName = "1m" | "5m" | "1h";
export const WINDOWS: readonly WindowName[] = ["1m", "5m", "1h"];

/** What one window saw: counts, rates and the latency distribution (ms). */
export interface WindowSnapshot {
  readonly window: WindowName;
  /** The span the figures cover, s: the window, or less while the gateway is younger than it. */
  readonly seconds: number;
  readonly requests: number;
  readonly errors: number;
  /** Share of requests that did not fail; null without requests. */
  readonly successRate: number | null;
  readonly rps: number;
  /** Latency in ms; null without requests. */
  readonly latency: { min: number; mean: number; p50: number; p95: number; p99: number; max: number } | null;
  /** Mean attempts in flight over the window. */
  readonly meanInFlight: number;
  readonly failovers: number;
  readonly failoverSuccesses: number;
  /** Mean time from the first failed attempt to the answer, ms; null without failovers. */
  readonly failoverMeanMs: number | null;
  readonly queued: number;
  readonly queueWaitMeanMs: number | null;
  readonly queueWaitMaxMs: number;
}

/** Latencies are kept in µs, from 1 µs to an hour, to 2 significant digits (1 %). */
const MAX_US = 3_600_000_000;
const newHistogram = (): Histogram =>
  build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: MAX_US, numberOfSignificantValueDigits: 2 });

/** One slice of time and what happened in it. */
class Slot {
  start = -1;
  requests = 0;
  errors = 0;
  /** Σ attempts in flight × ms: the mean in flight is busyMs / the slot's length. */
  busyMs = 0;
  failovers = 0;
  failoverSuccesses = 0;
  failoverMsSum = 0;
  queued = 0;
  queueMsSum = 0;
  queueMsMax = 0;
  hist: Histogram | null = null;

  reset(start: number): void {
    this.start = start;
    this.requests = this.errors = this.busyMs = 0;
    this.failovers = this.failoverSuccesses = this.failoverMsSum = 0;
    this.queued = this.queueMsSum = this.queueMsMax = 0;
    this.hist?.reset();
  }

  merge(o: Slot): void {
    this.requests += o.requests;
    this.errors += o.errors;
    this.busyMs += o.busyMs;
    this.failovers += o.failovers;
    this.failoverSuccesses += o.failoverSuccesses;
    this.failoverMsSum += o.failoverMsSum;
    this.queued += o.queued;
    this.queueMsSum += o.queueMsSum;
    this.queueMsMax = Math.max(this.queueMsMax, o.queueMsMax);
    if (o.hist !== null && o.hist.totalCount > 0) (this.hist ??= newHistogram()).add(o.hist);
  }
}

/**
 * A ring of slots of one width; a slot that ends rolls up into the next level (10 s → 1 min → 5 min).
 * Slots are reused, so a steady gateway allocates nothing once its rings are full.
 */
class Level {
  readonly ring: Slot[] = [];
  cur = new Slot();
  private free: Slot[] = [];

  constructor(
    readonly widthMs: number,
    /** Ended slots kept. */
    readonly keep: number,
    private readonly parent: Level | null,
  ) {}

  /** Makes the current slot the one holding `now`; the ended one is kept and rolled up. */
  advance(now: number): Slot {
    const start = now - (now % this.widthMs);
    const cur = this.cur;
    if (cur.start === start) return cur;
    if (cur.start >= 0) {
      if (this.parent !== null) this.parent.advance(cur.start).merge(cur);
      this.ring.push(cur);
      if (this.ring.length > this.keep) this.free.push(this.ring.shift() as Slot);
    }
    const next = this.free.pop() ?? new Slot();
    next.reset(start);
    this.cur = next;
    return next;
  }

  /** Forgets every slot (an operator's stats reset). */
  clear(): void {
    this.free.push(...this.ring);
    this.ring.length = 0;
    this.cur.reset(-1);
  }
}

/**
 * Time-windowed statistics of one target or route over the last minute, 5 minutes and hour:
 * request and error counts, latency percentiles (HDR histograms), rps, mean in flight, and for
 * routes the failovers and queue waits. One histogram record per sample; slots of 10 s roll up
 * into minutes and those into 5-minute slots, so a window is the last slots that cover it (to
 * the slot: "1m" reads 50–60 s). Snapshots are cached for a second (status, metrics and alerts read them).
 */
export class WindowedStats {
  private readonly l2 = new Level(300_000, 12, null);
  private readonly l1 = new Level(60_000, 5, this.l2);
  private readonly l0 = new Level(10_000, 6, this.l1);
  private lastChange = 0;
  private readonly cache = new Map<WindowName, { at: number; snap: WindowSnapshot }>();
  private readonly scratch = new Slot();

  /** `createdAt`: epoch ms the stats start from (a young gateway's rates cover its age, not the whole window). */
  constructor(private readonly createdAt = Date.now()) {}

  /**
   * One ended request or attempt. For a route's request: whether it `failedOver` (answered from
   * another target than the first tried) and how long that took from the first failure, and its
   * wait in the queue (positional: one call per request allocates nothing).
   */
  record(now: number, latencyMs: number, failed: boolean, failedOver = false, failoverMs = 0, queueMs = 0): void {
    const s = this.l0.advance(now);
    s.requests++;
    if (failed) s.errors++;
    const us = Math.round(latencyMs * 1000);
    (s.hist ??= newHistogram()).recordValue(us < 1 ? 1 : us > MAX_US ? MAX_US : us);
    if (failedOver) {
      s.failovers++;
      if (!failed) s.failoverSuccesses++;
      s.failoverMsSum += failoverMs;
    }
    if (queueMs > 0) {
      s.queued++;
      s.queueMsSum += queueMs;
      if (queueMs > s.queueMsMax) s.queueMsMax = queueMs;
    }
  }

  /** Forgets every window (an operator's stats reset); in-flight time counts on from now. */
  reset(now = Date.now()): void {
    this.l0.clear();
    this.l1.clear();
    this.l2.clear();
    this.cache.clear();
    this.lastChange = this.lastChange > 0 ? now : 0;
  }

  /** The number in flight is about to change from `before`: credits the time it held. */
  inFlightChanging(now: number, before: number): void {
    if (before > 0 && this.lastChange > 0) this.l0.advance(now).busyMs += before * (now - this.lastChange);
    this.lastChange = now;
  }

  snapshot(window: WindowName, now = Date.now()): WindowSnapshot {
    const hit = this.cache.get(window);
    if (hit !== undefined && now - hit.at < 1000) return hit.snap;
    const snap = this.compute(window, now);
    this.cache.set(window, { at: now, snap });
    return snap;
  }

  private compute(window: WindowName, now: number): WindowSnapshot {
    const span = window === "1m" ? 60_000 : window === "5m" ? 300_000 : 3_600_000;
    const level = window === "1m" ? this.l0 : window === "5m" ? this.l1 : this.l2;
    const from = now - span;
    const sum = this.scratch;
    sum.reset(0);
    // The level's ended slots inside the window, its current slot, and what the levels below hold
    // that has not rolled up yet (their current slots).
    for (const s of level.ring) if (s.start >= from) sum.merge(s);
    for (let l: Level | null = level; l !== null; l = l === this.l2 ? this.l1 : l === this.l1 ? this.l0 : null)
      if (l.cur.start >= from - l.widthMs) sum.merge(l.cur);
    const seconds = Math.max(1, Math.min(span, now - this.createdAt) / 1000);
    const h = sum.hist;
    // A percentile reads as its bucket's top: never above the largest value seen.
    const ms = (us: number) => Math.round(Math.min(us, h?.maxValue ?? us)) / 1000;
    return {
      window,
      seconds: Math.round(seconds),
      requests: sum.requests,
      errors: sum.errors,
      successRate: sum.requests === 0 ? null : (sum.requests - sum.errors) / sum.requests,
      rps: sum.requests / seconds,
      latency:
        h === null || h.totalCount === 0
          ? null
          : {
              min: ms(h.minNonZeroValue),
              mean: ms(h.mean),
              p50: ms(h.getValueAtPercentile(50)),
              p95: ms(h.getValueAtPercentile(95)),
              p99: ms(h.getValueAtPercentile(99)),
              max: ms(h.maxValue),
            },
      meanInFlight: sum.busyMs / (seconds * 1000),
      failovers: sum.failovers,
      failoverSuccesses: sum.failoverSuccesses,
      failoverMeanMs: sum.failovers === 0 ? null : sum.failoverMsSum / sum.failovers,
      queued: sum.queued,
      queueWaitMeanMs: sum.queued === 0 ? null : sum.queueMsSum / sum.queued,
      queueWaitMaxMs: sum.queueMsMax,
    };
  }

  /** The three windows as status JSON (rounded). */
  toJSON(now = Date.now(), maxConcurrent = 0) {
    const out: Record<string, unknown> = {};
    for (const w of WINDOWS) out[w] = snapshotJSON(this.snapshot(w, now), maxConcurrent);
    return out;
  }
}

const r2 = (n: number) => Math.round(n * 100) / 100;

export function snapshotJSON(s: WindowSnapshot, maxConcurrent = 0) {
  return {
    seconds: s.seconds,
    requests: s.requests,
    errors: s.errors,
    success_rate: s.successRate === null ? null : Math.round(s.successRate * 10_000) / 10_000,
    rps: r2(s.rps),
    latency_ms: s.latency,
    mean_in_flight: r2(s.meanInFlight),
    utilisation: maxConcurrent > 0 ? Math.round((s.meanInFlight / maxConcurrent) * 10_000) / 10_000 : null,
    ...(s.failovers > 0 || s.queued > 0
      ? {
          failovers: s.failovers,
          failover_success_rate: s.failovers === 0 ? null : Math.round((s.failoverSuccesses / s.failovers) * 10_000) / 10_000,
          failover_mean_ms: s.failoverMeanMs === null ? null : r2(s.failoverMeanMs),
          queued: s.queued,
          queue_wait_mean_ms: s.queueWaitMeanMs === null ? null : r2(s.queueWaitMeanMs),
          queue_wait_max_ms: r2(s.queueWaitMaxMs),
        }
      : {}),
  };
}
