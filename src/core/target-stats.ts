import type { OutcomeKind } from "./outcome.js";

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

  /** Last TTFB samples of successful attempts (ring), for the p95 a hedge waits for. */
  private readonly ttfb = new Float64Array(64);
  private ttfbCount = 0;
  private p95Cache = 0;
  private p95At = 0;

  recordTtfb(ms: number): void {
    this.ttfb[this.ttfbCount++ & 63] = ms;
  }

  /** p95 of recent TTFBs in ms (0 with fewer than 10 samples); recomputed at most every 100 ms. */
  ttfbP95(now: number): number {
    if (this.ttfbCount < 10) return 0;
    if (now - this.p95At < 100) return this.p95Cache;
    const n = Math.min(this.ttfbCount, 64);
    const sorted = this.ttfb.slice(0, n).sort();
    this.p95Cache = sorted[Math.min(n - 1, Math.floor(n * 0.95))]!;
    this.p95At = now;
    return this.p95Cache;
  }

  onStart(now: number): void {
    this.inFlight++;
    this.requests++;
    this.lastUsedAt = now;
  }

  onEnd(kind: OutcomeKind, latencyMs: number, now: number, detail: string): void {
    this.inFlight--;
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
