/**
 * Outbound quotas: the gateway keeps each target under its `limits.rpm` requests and
 * `limits.tpm` tokens per `limits.window_s` (60 s), so the provider never has to say 429.
 *
 * A sliding window, safe against any window the provider keeps (fixed from its first request,
 * aligned to the clock, or sliding): a call holds one request slot and its tokens from the moment
 * it starts until one window after its answer's first byte came back —
 *
 *   start ──── in flight ────┐ first byte           release = first byte + window
 *   |                        |──────────── window_s ────────────|
 *
 * The provider counts a call somewhere between its start and its first byte, so any span of one
 * window on the provider's clock holds only calls whose slots overlapped when the last of them
 * started: never more than the quota. (Holding from the start alone would be off by the network
 * and queueing time of the provider.) The price: a slot is held ttfb longer than the provider does.
 *
 * Tokens: a call reserves an estimate when it starts (input ≈ body / 4 + the output the client
 * allows, max_tokens, else 256), replaced by the answer's usage when it ends. A call whose
 * estimate does not fit what is left is refused, and the target stays out for everyone until it
 * fits (so a large request is not starved by small ones); a request larger than the whole quota
 * goes once the window is empty (the provider has the last word on it).
 *
 * The provider's word wins: when an answer's remaining-quota headers (x-ratelimit-remaining-*,
 * anthropic-ratelimit-*-remaining…, read by the provider's adapter) say fewer remain than this
 * window counts, the difference is held until the provider's reset (another client of the same
 * key, a restart that forgot the window, a provider limit lower than the configured one).
 *
 * Counting is this process's own, in fixed-size rings of 60 buckets (a release is rounded up to
 * its bucket's end: 1 s of a 60 s window), with no allocation per call: a StateStore cell changes
 * by replacing its state, which would copy the ring twice per call. Several gateway processes
 * sharing a key should each get their part of its quota (the providers' headers still correct
 * each one). A target kept by a reload keeps its window (it is found by the target's stats
 * object, which a reload carries over); a changed window_s starts a new one.
 */
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import type { TargetStats } from "../core/target-stats.js";
import { type AttemptReport, type Policy, REFUSED } from "./policy.js";

/** Buckets per window: a slot is released at most window / 60 after its exact time. */
const BUCKETS = 60;
/** Output tokens assumed when a request names no max_tokens (the cost strategy's default). */
export const DEFAULT_OUTPUT_TOKENS = 256;

/**
 * One target's window: calls in flight, and answered calls (and slots the provider says are
 * taken) in a ring of buckets by release time. Counts are running totals.
 */
export class QuotaWindow {
  readonly bucketMs: number;
  /** Ring slots: a release lies within (now, now + window], which spans BUCKETS + 1 buckets. */
  private readonly size = BUCKETS + 2;
  private readonly reqs = new Float64Array(BUCKETS + 2);
  private readonly toks = new Float64Array(BUCKETS + 2);
  /** Absolute index (epoch ms / bucketMs) of the oldest bucket not yet released. */
  private low = 0;
  ringRequests = 0;
  ringTokens = 0;
  inFlight = 0;
  inFlightTokens = 0;
  /** Tokens of the last request refused for want of room: the target stays out until they fit (0 = none). */
  need = 0;

  constructor(readonly windowMs: number) {
    this.bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
  }

  /** Requests held: in flight, and answered within their window. */
  get requests(): number {
    return this.inFlight + this.ringRequests;
  }

  get tokens(): number {
    return this.inFlightTokens + this.ringTokens;
  }

  /** Releases every bucket whose end has passed. */
  advance(now: number): void {
    const k = Math.floor(now / this.bucketMs);
    if (k <= this.low) return;
    if (this.ringRequests !== 0 || this.ringTokens !== 0) {
      const steps = k - this.low >= this.size ? this.size : k - this.low;
      for (let i = 0; i < steps; i++) this.clear((this.low + i) % this.size);
    }
    this.low = k;
  }

  /** Holds requests and tokens until `release` (rounded up to its bucket's end; at most about a window from now). */
  hold(release: number, requests: number, tokens: number, now: number): void {
    this.advance(now);
    if (release <= now) return;
    let k = Math.ceil(release / this.bucketMs) - 1;
    const last = this.low + this.size - 1;
    if (k > last) k = last;
    const i = k % this.size;
    this.reqs[i] = (this.reqs[i] ?? 0) + requests;
    this.toks[i] = (this.toks[i] ?? 0) + tokens;
    this.ringRequests += requests;
    this.ringTokens += tokens;
  }

  /** A call started. */
  start(tokens: number): void {
    this.inFlight++;
    this.inFlightTokens += tokens;
    this.need = 0;
  }

