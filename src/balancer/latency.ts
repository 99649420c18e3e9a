import { z } from "zod";
import type { Candidate, Strategy, StrategyEnv } from "./strategy.js";
import type { Outcome } from "../core/outcome.js";
import { isTargetFailure } from "../core/outcome.js";
import { nonNegative, parseOptions, positive } from "./options.js";
import { clockOf } from "./clock.js";

const optionsSchema = z
  .object({
    /** Half-life of the latency memory: an old peak has half its weight after this long. */
    half_life_s: positive().default(7),
    /** A failed attempt counts as at least this slow, so a target that fails fast never looks fast. */
    failure_penalty_ms: nonNegative().default(1000),
    /**
     * What happens before any eligible target has a sample: "probe" picks an untried target
     * (each untried target gets one probe at a time); "fallback" returns no decision, so the
     * route's fallback_strategy spreads the first calls.
     */
    cold_start: z.enum(["probe", "fallback"], { error: "must be probe or fallback" }).default("probe"),
  })
  .strict();

const LN_TABLE_SIZE = 1024;
/** ln(p + 1) for p < LN_TABLE_SIZE: in-flight counts are small integers, Math.log is the slow part. */
const LN_P1 = new Float64Array(LN_TABLE_SIZE);
for (let p = 0; p < LN_TABLE_SIZE; p++) LN_P1[p] = Math.log(p + 1);
const MIN_RTT_MS = 0.001;

/**
 * Peak-EWMA (Finagle, Linkerd, tower): each target's cost is an EWMA of observed latency that
 * jumps straight to any sample above it (peaks are believed at once, recoveries slowly) and decays
 * toward zero with time. The pick is the eligible target with the least cost × (in-flight + 1),
 * so a fast target takes more load until its queue makes it as expensive as a slower one.
 *
 *     cost(t) = c · e^(−(t − s)/τ)      c, s = value and time of the last update, τ = half_life / ln 2
 *
 * Every cost decays by the same factor, so the order of decayed costs never changes with time:
 * comparing ln c + s/τ (+ ln(in-flight + 1)) gives the same answer as decaying each one, without a
 * clock read or an exp per target on the pick. The clock is read only when a result arrives.
 *
 * A target with no sample yet gets a probe: it is picked while it has nothing in flight.
 */
export class PeakEwma<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "latency";
  private readonly cost: Float64Array;
  private readonly stamp: Float64Array;
  /** ln(cost) + (stamp − epoch)/τ: the decay-free sort key. */
  private readonly key: Float64Array;
  private readonly sampled: Uint8Array;
  private readonly tau: number;
  private readonly epoch: number;
  private rotation = 0;

  constructor(
    pool: readonly T[],
    private readonly halfLifeMs: number,
    private readonly failurePenaltyMs: number,
    private readonly coldStartProbe: boolean,
    private readonly now: () => number,
  ) {
    const n = pool.length;
    this.cost = new Float64Array(n);
    this.stamp = new Float64Array(n);
    this.key = new Float64Array(n);
    this.sampled = new Uint8Array(n);
    this.tau = halfLifeMs / Math.LN2;
    this.epoch = now();
  }

  pick(eligible: readonly T[]): T | undefined {
    const n = eligible.length;
    if (n <= 1) return eligible[0];
    const start = this.rotation % n;
    this.rotation = (this.rotation + 1) & 0x3fffffff;
    let best: T | undefined;
    let bestKey = Infinity;
    // Untried targets whose probe is still running: used only when nothing has a sample.
    let waiting: T | undefined;
    let waitingInFlight = Infinity;
    for (let j = 0; j < n; j++) {
      let i = start + j;
      if (i >= n) i -= n;
      const t = eligible[i];
      if (t === undefined) continue;
      const k = t.index;
      const p = t.stats.inFlight;
      if (this.sampled[k] === 0) {
        if (p === 0) {
          if (this.coldStartProbe || best !== undefined) return t;
          waiting = waiting ?? t;
          waitingInFlight = 0;
        } else if (p < waitingInFlight) {
          waiting = t;
          waitingInFlight = p;
        }
        continue;
      }
      const key = (this.key[k] ?? 0) + (p < LN_TABLE_SIZE ? (LN_P1[p] ?? Math.log(p + 1)) : Math.log(p + 1));
      if (key < bestKey) {
        bestKey = key;
        best = t;
      }
    }
    if (best !== undefined) {
      // A probe target seen before the first sampled one in the scan order still deserves its turn.
      if (waiting !== undefined && waitingInFlight === 0) return waiting;
      return best;
    }
    return this.coldStartProbe ? waiting : undefined;
  }

  onResult(target: T, outcome: Outcome, latencyMs: number): void {
    const k = target.index;
    const now = this.now();
    let rtt = latencyMs > MIN_RTT_MS ? latencyMs : MIN_RTT_MS;
    if (isTargetFailure(outcome.kind) && rtt < this.failurePenaltyMs) rtt = this.failurePenaltyMs;
    let c: number;
    if (this.sampled[k] === 0) {
      c = rtt;
      this.sampled[k] = 1;
    } else {
      const prev = this.cost[k] ?? 0;
      const dt = now - (this.stamp[k] ?? now);
      const w = dt > 0 ? Math.exp(-dt / this.tau) : 1;
      c = rtt > prev ? rtt : prev * w + rtt * (1 - w);
    }
    this.cost[k] = c;
    this.stamp[k] = now;
    this.key[k] = Math.log(c) + (now - this.epoch) / this.tau;
  }

  /** The decayed cost of a target now, in ms (0 = no sample yet). */
  costNow(target: T): number {
    const k = target.index;
    if (this.sampled[k] === 0) return 0;
    return (this.cost[k] ?? 0) * Math.exp(-(this.now() - (this.stamp[k] ?? 0)) / this.tau);
  }

  status(): Record<string, unknown> {
    return {
      half_life_s: this.halfLifeMs / 1000,
      failure_penalty_ms: this.failurePenaltyMs,
      cold_start: this.coldStartProbe ? "probe" : "fallback",
    };
  }

  targetStatus(target: T): Record<string, unknown> {
    const cost = this.costNow(target);
    return {
      ewma_ms: this.sampled[target.index] ? round(cost) : null,
      in_flight: target.stats.inFlight,
      load: this.sampled[target.index] ? round(cost * (target.stats.inFlight + 1)) : null,
    };
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

export function createLatency<T extends Candidate>(pool: readonly T[], options: Record<string, unknown>, env?: StrategyEnv): Strategy<T> {
  const o = parseOptions("latency", optionsSchema, options);
  return new PeakEwma(pool, o.half_life_s * 1000, o.failure_penalty_ms, o.cold_start === "probe", clockOf(env));
}
