import type { OutcomeKind } from "./outcome.js";
import { WindowedStats } from "./windowed-stats.js";

/** Weight of the newest sample in the latency EWMA. */
const EWMA_ALPHA = 0.2;

/**
 * Live counters for one target, kept in one fixed-shape object that strategies, policies and the
 * status page read. Updated only by the attempt loop (onStart / onEnd).
 */
export class TargetStats {
  inFlight = 0;
  requests = 0;
  successes = 0;
  failures = 0;
  /** Exponentially weighted mean latency of completed attempts in ms; 0 until the first sample. */
  latencyEwmaMs = 0;
  lastLatencyMs = 0;
  /** Epoch ms of the last attempt start; 0 = never used. */
  lastUsedAt = 0;
  lastOutcome: OutcomeKind | "" = "";
  lastFailureAt = 0;
  lastFailureDetail = "";
  readonly byOutcome: Record<OutcomeKind, number> = {
    ok: 0,
    client_error: 0,
    rate_limited: 0,
    overloaded: 0,
    server_error: 0,
    timeout: 0,
    connection_failure: 0,
    broken_stream: 0,
  };
  /** The last minute, 5 minutes and hour of this target's attempts. */
  readonly window = new WindowedStats();

  onStart(now: number): void {
    this.window.inFlightChanging(now, this.inFlight);
    this.inFlight++;
    this.requests++;
    this.lastUsedAt = now;
  }

  onEnd(kind: OutcomeKind, latencyMs: number, now: number, detail: string): void {
    this.window.inFlightChanging(now, this.inFlight);
    this.inFlight--;
    this.window.record(now, latencyMs, kind !== "ok" && kind !== "client_error");
    this.byOutcome[kind]++;
    this.lastOutcome = kind;
    this.lastLatencyMs = latencyMs;
    this.latencyEwmaMs = this.latencyEwmaMs === 0 ? latencyMs : this.latencyEwmaMs + EWMA_ALPHA * (latencyMs - this.latencyEwmaMs);
    if (kind === "ok" || kind === "client_error") this.successes++;
    else {
      this.failures++;
      this.lastFailureAt = now;
      this.lastFailureDetail = detail;
    }
  }

  /** Zeroes the counters and windows (an operator's stats reset); calls in flight stay counted. */
  reset(now = Date.now()): void {
    this.requests = this.successes = this.failures = 0;
    this.latencyEwmaMs = this.lastLatencyMs = 0;
    this.lastUsedAt = this.lastFailureAt = 0;
    this.lastOutcome = "";
    this.lastFailureDetail = "";
    for (const k of Object.keys(this.byOutcome) as OutcomeKind[]) this.byOutcome[k] = 0;
    this.window.reset(now);
  }

  toJSON() {
    return {
      in_flight: this.inFlight,
      requests: this.requests,
      successes: this.successes,
      failures: this.failures,
      latency_ewma_ms: Math.round(this.latencyEwmaMs * 100) / 100,
      last_latency_ms: Math.round(this.lastLatencyMs * 100) / 100,
      last_used_at: this.lastUsedAt ? new Date(this.lastUsedAt).toISOString() : null,
      last_outcome: this.lastOutcome || null,
      last_failure_at: this.lastFailureAt ? new Date(this.lastFailureAt).toISOString() : null,
      last_failure: this.lastFailureDetail || null,
      by_outcome: { ...this.byOutcome },
    };
  }
}
