/**
 * Benched keys and shrinking shares, from what providers say about their limits.
 *
 * Reactive: a 429 (or a 503/529 carrying Retry-After) benches the target until
 *   Outcome.retryAtMs (Retry-After / retry-after-ms)  else
 *   the provider's reset header (OpenAI x-ratelimit-reset-*, Anthropic anthropic-ratelimit-*-reset)  else
 *   now + default_bench_ms,
 * capped at now + max_bench_ms (a daily-quota reset hours away is re-tried every 5 min rather
 * than ignored). A bench only ever extends: the latest deadline wins, a shorter one never cuts
 * an earlier, longer one (users of other gateways were bitten by the first, shorter cooldown).
 *
 * Proactive: on any response, when requests or tokens remaining ≤ low_fraction × limit, the
 * target's share factor drops linearly (remaining / (low_fraction × limit), floored at
 * min_share) until that limit resets; with nothing remaining, the target is benched until the
 * reset instead of waiting for its certain 429.
 */
import type { RateLimitAwarenessConfig } from "../config/resilience-schema.js";
import type { EligibilityCheck } from "./eligibility.js";
import type { Outcome } from "../core/outcome.js";
import type { Target } from "../core/target.js";
import type { HeaderBag, RateLimitInfo } from "../providers/rate-limit.js";

export type BenchReason = "rate_limited" | "overloaded" | "exhausted" | "operator";
export type BenchListener = (target: Target, untilMs: number, reason: BenchReason) => void;

/** How long a lowered share lasts when the headers name no reset (a typical provider window). */
const SHARE_FALLBACK_MS = 60_000;

export interface BenchSnapshot {
  until: number;
  reason: BenchReason | null;
  share: number;
  share_until: number;
}

class BenchEntry {
  until = 0;
  reason: BenchReason | null = null;
  share = 1;
  shareUntil = 0;
}

export class RateLimitBench implements EligibilityCheck {
  readonly name = "rate_limit";
  private readonly entries = new Map<Target, BenchEntry>();
  private readonly listeners: BenchListener[] = [];

  constructor(private readonly config: RateLimitAwarenessConfig) {}

  /**
   * Feed every attempt's outcome; pass the response headers when there was a response, and the
   * start of an error answer's body (Gemini says when to come back only there). Reads what the
   * provider's adapter finds, and benches on a 429 (or an overloaded answer with Retry-After).
   * Returns the bench deadline set by this call (0 = not benched by it).
   */
  onOutcome(target: Target, outcome: Outcome, now: number, headers?: HeaderBag, errorBody = ""): number {
    if (!this.config.enabled) return 0;
    const info = headers !== undefined ? this.observeHeaders(target, headers, now, errorBody) : undefined;
    const kind = outcome.kind;
    if (kind === "rate_limited") {
      let at = outcome.retryAtMs;
      if (at <= 0 && info !== undefined) at = info.retryAfterMs !== undefined ? now + info.retryAfterMs : (info.resetAtMs ?? 0);
      if (at <= 0) at = now + this.config.default_bench_ms;
      return this.bench(target, at, now, "rate_limited");
    }
    if (kind === "overloaded" && this.config.bench_on_overloaded) {
      let at = outcome.retryAtMs;
      if (at <= 0 && info?.retryAfterMs !== undefined) at = now + info.retryAfterMs;
      if (at > now) return this.bench(target, at, now, "overloaded");
    }
    return 0;
  }

  /** Benches until untilMs (capped at now + max_bench_ms); never shortens a longer bench. Returns the deadline in force. */
  bench(target: Target, untilMs: number, now: number, reason: BenchReason): number {
    const e = this.entry(target);
    const cap = now + this.config.max_bench_ms;
    const until = untilMs < cap ? untilMs : cap;
    if (until <= e.until) return e.until;
    e.until = until;
    e.reason = reason;
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(target, until, reason);
    return until;
  }

  /**
   * Reads what the provider's adapter finds in the limit headers: lowers the target's share when
   * little remains, benches it when nothing does. Returns what was parsed.
   */
  observeHeaders(target: Target, headers: HeaderBag, now: number, errorBody = ""): RateLimitInfo | undefined {
    if (!this.config.enabled) return undefined;
    const info = target.adapter.rateLimit(headers, errorBody, now);
    const rl = info.requestsLimit;
    const tl = info.tokensLimit;
    if (rl === undefined && tl === undefined) return info;
    const low = this.config.low_fraction;
    let factor = 1;
    let until = 0;
    for (let dim = 0; dim < 2; dim++) {
      const limit = dim === 0 ? rl : tl;
      const remaining = dim === 0 ? info.requestsRemaining : info.tokensRemaining;
      const reset = dim === 0 ? info.requestsResetAtMs : info.tokensResetAtMs;
      if (limit === undefined || limit <= 0 || remaining === undefined) continue;
      if (remaining <= 0) {
        if (reset !== undefined && reset > now) this.bench(target, reset, now, "exhausted");
        continue;
      }
      const threshold = low * limit;
      if (remaining > threshold) continue;
      const f = remaining / threshold;
      if (f < factor) factor = f;
      const end = reset !== undefined && reset > now ? reset : now + SHARE_FALLBACK_MS;
      if (end > until) until = end;
    }
    const e = this.entry(target);
    if (factor < 1) {
      e.share = factor > this.config.min_share ? factor : this.config.min_share;
      e.shareUntil = until;
    } else {
      e.share = 1;
      e.shareUntil = 0;
    }
    return info;
  }

  /** Epoch ms the target's bench ends; 0 when not benched. */
  benchedUntil(target: Target, now: number): number {
    const e = this.entries.get(target);
    return e !== undefined && e.until > now ? e.until : 0;
  }

  /** Multiplier in [min_share, 1] for the target's weight while its quota runs low. */
  shareFactor(target: Target, now: number): number {
    const e = this.entries.get(target);
    return e === undefined || e.shareUntil <= now ? 1 : e.share;
  }

  /** Operator / recovery: lifts the bench and the lowered share. */
  clear(target: Target): void {
    this.entries.delete(target);
  }

  onBench(listener: BenchListener): void {
    this.listeners.push(listener);
  }

  isEligible(target: Target, now: number): boolean {
    const e = this.entries.get(target);
    return e === undefined || e.until <= now;
  }

  eligibleAt(target: Target, now: number): number {
    return this.benchedUntil(target, now);
  }

  targetStatus(target: Target, now: number): Record<string, unknown> | undefined {
    const e = this.entries.get(target);
    if (e === undefined) return undefined;
    return {
      benched_until: e.until > now ? new Date(e.until).toISOString() : null,
      reason: e.until > now ? e.reason : null,
      share: e.shareUntil > now ? Math.round(e.share * 1000) / 1000 : 1,
    };
  }

  snapshot(target: Target): BenchSnapshot {
    const e = this.entries.get(target) ?? EMPTY;
    return { until: e.until, reason: e.reason, share: e.share, share_until: e.shareUntil };
  }

  /** Adopts another process's view: benches merge by the later deadline, the share by the newer reading. */
  restore(target: Target, s: BenchSnapshot): void {
    const e = this.entry(target);
    if (s.until > e.until) {
      e.until = s.until;
      e.reason = s.reason;
    }
    if (s.share_until > e.shareUntil) {
      e.share = s.share;
      e.shareUntil = s.share_until;
    }
  }

  private entry(target: Target): BenchEntry {
    let e = this.entries.get(target);
    if (e === undefined) this.entries.set(target, (e = new BenchEntry()));
    return e;
  }
}

const EMPTY = new BenchEntry();
