/**
 * How long to wait before attempt n. One small interface, several curves and jitters
 * (AWS "Exponential Backoff And Jitter"): the curve gives t = min(max_ms, curve(n)), the
 * jitter spreads it so that clients that failed together do not retry together.
 *
 *   fixed        base
 *   linear       base·n
 *   exponential  base·factor^(n−1)
 *   fibonacci    base·1, 2, 3, 5, 8…
 *
 *   none         t
 *   full         random(0, t)
 *   equal        t/2 + random(0, t/2)
 *   decorrelated min(max_ms, random(base, prev·3))   (ignores the curve; needs prev)
 */
import type { BackoffConfig } from "../config/resilience-schema.js";

export interface Backoff {
  /**
   * Delay in ms before attempt `attempt` (1 = the first retry). `prevMs` is the delay returned
   * for the previous attempt; omitted, the instance's own last result is used — so a shared
   * per-route instance stays stateless when callers pass it, and a per-breaker instance just
   * calls delay(n).
   */
  delay(attempt: number, prevMs?: number): number;
}

export type Random = () => number;

/** Fibonacci numbers beyond this index exceed any sane cap; stop growing there. */
const FIB_LIMIT = 70;

export class CurveBackoff implements Backoff {
  private prev: number;
  private readonly kind: BackoffConfig["kind"];
  private readonly jitter: BackoffConfig["jitter"];
  private readonly base: number;
  private readonly max: number;
  private readonly factor: number;

  constructor(
    config: BackoffConfig,
    private readonly random: Random = Math.random,
  ) {
    this.kind = config.kind;
    this.jitter = config.jitter;
    this.base = config.base_ms;
    this.max = config.max_ms;
    this.factor = config.factor;
    this.prev = config.base_ms;
  }

  delay(attempt: number, prevMs?: number): number {
    const n = attempt < 1 ? 1 : Math.floor(attempt);
    let d: number;
    switch (this.jitter) {
      case "none":
        d = this.curve(n);
        break;
      case "full":
        d = this.random() * this.curve(n);
        break;
      case "equal": {
        const t = this.curve(n);
        d = t / 2 + (this.random() * t) / 2;
        break;
      }
      case "decorrelated": {
        // A new sequence (attempt 1) starts from base, whatever came before.
        const prev = n === 1 ? this.base : Math.max(this.base, prevMs ?? this.prev);
        const hi = Math.min(this.max, prev * 3);
        d = hi <= this.base ? hi : this.base + this.random() * (hi - this.base);
        break;
      }
    }
    d = Math.round(d);
    this.prev = d;
    return d;
  }

  /** The un-jittered, capped curve value for attempt n ≥ 1. */
  curve(n: number): number {
    let t: number;
    switch (this.kind) {
      case "fixed":
        t = this.base;
        break;
      case "linear":
        t = this.base * n;
        break;
      case "exponential":
        t = this.base * Math.pow(this.factor, n - 1);
        break;
      case "fibonacci": {
        // 1, 2, 3, 5, 8…: attempt 2 already waits longer than attempt 1.
        let a = 1;
        let b = 1;
        const steps = n < FIB_LIMIT ? n : FIB_LIMIT;
        for (let i = 1; i < steps; i++) {
          const c = a + b;
          a = b;
          b = c;
        }
        t = this.base * b;
        break;
      }
    }
    return t < this.max ? t : this.max;
  }
}

export function createBackoff(config: BackoffConfig, random: Random = Math.random): Backoff {
  return new CurveBackoff(config, random);
}

/** A deterministic backoff for the breaker's open wait: base·factor^(n−1), capped, no jitter. */
export function exponentialBackoff(baseMs: number, maxMs: number, factor = 2): CurveBackoff {
  return new CurveBackoff({ kind: "exponential", base_ms: baseMs, max_ms: maxMs, factor, jitter: "none" });
}