  /** A call ended: its slot moves from in flight to the ring, held until `release`. */
  end(reserved: number, used: number, release: number, now: number): void {
    if (this.inFlight > 0) this.inFlight--;
    this.inFlightTokens = this.inFlight === 0 ? 0 : Math.max(0, this.inFlightTokens - reserved);
    this.hold(release, 1, used, now);
  }

  /** Is there room for one more call (of `need` tokens, when one was refused)? rpm / tpm 0 = no such limit. */
  fits(rpm: number, tpm: number): boolean {
    return this.fitsWith(this.requests, this.tokens, rpm, tpm);
  }

  /**
   * Epoch ms when the window has room again, exact for answered calls (their bucket's end); calls
   * still in flight are taken to answer now, so they hold a whole window from now.
   */
  freeAt(rpm: number, tpm: number, now: number): number {
    this.advance(now);
    let r = this.requests;
    let t = this.tokens;
    if (this.fitsWith(r, t, rpm, tpm)) return now;
    const b = this.bucketMs;
    for (let k = this.low; k < this.low + this.size; k++) {
      const i = k % this.size;
      r -= this.reqs[i] ?? 0;
      t -= this.toks[i] ?? 0;
      if (this.fitsWith(r, t, rpm, tpm)) return (k + 1) * b;
    }
    return (Math.floor((now + this.windowMs) / b) + 1) * b;
  }

  private fitsWith(r: number, t: number, rpm: number, tpm: number): boolean {
    if (rpm > 0 && r >= rpm) return false;
    if (tpm === 0) return true;
    return this.need > 0 ? t + this.need <= tpm : t < tpm;
  }

  private clear(i: number): void {
    this.ringRequests -= this.reqs[i] ?? 0;
    this.ringTokens -= this.toks[i] ?? 0;
    this.reqs[i] = 0;
    this.toks[i] = 0;
  }
}

/** Windows by the target's stats object: what a reload carries over for a kept target. */
const KEPT = new WeakMap<TargetStats, QuotaWindow>();

function windowOf(t: Target): QuotaWindow | null {
  const l = t.config.limits;
  if (l.rpm === undefined && l.tpm === undefined) return null;
  const ms = l.window_s * 1000;
  let w = KEPT.get(t.stats);
  if (w === undefined || w.windowMs !== ms) KEPT.set(t.stats, (w = new QuotaWindow(ms)));
  return w;
}

/** Tokens a request may take: its input (about 4 characters a token) and the output it allows. */
export function estimateTokens(ctx: RequestContext | undefined): number {
  if (ctx === undefined) return 0;
  const input = ctx.estimatedInputTokens();
  return ctx.surface === "rest" ? input : input + ctx.maxOutputTokens(DEFAULT_OUTPUT_TOKENS);
}

export class TargetQuota implements Policy {
  readonly name = "quota";
  /** By target index; null for a target without rpm / tpm. */
  private readonly windows: (QuotaWindow | null)[];
  /** The quotas as configured, by target index (0: none). */
  private readonly quotaRpm: Float64Array;
  private readonly quotaTpm: Float64Array;
  /** This instance's share of them: the quota divided by the instances sharing it (at least 1 each). */
  private readonly rpm: Float64Array;
  private readonly tpm: Float64Array;
  /** Instances sharing the quotas when last asked, and when (epoch ms): asked at most once a second. */
  private sharing = 1;
  private sharingAt = -Infinity;

  /**
   * @param sharers  how many gateway instances send to these targets now (the shared state store
   *                 knows: `StateStore.sharers`); each keeps its share of every quota, so together
   *                 they stay under it. 1: this instance alone.
   */
  constructor(
    targets: readonly Target[],
    private readonly sharers: () => number = alone,
  ) {
    this.windows = targets.map(windowOf);
    this.quotaRpm = Float64Array.from(targets, (t) => t.config.limits.rpm ?? 0);
    this.quotaTpm = Float64Array.from(targets, (t) => t.config.limits.tpm ?? 0);
    this.rpm = Float64Array.from(this.quotaRpm);
    this.tpm = Float64Array.from(this.quotaTpm);
  }

  /** Takes the number of instances sharing the quotas (once a second at most) and recomputes the shares when it changed. */
  private takeSharers(): void {
    const now = Date.now();
    if (now - this.sharingAt < 1000) return;
    this.sharingAt = now;
    const n = Math.max(1, Math.floor(this.sharers()));
    if (n === this.sharing) return;
    this.sharing = n;
    for (let i = 0; i < this.rpm.length; i++) {
      const r = this.quotaRpm[i] ?? 0;
      const k = this.quotaTpm[i] ?? 0;
      this.rpm[i] = r > 0 ? Math.max(1, Math.floor(r / n)) : 0;
      this.tpm[i] = k > 0 ? Math.max(1, Math.floor(k / n)) : 0;
    }
  }

