/**
 * Per-target circuit breaker.
 *
 *            failure_threshold consecutive failures, or (≥ min_calls in the window)
 *            failure rate ≥ failure_rate, or slow-call rate ≥ slow_call_rate
 *   CLOSED ───────────────────────────────────────────────────────────────► OPEN (until)
 *     ▲                                                                     │   ▲
 *     │ success_threshold probe successes            tryAcquire after until │   │ any probe fails
 *     └──────────────────────────── HALF_OPEN ◄─────────────────────────────┘   │ (wait grows)
 *                                  (≤ half_open_calls probes in flight) ────────┘
 *
 *   operator states: FORCED_OPEN (refuses everything), DISABLED (admits everything, ignores results)
 *
 * The open wait comes from a Backoff over the count of consecutive openings (60 → 120 → 240 →
 * 300 s with the defaults); the count resets when the breaker closes. A 429 is not a failure
 * here: it benches the key (rate-limit-bench.ts) without opening its breaker.
 */
import type { BreakerConfig } from "../config/resilience-schema.js";
import type { EligibilityCheck } from "./eligibility.js";
import type { OutcomeKind } from "../core/outcome.js";
import { isTargetFailure } from "../core/outcome.js";
import type { Target } from "../core/target.js";
import { type Backoff, exponentialBackoff } from "./backoff.js";
import { CountWindow, type OutcomeWindow, TimeWindow } from "./sliding-window.js";

export type BreakerStateName = "closed" | "open" | "half_open" | "forced_open" | "disabled";

export type TransitionReason =
  | "consecutive_failures"
  | "failure_rate"
  | "slow_call_rate"
  | "wait_elapsed"
  | "probe_failed"
  | "probes_succeeded"
  | "forced_open"
  | "disabled"
  | "reset"
  | "restored";

/** What toJSON() gives and restore() takes: the shareable part of the state. */
export type BreakerSnapshot =
  | { state: "closed"; consecutive_failures: number }
  | { state: "open"; open_until: number; openings: number }
  | { state: "half_open"; openings: number; probe_successes: number }
  | { state: "forced_open" }
  | { state: "disabled" };

export type TransitionListener = (from: BreakerStateName, to: BreakerStateName, reason: TransitionReason, name: string) => void;

/** Kinds a breaker counts against its target: target failures except rate_limited. */
export function isBreakerFailure(kind: OutcomeKind): boolean {
  return kind !== "rate_limited" && isTargetFailure(kind);
}

export class CircuitBreaker {
  private current: BreakerStateName = "closed";
  /** Epoch ms when OPEN ends; 0 in other states. */
  private until = 0;
  /** Consecutive openings without a close in between: drives the growing open wait. */
  private openings = 0;
  private consecutiveFailures = 0;
  private probesInFlight = 0;
  private probeSuccesses = 0;
  /** Bumped on every state change; a result carrying an older epoch is stale (see onResult). */
  private generation = 1;
  private readonly window: OutcomeWindow;
  private readonly listeners: TransitionListener[] = [];
  private readonly failureThreshold: number;
  private readonly successThreshold: number;
  private readonly halfOpenCalls: number;
  private readonly minCalls: number;
  private readonly failureRate: number;
  private readonly slowCallMs: number;
  private readonly slowCallRate: number;
  private readonly openBackoff: Backoff;

  constructor(
    config: BreakerConfig,
    /** Names the breaker in events and status: usually "<route>/<target id>". */
    readonly name = "",
    openBackoff?: Backoff,
  ) {
    this.failureThreshold = config.failure_threshold;
    this.successThreshold = config.success_threshold;
    this.halfOpenCalls = config.half_open_calls;
    this.minCalls = config.min_calls;
    this.failureRate = config.failure_rate;
    this.slowCallMs = config.slow_call_ms ?? 0;
    this.slowCallRate = config.slow_call_rate;
    this.window = config.window === "count" ? new CountWindow(config.window_calls) : new TimeWindow(config.window_s);
    this.openBackoff = openBackoff ?? exponentialBackoff(config.open_s * 1000, config.max_open_s * 1000);
    if (!config.enabled) this.current = "disabled";
  }

  get state(): BreakerStateName {
    return this.current;
  }

  /**
   * Read right after a successful tryAcquire and hand back to onResult/release: a call that
   * started before the breaker last changed state (a 2-minute stream begun before it opened)
   * then cannot take a probe's slot or decide a HALF_OPEN verdict.
   */
  get epoch(): number {
    return this.generation;
  }

  /** Epoch ms when an OPEN breaker will admit a probe; 0 when not OPEN. */
  get openUntil(): number {
    return this.until;
  }

  /**
   * May a call go to this target now? CLOSED/DISABLED: always. OPEN: no, until openUntil, when
   * it moves to HALF_OPEN. HALF_OPEN: takes a probe slot if one is free. A true answer must be
   * followed by onResult() or release().
   */
  tryAcquire(now: number): boolean {
    switch (this.current) {
      case "closed":
      case "disabled":
        return true;
      case "forced_open":
        return false;
      case "open":
        if (now < this.until) return false;
        this.toHalfOpen();
        break;
      case "half_open":
        break;
    }
    if (this.probesInFlight >= this.halfOpenCalls) return false;
    this.probesInFlight++;
    return true;
  }

  /** Would tryAcquire(now) say yes? Takes nothing: the eligibility check uses it. */
  wouldAdmit(now: number): boolean {
    switch (this.current) {
      case "closed":
      case "disabled":
        return true;
      case "forced_open":
        return false;
      case "open":
        return now >= this.until;
      case "half_open":
        return this.probesInFlight < this.halfOpenCalls;
    }
  }

