/**
 * Per-target circuit breaker.
 *
 *            failure_threshold consecutive failures, or (≥ min_calls in the window)
 *            failure rate ≥ failure_rate, or slow-call rate ≥ slow_call_rate
 *   CLOSED ───────────────────────────────────────────────────────────────► OPEN (until)
 *     ▲                                                                     │   ▲
 *     │ success_threshold probe successes     tryAcquire after until, or a  │   │ any probe fails
 *     └──────────────────────────── HALF_OPEN ◄── recovery probe answered ──┘   │ (wait grows)
 *                                  (≤ half_open_calls probes in flight) ────────┘
 *
 *   operator states: FORCED_OPEN (refuses everything), DISABLED (admits everything, ignores results)
 *
 * The open wait comes from a Backoff over the count of consecutive openings (open_s growing up
 * to max_open_s); the count resets when the breaker closes. A 429 is not a failure here: it
 * benches the key (rate-limit-bench.ts) without opening its breaker.
 *
 * The shareable state (which state, until when, openings, streaks) is a StateStore cell changed
 * only by the named operations below, so breakers of one target in several processes act as one.
 * The outcome window, the probe slots in flight and the epoch are this process's own.
 */
import type { BreakerConfig } from "../config/resilience-schema.js";
import type { OutcomeKind } from "../core/outcome.js";
import { isTargetFailure } from "../core/outcome.js";
import { MemoryStore } from "../state/memory-store.js";
import { type StateCell, type StateOp, type StateStore, stateOp } from "../state/state-store.js";
import { type Backoff, exponentialBackoff } from "./backoff.js";
import { CountWindow, type OutcomeWindow, TimeWindow } from "./sliding-window.js";

export type BreakerStateName = "closed" | "open" | "half_open" | "forced_open" | "disabled";

export type TransitionReason =
  | "consecutive_failures"
  | "failure_rate"
  | "slow_call_rate"
  | "wait_elapsed"
  | "recovery_probe"
  | "probe_failed"
  | "probes_succeeded"
  | "forced_open"
  | "disabled"
  | "reset"
  | "shared";

/** The breaker's shareable state: what its StateStore cell holds. */
export type BreakerState =
  | { readonly state: "closed"; readonly consecutive_failures: number }
  | { readonly state: "open"; readonly open_until: number; readonly openings: number }
  | { readonly state: "half_open"; readonly openings: number; readonly probe_successes: number }
  | { readonly state: "forced_open" }
  | { readonly state: "disabled" };

export type TransitionListener = (from: BreakerStateName, to: BreakerStateName, reason: TransitionReason, name: string) => void;

const CLOSED: BreakerState = Object.freeze({ state: "closed", consecutive_failures: 0 });
const FORCED_OPEN: BreakerState = Object.freeze({ state: "forced_open" });
const DISABLED: BreakerState = Object.freeze({ state: "disabled" });

/** The operations on a breaker's state: pure, named, safe to run where the state lives. */
export const BREAKER_OPS = {
  failed: stateOp<BreakerState>("breaker.failed", (s) =>
    s.state === "closed" ? { state: "closed", consecutive_failures: s.consecutive_failures + 1 } : s,
  ),
  succeeded: stateOp<BreakerState>("breaker.succeeded", (s) => (s.state === "closed" && s.consecutive_failures !== 0 ? CLOSED : s)),
  /** Opens a breaker still in `from` (another process may have moved it meanwhile). */
  open: stateOp<BreakerState, { from: "closed" | "half_open"; until: number }>("breaker.open", (s, a) =>
    s.state === a.from ? { state: "open", open_until: a.until, openings: (s.state === "half_open" ? s.openings : 0) + 1 } : s,
  ),
  /** OPEN → HALF_OPEN once its wait is over, or at once (`early`) when a recovery probe got an answer. */
  halfOpen: stateOp<BreakerState, boolean>("breaker.half_open", (s, early, now) =>
    s.state === "open" && (early || now >= s.open_until) ? { state: "half_open", openings: s.openings, probe_successes: 0 } : s,
  ),
  probePassed: stateOp<BreakerState, number>("breaker.probe_passed", (s, threshold) =>
    s.state !== "half_open"
      ? s
      : s.probe_successes + 1 >= threshold
        ? CLOSED
        : { state: "half_open", openings: s.openings, probe_successes: s.probe_successes + 1 },
  ),
  /** Operator: closed (reset), forced_open, disabled. */
  set: stateOp<BreakerState, BreakerState>("breaker.set", (_s, to) => to),
} as const;