  /** Does any target of the route have a quota? */
  get active(): boolean {
    return this.windows.some((w) => w !== null);
  }

  isEligible(t: Target, now: number): boolean {
    const w = this.windows[t.index];
    if (w === undefined || w === null) return true;
    this.takeSharers();
    w.advance(now);
    return w.fits(this.rpm[t.index] ?? 0, this.tpm[t.index] ?? 0);
  }

  eligibleAt(t: Target, now: number): number {
    const w = this.windows[t.index];
    if (w === undefined || w === null) return now;
    this.takeSharers();
    return w.freeAt(this.rpm[t.index] ?? 0, this.tpm[t.index] ?? 0, now);
  }

  /** Checked again at admission (a wait may have passed since the pick); a request's tokens must fit. */
  admit(t: Target, now: number, ctx?: RequestContext): number {
    const w = this.windows[t.index];
    if (w === undefined || w === null) return 0;
    this.takeSharers();
    w.advance(now);
    const rpm = this.rpm[t.index] ?? 0;
    const tpm = this.tpm[t.index] ?? 0;
    if (rpm > 0 && w.requests >= rpm) return REFUSED;
    if (tpm > 0) {
      const e = Math.min(estimateTokens(ctx), tpm);
      if (w.tokens + e > tpm) {
        w.need = e;
        return REFUSED;
      }
    }
    return 0;
  }

  onStart(t: Target, _now: number, ctx?: RequestContext): void {
    const w = this.windows[t.index];
    if (w !== undefined && w !== null) w.start(estimateTokens(ctx));
  }

  onOutcome(r: AttemptReport, now: number): void {
    const t = r.target;
    const w = this.windows[t.index];
    if (w === undefined || w === null) return;
    const reserved = estimateTokens(r.ctx);
    const usage = r.outcome.kind === "ok" ? r.ctx.usage : null;
    // The first byte's time (an attempt that never got that far: now, to be safe).
    const answeredAt = r.ttfbMs > 0 ? now - (r.latencyMs - r.ttfbMs) : now;
    w.end(reserved, usage !== null ? usage.total_tokens : reserved, answeredAt + w.windowMs, now);
    if (r.headers !== undefined && r.outcome.status !== 499) this.trustProvider(r, w, now);
  }

  /**
   * The provider's remaining quota, when it says fewer remain than the window counts: the
   * difference is held until its reset. Calls in flight count as not yet seen by the provider.
   * Shared by several instances, the provider's figure is what remains to all of them: this
   * instance never counts more left than it says (its share less what it used, at most that).
   */
  private trustProvider(r: AttemptReport, w: QuotaWindow, now: number): void {
    const t = r.target;
    const info = t.adapter.rateLimit(r.headers ?? {}, r.errorBody, now);
    const rpm = this.rpm[t.index] ?? 0;
    const tpm = this.tpm[t.index] ?? 0;
    const fallback = now + w.windowMs;
    if (rpm > 0 && info.requestsRemaining !== undefined) {
      const extra = rpm - w.ringRequests - info.requestsRemaining;
      if (extra > 0) w.hold(info.requestsResetAtMs ?? info.resetAtMs ?? fallback, extra, 0, now);
    }
    if (tpm > 0 && info.tokensRemaining !== undefined) {
      const extra = tpm - w.ringTokens - info.tokensRemaining;
      if (extra > 0) w.hold(info.tokensResetAtMs ?? info.resetAtMs ?? fallback, 0, extra, now);
    }
  }

  targetStatus(t: Target, now: number): Record<string, unknown> | undefined {
    const w = this.windows[t.index];
    if (w === undefined || w === null) return undefined;
    w.advance(now);
    const rpm = this.rpm[t.index] ?? 0;
    const tpm = this.tpm[t.index] ?? 0;
    const full = !w.fits(rpm, tpm);
    return {
      window_s: w.windowMs / 1000,
      rpm: rpm > 0 ? rpm : null,
      tpm: tpm > 0 ? tpm : null,
      // Several instances share the quota: rpm / tpm above are this one's share.
      ...(this.sharing > 1 ? { shared_by: this.sharing } : {}),
      requests: w.requests,
      tokens: Math.round(w.tokens),
      in_flight: w.inFlight,
      free_at: full ? new Date(w.freeAt(rpm, tpm, now)).toISOString() : null,
    };
  }
}

function alone(): number {
  return 1;
}
