import type { HedgeConfig } from "../config/resilience-schema.js";
import type { Target } from "../core/target.js";
import type { AttemptReport, Policy } from "./policy.js";

/** Hedge delay while a target has too few samples for a p95. */
const DEFAULT_HEDGE_DELAY_MS = 500;
const RING = 64;

/**
 * Hedged requests ("The Tail at Scale"): when to send a second attempt. The delay is fixed
 * (`delay_ms`) or the target's recent p95 time to first byte, learnt here from the outcomes of
 * its successful attempts (a ring of the last 64, this process's own measurements).
 */
export class HedgePolicy implements Policy {
  readonly name = "hedge";
  private readonly samples: Float64Array;
  private readonly counts: Int32Array;
  private readonly p95: Float64Array;
  private readonly p95At: Float64Array;

  constructor(
    readonly config: HedgeConfig,
    targets: number,
  ) {
    this.samples = new Float64Array(targets * RING);
    this.counts = new Int32Array(targets);
    this.p95 = new Float64Array(targets);
    this.p95At = new Float64Array(targets);
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  get maxHedges(): number {
    return this.config.max_hedges;
  }

  onOutcome(r: AttemptReport): void {
    if (r.outcome.kind !== "ok" || r.ttfbMs <= 0) return;
    const i = r.target.index;
    const n = this.counts[i] ?? 0;
    this.samples[i * RING + (n & (RING - 1))] = r.ttfbMs;
    this.counts[i] = n + 1;
  }

  /** Ms to wait for the first attempt to a target before hedging. */
  delay(target: Target, now: number): number {
    const d = this.config.delay_ms;
    if (d !== "p95") return d;
    const p95 = this.ttfbP95(target, now);
    return p95 > 0 ? p95 : DEFAULT_HEDGE_DELAY_MS;
  }

  /** p95 of a target's recent TTFBs in ms (0 with fewer than 10 samples); recomputed at most every 100 ms. */
  ttfbP95(target: Target, now: number): number {
    const i = target.index;
    const count = this.counts[i] ?? 0;
    if (count < 10) return 0;
    if (now - (this.p95At[i] ?? 0) < 100) return this.p95[i] ?? 0;
    const n = Math.min(count, RING);
    const sorted = this.samples.slice(i * RING, i * RING + n).sort();
    const v = sorted[Math.min(n - 1, Math.floor(n * 0.95))] ?? 0;
    this.p95[i] = v;
    this.p95At[i] = now;
    return v;
  }

  targetStatus(target: Target, now: number): Record<string, unknown> | undefined {
    if (!this.config.enabled) return undefined;
    return { ttfb_p95_ms: Math.round(this.ttfbP95(target, now) * 10) / 10 };
  }

  status(): Record<string, unknown> {
    return { ...this.config };
  }
}
