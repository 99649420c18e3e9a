import { z } from "zod";
import type { Candidate, Strategy } from "./strategy.js";
import type { Outcome } from "../core/outcome.js";
import { isTargetFailure } from "../core/outcome.js";
import { nonNegative, parseOptions, positive, seed } from "./options.js";
import { Random } from "./rng.js";

const optionsSchema = z
  .object({
    /** What a good answer is worth: success, speed (relative to the fastest) and price (relative to the cheapest). */
    weights: z
      .object({ success: nonNegative().default(0.6), latency: nonNegative().default(0.3), cost: nonNegative().default(0.1) })
      .strict()
      .default({ success: 0.6, latency: 0.3, cost: 0.1 })
      .refine((w) => w.success + w.latency + w.cost > 0, { error: "must not all be 0" }),
    /** Memory, in results on this route: a result's weight halves after this many newer ones. */
    half_life: positive().default(200),
    /** Spread of the Thompson draw around a target's mean reward when it has one sample. */
    exploration: positive().default(0.3),
    seed: seed(),
  })
  .strict();

/** Rescale the lazily discounted sums before 1/scale overflows precision. */
const RENORMALIZE_BELOW = 1e-150;

/**
 * A bandit per route: learns which target gives the best reward and sends calls there, while still
 * trying the others now and then (Thompson sampling with a Gaussian posterior).
 *
 *     reward  = w_success · success rate + w_latency · min(1, fastest mean / mean latency) + w_cost · cheapest / cost
 *     draw    = reward + exploration · z / √(n + 1)        z ≈ N(0, 1), n = discounted sample count
 *     pick    = the eligible target with the highest draw
 *
 * Forgetting: every result on the route discounts all past results by 2^(−1/half_life), so a
 * target that turns slow loses its lead within ~half_life results, and a target nobody has called
 * for a while has a small n, a wide draw, and gets re-tried: the bandit notices a recovery.
 * The discount is applied lazily (one shared scale factor), so a result costs O(1), not O(pool).
 *
 * z comes from Random.roughNormal (sum of four uniforms): exploration noise needs the bell shape,
 * not exact tails, and it costs a quarter of Box–Muller — this loop runs once per eligible target.
 *
 * Success counts only target failures against a target (a client error teaches nothing);
 * latency is learned from successful calls only (a fast failure is not speed). No sample yet
 * means an optimistic prior: one success and top speed.
 */
export class Adaptive<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "adaptive";
  // Discounted sums per pool index, stored divided by `scale` (true value = stored × scale).
  private readonly count: Float64Array;
  private readonly successes: Float64Array;
  private readonly latencyCount: Float64Array;
  private readonly latencySum: Float64Array;
  private readonly gamma: number;
  private scale = 1;
  /** cheapest / cost per pool index (1 when unpriced): prices are fixed, so computed once. */
  private readonly price: Float64Array;
  private results = 0;

  constructor(
    pool: readonly T[],
    private readonly weights: { success: number; latency: number; cost: number },
    private readonly halfLife: number,
    private readonly exploration: number,
    private readonly random: Random,
  ) {
    const n = pool.length;
    this.count = new Float64Array(n);
    this.successes = new Float64Array(n);
    this.latencyCount = new Float64Array(n);
    this.latencySum = new Float64Array(n);
    this.gamma = Math.pow(2, -1 / halfLife);
    let cheapest = Infinity;
    for (const t of pool) cheapest = Math.min(cheapest, t.costInputPer1k + t.costOutputPer1k);
    this.price = Float64Array.from(pool, (t) => {
      const cost = t.costInputPer1k + t.costOutputPer1k;
      return cost > 0 ? cheapest / cost : 1;
    });
  }

  pick(eligible: readonly T[]): T | undefined {
    const n = eligible.length;
    if (n <= 1) return eligible[0];
    let fastest = Infinity;
    for (let i = 0; i < n; i++) {
      const t = eligible[i];
      if (t === undefined) continue;
      const k = t.index;
      // Only targets with about one sample's worth of evidence set the bar for speed.
      const latencyCount = this.latencyCount[k] ?? 0;
      if (latencyCount * this.scale >= 1) {
        const mean = (this.latencySum[k] ?? 0) / latencyCount;
        if (mean < fastest) fastest = mean;
      }
    }
    let best = eligible[0];
    let bestDraw = -Infinity;
    for (let i = 0; i < n; i++) {
      const t = eligible[i];
      if (t === undefined) continue;
      const draw =
        this.meanReward(t, fastest) +
        (this.exploration * this.random.roughNormal()) / Math.sqrt((this.count[t.index] ?? 0) * this.scale + 1);
      if (draw > bestDraw) {
        bestDraw = draw;
        best = t;
      }
    }
    return best;
  }

  onResult(target: T, outcome: Outcome, latencyMs: number): void {
    const kind = outcome.kind;
    if (kind === "client_error") return;
    this.results++;
    this.scale *= this.gamma;
    if (this.scale < RENORMALIZE_BELOW) this.renormalize();
    const k = target.index;
    const unit = 1 / this.scale;
    this.count[k] = (this.count[k] ?? 0) + unit;
    if (!isTargetFailure(kind)) {
      this.successes[k] = (this.successes[k] ?? 0) + unit;
      this.latencyCount[k] = (this.latencyCount[k] ?? 0) + unit;
      this.latencySum[k] = (this.latencySum[k] ?? 0) + latencyMs * unit;
    }
  }

  private meanReward(t: T, fastest: number): number {
    const k = t.index;
    const w = this.weights;
    const successRate = ((this.successes[k] ?? 0) * this.scale + 1) / ((this.count[k] ?? 0) * this.scale + 1);
    let speed = 1;
    const latencyCount = this.latencyCount[k] ?? 0;
    if (fastest < Infinity && latencyCount > 0) {
      const mean = (this.latencySum[k] ?? 0) / latencyCount;
      if (mean > fastest) speed = fastest / mean;
    }
    return w.success * successRate + w.latency * speed + w.cost * (this.price[k] ?? 1);
  }

  private renormalize(): void {
    const s = this.scale;
    for (const a of [this.count, this.successes, this.latencyCount, this.latencySum])
      for (let i = 0; i < a.length; i++) a[i] = (a[i] ?? 0) * s;
    this.scale = 1;
  }

  status(): Record<string, unknown> {
    return { method: "thompson", weights: this.weights, half_life: this.halfLife, exploration: this.exploration, results: this.results };
  }

  targetStatus(target: T): Record<string, unknown> {
    const k = target.index;
    const n = (this.count[k] ?? 0) * this.scale;
    const latencyN = this.latencyCount[k] ?? 0;
    return {
      samples: round(n),
      success_rate: round(((this.successes[k] ?? 0) * this.scale + 1) / (n + 1)),
      mean_latency_ms: latencyN > 0 ? round((this.latencySum[k] ?? 0) / latencyN) : null,
      spread: round(this.exploration / Math.sqrt(n + 1)),
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function createAdaptive<T extends Candidate>(pool: readonly T[], options: Record<string, unknown>): Strategy<T> {
  const o = parseOptions("adaptive", optionsSchema, options);
  return new Adaptive(pool, o.weights, o.half_life, o.exploration, new Random(o.seed));
}
