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
import type { Outcome } from "../core/outcome.js";
import type { Target } from "../core/target.js";
import type { HeaderBag, RateLimitInfo } from "../providers/rate-limit.js";
import { MemoryStore } from "../state/memory-store.js";
import { type StateCell, type StateStore, stateOp } from "../state/state-store.js";
import type { AttemptReport, Policy } from "./policy.js";

export type BenchReason = "rate_limited" | "overloaded" | "exhausted" | "operator";
export type BenchListener = (target: Target, untilMs: number, reason: BenchReason) => void;

/** How long a lowered share lasts when the headers name no reset (a typical provider window). */
const SHARE_FALLBACK_MS = 60_000;

/** A key's bench and share: what its StateStore cell holds. */
export interface BenchState {
  readonly until: number;
  readonly reason: BenchReason | null;
  readonly share: number;
  readonly share_until: number;
}

const FREE: BenchState = Object.freeze({ until: 0, reason: null, share: 1, share_until: 0 });

export const BENCH_OPS = {
  /** Benches until `until`; only ever extends (the latest deadline wins). */
  bench: stateOp<BenchState, { until: number; reason: BenchReason }>("bench.extend", (s, a) =>
    a.until > s.until ? { ...s, until: a.until, reason: a.reason } : s,
  ),
  share: stateOp<BenchState, { share: number; until: number }>("bench.share", (s, a) =>
    s.share === a.share && s.share_until === a.until ? s : { ...s, share: a.share, share_until: a.until },
  ),
  clear: stateOp<BenchState>("bench.clear", (s) => (s === FREE ? s : FREE)),
} as const;

export class RateLimitBench implements Policy {
  readonly name = "rate_limit";
  readonly actions = ["clear-bench", "enable"] as const;
  private readonly cells: (StateCell<BenchState> | undefined)[] = [];
  private readonly listeners: BenchListener[] = [];

  constructor(
    private readonly config: RateLimitAwarenessConfig,
    private readonly store: StateStore = new MemoryStore(),
    targets: readonly Target[] = [],
  ) {
    for (const t of targets) this.cellOf(t);
  }

  /** Policy hook: every attempt's outcome (a 499 carries no news of the key). */
  onOutcome(r: AttemptReport, now: number): void {
    if (r.outcome.status !== 499) this.observe(r.target, r.outcome, now, r.headers, r.errorBody);
  }

  /**
   * Feed an attempt's outcome; pass the response headers when there was a response, and the
   * start of an error answer's body (Gemini says when to come back only there). Reads what the
   * provider's adapter finds, and benches on a 429 (or an overloaded answer with Retry-After).
   * Returns the bench deadline set by this call (0 = not benched by it).
   */
  observe(target: Target, outcome: Outcome, now: number, headers?: HeaderBag, errorBody = ""): number {
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
    const cell = this.cellOf(target);
    const cap = now + this.config.max_bench_ms;
    const until = untilMs < cap ? untilMs : cap;
    if (until <= cell.value.until) return cell.value.until;
    this.store.apply(cell, BENCH_OPS.bench, { until, reason }, now);
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]?.(target, until, reason);
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
    const cell = this.cellOf(target);
    if (factor < 1)
      this.store.apply(cell, BENCH_OPS.share, { share: factor > this.config.min_share ? factor : this.config.min_share, until }, now);
    else if (cell.value.share !== 1) this.store.apply(cell, BENCH_OPS.share, { share: 1, until: 0 }, now);
    return info;
  }

  /** Epoch ms the target's bench ends; 0 when not benched. */
  benchedUntil(target: Target, now: number): number {
    const until = this.cellOf(target).value.until;
    return until > now ? until : 0;
  }

  share(target: Target, now: number): number {
    const s = this.cellOf(target).value;
    return s.share_until <= now ? 1 : s.share;
  }

  /** Operator / recovery: lifts the bench and the lowered share. */
  clear(target: Target, now = Date.now()): void {
    this.store.apply(this.cellOf(target), BENCH_OPS.clear, undefined, now);
  }

  act(_action: string, target: Target, now: number): void {
    this.clear(target, now);
  }

  onBench(listener: BenchListener): void {
    this.listeners.push(listener);
  }

  isEligible(target: Target, now: number): boolean {
    return this.cellOf(target).value.until <= now;
  }

  eligibleAt(target: Target, now: number): number {
    return this.benchedUntil(target, now);
  }

  targetStatus(target: Target, now: number): Record<string, unknown> | undefined {
    const s = this.cellOf(target).value;
    if (s === FREE) return undefined;
    return {
      benched_until: s.until > now ? new Date(s.until).toISOString() : null,
      reason: s.until > now ? s.reason : null,
      share: s.share_until > now ? Math.round(s.share * 1000) / 1000 : 1,
    };
  }

  /** The target's cell, made on first use (targets given to the constructor have theirs already). */
  private cellOf(target: Target): StateCell<BenchState> {
    const c = this.cells[target.index];
    if (c !== undefined) return c;
    return (this.cells[target.index] = this.store.cell(`rate_limit/${target.routeName}/${target.id}`, FREE));
  }
}