/** Kinds a breaker counts against its target: target failures except rate_limited. */
export function isBreakerFailure(kind: OutcomeKind): boolean {
  return kind !== "rate_limited" && isTargetFailure(kind);
}

export class CircuitBreaker {
  private readonly cell: StateCell<BreakerState>;
  /** The state name this breaker last acted on: a different one in the cell was set elsewhere. */
  private seen: BreakerStateName;
  private probesInFlight = 0;
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
    /** Names the breaker in events, status and the store: usually "<route>/<target id>". */
    readonly name = "",
    openBackoff?: Backoff,
    private readonly store: StateStore = new MemoryStore(),
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
    this.cell = store.cell<BreakerState>(`breaker/${name}`, config.enabled ? CLOSED : DISABLED);
    this.seen = this.cell.value.state;
  }

  get state(): BreakerStateName {
    this.sync();
    return this.seen;
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
    const s = this.cell.value;
    return s.state === "open" ? s.open_until : 0;
  }

  /**
   * May a call go to this target now? CLOSED/DISABLED: always. OPEN: no, until openUntil, when
   * it moves to HALF_OPEN. HALF_OPEN: takes a probe slot if one is free. A true answer must be
   * followed by onResult() or release().
   */
  tryAcquire(now: number): boolean {
    this.sync();
    const s = this.cell.value;
    switch (s.state) {
      case "closed":
      case "disabled":
        return true;
      case "forced_open":
        return false;
      case "open":
        if (now < s.open_until) return false;
        this.change(BREAKER_OPS.halfOpen, false, now, "wait_elapsed");
        break;
      case "half_open":
        break;
    }
    if (this.probesInFlight >= this.halfOpenCalls) return false;
    this.probesInFlight++;
    return true;
  }

  /** Would tryAcquire(now) say yes? Takes nothing: eligibility asks it for every pick. */
  wouldAdmit(now: number): boolean {
    const s = this.cell.value;
    switch (s.state) {
      case "closed":
      case "disabled":
        return true;
      case "forced_open":
        return false;
      case "open":
        return now >= s.open_until;
      case "half_open":
        return s.state === this.seen ? this.probesInFlight < this.halfOpenCalls : true;
    }
  }

  /** An acquired call ended without a verdict (client went away, request cancelled): frees its probe slot. */
  release(epoch?: number): void {
    this.sync();
    if ((epoch === undefined || epoch === this.generation) && this.seen === "half_open" && this.probesInFlight > 0) this.probesInFlight--;
  }

  /**
   * Feeds the outcome of a call. latencyMs: time to first byte (what slow_call_ms is compared
   * to). epoch: `this.epoch` read when the call was admitted; a stale one (the state changed
   * since, here or in another process) is ignored. Without one, the result counts now.
   */
  onResult(kind: OutcomeKind, latencyMs: number, now: number, epoch?: number): void {
    this.sync();
    if (epoch !== undefined && epoch !== this.generation) return;
    if (kind === "rate_limited") return this.release();
    const failed = isBreakerFailure(kind);
    const slow = this.slowCallMs > 0 && latencyMs > this.slowCallMs;
    switch (this.seen) {
      case "closed": {
        this.window.record(failed, slow, now);
        if (!failed) {
          this.store.apply(this.cell, BREAKER_OPS.succeeded, undefined, now);
          return this.judgeRates(now);
        }
        const s = this.store.apply(this.cell, BREAKER_OPS.failed, undefined, now);
        if (this.failureThreshold > 0 && s.state === "closed" && s.consecutive_failures >= this.failureThreshold)
          return this.open("closed", now, "consecutive_failures");
        return this.judgeRates(now);
      }
      case "half_open":
        if (this.probesInFlight > 0) this.probesInFlight--;
        // A slow probe says the target has not recovered, even if it answered.
        if (failed || slow) return this.open("half_open", now, "probe_failed");
        this.change(BREAKER_OPS.probePassed, this.successThreshold, now, "probes_succeeded");
        return;
      default:
        // OPEN: late results of calls started before it opened say nothing new.
        // FORCED_OPEN / DISABLED: the operator decides.
        return;
    }
  }

  /**
   * A recovery probe (the provider's cheap call) got an answer while the breaker is open: end
   * the open wait now, so real calls test the target again instead of waiting out a wait that
   * grew during a long outage. True when it moved to HALF_OPEN.
   */
  probeAnswered(now: number): boolean {
    this.sync();
    if (this.seen !== "open") return false;
    this.change(BREAKER_OPS.halfOpen, true, now, "recovery_probe");
    return this.cell.value.state === "half_open";
  }

  /** Operator: refuse every call until reset(). */
  forceOpen(now = Date.now()): void {
    this.change(BREAKER_OPS.set, FORCED_OPEN, now, "forced_open");
  }

  /** Operator: admit every call and ignore results until reset(). */
  disable(now = Date.now()): void {
    this.change(BREAKER_OPS.set, DISABLED, now, "disabled");
  }

  /** Operator (or recovery elsewhere): back to CLOSED with a clean window. */
  reset(now = Date.now()): void {
    this.window.reset();
    this.change(BREAKER_OPS.set, CLOSED, now, "reset");
  }

  onTransition(listener: TransitionListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * The state as it is now, for /admin/status: an open breaker whose wait is over shows
   * half_open (the next call is a probe), not the open it was when last touched.
   */
  stats(now: number) {
    this.sync();
    const s = this.cell.value;
    const elapsed = s.state === "open" && now >= s.open_until;
    return {
      state: elapsed ? "half_open" : s.state,
      open_until: s.state === "open" && !elapsed ? s.open_until : null,
      openings: s.state === "open" || s.state === "half_open" ? s.openings : 0,
      consecutive_failures: s.state === "closed" ? s.consecutive_failures : 0,
      window_calls: this.window.calls(now),
      window_failures: this.window.failures(now),
      window_slow_calls: this.window.slowCalls(now),
    };
  }

  private judgeRates(now: number): void {
    const calls = this.window.calls(now);
    if (calls < this.minCalls) return;
    if (this.window.failures(now) >= this.failureRate * calls) return this.open("closed", now, "failure_rate");
    if (this.slowCallMs > 0 && this.window.slowCalls(now) >= this.slowCallRate * calls) this.open("closed", now, "slow_call_rate");
  }

  private open(from: "closed" | "half_open", now: number, reason: TransitionReason): void {
    const s = this.cell.value;
    const openings = (s.state === "half_open" ? s.openings : 0) + 1;
    this.change(BREAKER_OPS.open, { from, until: now + this.openBackoff.delay(openings) }, now, reason);
  }

  /** Applies an operation; a change of state starts a new epoch with no probes, and is announced. */
  private change<A>(op: StateOp<BreakerState, A>, arg: A, now: number, reason: TransitionReason): void {
    this.store.apply(this.cell, op, arg, now);
    this.sync(reason);
  }

  /** Notices a state change (made here, or by another process sharing the store). */
  private sync(reason: TransitionReason = "shared"): void {
    const to = this.cell.value.state;
    const from = this.seen;
    if (to === from) return;
    this.seen = to;
    this.generation++;
    this.probesInFlight = 0;
    if (to === "closed") this.window.reset();
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]?.(from, to, reason, this.name);
  }
}