  /** An acquired call ended without a verdict (client went away, request cancelled): frees its probe slot. */
  release(epoch = this.generation): void {
    if (epoch === this.generation && this.current === "half_open" && this.probesInFlight > 0) this.probesInFlight--;
  }

  /**
   * Feeds the outcome of a call. latencyMs: time to first byte (what slow_call_ms is compared
   * to). epoch: `this.epoch` read when the call was admitted; a stale one is ignored.
   */
  onResult(kind: OutcomeKind, latencyMs: number, now: number, epoch = this.generation): void {
    if (epoch !== this.generation) return;
    if (kind === "rate_limited") return this.release();
    const failed = isBreakerFailure(kind);
    const slow = this.slowCallMs > 0 && latencyMs > this.slowCallMs;
    switch (this.current) {
      case "closed":
        this.window.record(failed, slow, now);
        if (failed) {
          this.consecutiveFailures++;
          if (this.failureThreshold > 0 && this.consecutiveFailures >= this.failureThreshold) return this.toOpen(now, "consecutive_failures");
        } else this.consecutiveFailures = 0;
        this.judgeRates(now);
        return;
      case "half_open":
        if (this.probesInFlight > 0) this.probesInFlight--;
        // A slow probe says the target has not recovered, even if it answered.
        if (failed || slow) return this.toOpen(now, "probe_failed");
        if (++this.probeSuccesses >= this.successThreshold) this.toClosed("probes_succeeded");
        return;
      default:
        // OPEN: late results of calls started before it opened say nothing new.
        // FORCED_OPEN / DISABLED: the operator decides.
        return;
    }
  }

  /** Operator: refuse every call until reset(). */
  forceOpen(): void {
    this.setOperatorState("forced_open", "forced_open");
  }

  /** Operator: admit every call and ignore results until reset(). */
  disable(): void {
    this.setOperatorState("disabled", "disabled");
  }

  /** Operator (or recovery elsewhere): back to CLOSED with a clean window. */
  reset(): void {
    this.toClosed("reset");
  }

  onTransition(listener: TransitionListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  toJSON(): BreakerSnapshot {
    switch (this.current) {
      case "closed":
        return { state: "closed", consecutive_failures: this.consecutiveFailures };
      case "open":
        return { state: "open", open_until: this.until, openings: this.openings };
      case "half_open":
        return { state: "half_open", openings: this.openings, probe_successes: this.probeSuccesses };
      case "forced_open":
        return { state: "forced_open" };
      case "disabled":
        return { state: "disabled" };
    }
  }

  /**
   * Adopts a snapshot (e.g. another process's, through Redis). Probes in flight are local, so
   * a restored HALF_OPEN starts with none. The window is not shared: it refills locally.
   */
  restore(s: BreakerSnapshot): void {
    const from = this.current;
    this.generation++; // local calls in flight belong to the state being replaced
    this.current = s.state;
    this.until = s.state === "open" ? s.open_until : 0;
    this.openings = s.state === "open" || s.state === "half_open" ? s.openings : 0;
    this.consecutiveFailures = s.state === "closed" ? s.consecutive_failures : 0;
    this.probeSuccesses = s.state === "half_open" ? s.probe_successes : 0;
    this.probesInFlight = 0;
    if (s.state === "closed") this.window.reset();
    if (from !== s.state) this.emit(from, s.state, "restored");
  }

  /** Window totals for /admin/status (reads only). */
  stats(now: number) {
    return {
      state: this.current,
      open_until: this.until || null,
      openings: this.openings,
      consecutive_failures: this.consecutiveFailures,
      window_calls: this.window.calls(now),
      window_failures: this.window.failures(now),
      window_slow_calls: this.window.slowCalls(now),
    };
  }

  private judgeRates(now: number): void {
    const calls = this.window.calls(now);
    if (calls < this.minCalls) return;
    if (this.window.failures(now) >= this.failureRate * calls) return this.toOpen(now, "failure_rate");
    if (this.slowCallMs > 0 && this.window.slowCalls(now) >= this.slowCallRate * calls) this.toOpen(now, "slow_call_rate");
  }

  private toOpen(now: number, reason: TransitionReason): void {
    this.openings++;
    this.consecutiveFailures = 0;
    this.enter("open", now + this.openBackoff.delay(this.openings), reason);
  }

  private toHalfOpen(): void {
    this.enter("half_open", 0, "wait_elapsed");
  }

  private toClosed(reason: TransitionReason): void {
    this.openings = 0;
    this.consecutiveFailures = 0;
    this.window.reset();
    this.enter("closed", 0, reason);
  }

  private setOperatorState(to: "forced_open" | "disabled", reason: TransitionReason): void {
    this.enter(to, 0, reason);
  }

  /** Every state change: a fresh probe count, and an event when the state really changed. */
  private enter(to: BreakerStateName, until: number, reason: TransitionReason): void {
    const from = this.current;
    this.current = to;
    this.until = until;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    if (from !== to) this.emit(from, to, reason);
  }

  private emit(from: BreakerStateName, to: BreakerStateName, reason: TransitionReason): void {
    this.generation++;
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(from, to, reason, this.name);
  }
}

/**
 * The breaker as an eligibility check. isEligible only asks (wouldAdmit); the attempt loop calls
 * tryAcquire on the target it actually picked. `breakerOf` maps a target to its breaker (e.g.
 * `(t) => breakers[t.index]`); undefined = no breaker for that target.
 */
export function breakerCheck(breakerOf: (t: Target) => CircuitBreaker | undefined): EligibilityCheck {
  return {
    name: "breaker",
    isEligible: (t, now) => breakerOf(t)?.wouldAdmit(now) ?? true,
    eligibleAt: (t) => breakerOf(t)?.openUntil ?? 0,
    targetStatus: (t, now) => breakerOf(t)?.stats(now),
  };
}
