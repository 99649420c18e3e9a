import { z } from "zod";
import type { Candidate, Strategy, StrategyEnv } from "./strategy.js";
import type { Outcome } from "../core/outcome.js";
import { isTargetFailure } from "../core/outcome.js";
import { nonNegative, parseOptions, positive, seed } from "./options.js";
import { Random } from "./rng.js";
import { clockOf } from "./clock.js";

const optionsSchema = z
  .object({
    weights: z
      .object({
        uptime: nonNegative().default(0.4),
        latency: nonNegative().default(0.3),
        errors: nonNegative().default(0.2),
        cost: nonNegative().default(0.1),
      })
      .strict()
      .default({ uptime: 0.4, latency: 0.3, errors: 0.2, cost: 0.1 })
      .refine((w) => w.uptime + w.latency + w.errors + w.cost > 0, { error: "must not all be 0" }),
    /** Half-life of the outcome memory: old failures weigh half after this long, and a target left alone drifts back to healthy. */
    half_life_s: positive().default(60),
    /** Share of the eligible targets (best first) that take traffic. */
    top_fraction: z.number({ error: "must be a number" }).gt(0, { error: "must be > 0" }).max(1, { error: "must be <= 1" }).default(0.5),
    seed: seed(),
  })
  .strict();

/**
 * A health score per target, then weighted-random (by score) among the best `top_fraction` of the
 * eligible targets.
 *
 *     score = w_uptime · uptime + w_latency · (fastest / latency) + w_errors · (1 − error rate) + w_cost · (cheapest / cost)
 *
 * uptime = share of attempts that reached the target (no connection failure or timeout); error
 * rate = share of attempts that failed for the target's sake. Both are time-decayed counts with a
 * prior of one good attempt, so a target nobody calls recovers toward healthy instead of staying
 * condemned by old news. Latency is target.stats' EWMA (no sample yet counts as the fastest).
 *
 * Scores change only when results arrive, so they are recomputed (and the ranking re-sorted by
 * insertion sort, which is linear on a nearly sorted order) on the first pick after a result,
 * not on every pick.
 */
export class HealthScore<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "health";
  private readonly attempts: Float64Array;
  private readonly reached: Float64Array;
  private readonly failed: Float64Array;
  private readonly stamp: Float64Array;
  private readonly score: Float64Array;
  /** Pool indices, best score first. */
  private readonly order: Int32Array;
  /** Eligibility marks for the current pick: mark[index] === epoch. */
  private readonly mark: Uint32Array;
  private readonly byIndex: (T | undefined)[];
  private readonly chosen: (T | undefined)[];
  private readonly cheapest: number;
  private readonly tau: number;
  private epoch = 0;
  private dirty = true;
  private lastResultAt: number;

  constructor(
    private readonly pool: readonly T[],
    private readonly weights: { uptime: number; latency: number; errors: number; cost: number },
    halfLifeMs: number,
    private readonly topFraction: number,
    private readonly random: Random,
    private readonly now: () => number,
  ) {
    const n = pool.length;
    this.attempts = new Float64Array(n);
    this.reached = new Float64Array(n);
    this.failed = new Float64Array(n);
    this.stamp = new Float64Array(n);
    this.score = new Float64Array(n);
    this.order = new Int32Array(n);
    this.mark = new Uint32Array(n);
    this.byIndex = new Array<T | undefined>(n).fill(undefined);
    this.chosen = new Array<T | undefined>(n).fill(undefined);
    for (let i = 0; i < n; i++) this.order[i] = i;
    let cheapest = Infinity;
    for (const t of pool) cheapest = Math.min(cheapest, t.costInputPer1k + t.costOutputPer1k);
    this.cheapest = cheapest;
    this.tau = halfLifeMs / Math.LN2;
    this.lastResultAt = now();
    const t0 = this.lastResultAt;
    this.stamp.fill(t0);
  }

  pick(eligible: readonly T[]): T | undefined {
    const n = eligible.length;
    if (n <= 1) return eligible[0];
    if (this.dirty) this.rescore();
    const epoch = (this.epoch = (this.epoch + 1) >>> 0 || 1);
    for (let i = 0; i < n; i++) {
      const t = eligible[i];
      if (t === undefined) continue;
      this.mark[t.index] = epoch;
      this.byIndex[t.index] = t;
    }
    const top = Math.max(1, Math.ceil(n * this.topFraction));
    let count = 0;
    let total = 0;
    const order = this.order;
    for (let r = 0; r < order.length && count < top; r++) {
      const k = order[r];
      if (k === undefined || this.mark[k] !== epoch) continue;
      this.chosen[count++] = this.byIndex[k];
      total += this.score[k] ?? 0;
    }
    let x = this.random.next() * total;
    for (let i = 0; i < count - 1; i++) {
      // chosen[0..count) were all set above from marked (hence eligible) pool indices.
      const c = this.chosen[i];
      if (c === undefined) continue;
      x -= this.score[c.index] ?? 0;
      if (x < 0) return c;
    }
    return this.chosen[count - 1];
  }

  onResult(target: T, outcome: Outcome): void {
    const kind = outcome.kind;
    if (kind === "client_error") return; // the client's fault says nothing about the target
    const k = target.index;
    const now = this.now();
    this.decay(k, now);
    this.attempts[k] = (this.attempts[k] ?? 0) + 1;
    if (kind !== "connection_failure" && kind !== "timeout") this.reached[k] = (this.reached[k] ?? 0) + 1;
    if (isTargetFailure(kind)) this.failed[k] = (this.failed[k] ?? 0) + 1;
    this.lastResultAt = now;
    this.dirty = true;
  }

  private decay(k: number, now: number): void {
    const dt = now - (this.stamp[k] ?? now);
    if (dt > 0) {
      const w = Math.exp(-dt / this.tau);
      this.attempts[k] = (this.attempts[k] ?? 0) * w;
      this.reached[k] = (this.reached[k] ?? 0) * w;
      this.failed[k] = (this.failed[k] ?? 0) * w;
    }
    this.stamp[k] = now;
  }

  private rescore(): void {
    const pool = this.pool;
    const now = this.lastResultAt;
    let fastest = Infinity;
    for (const t of pool) if (t.stats.latencyEwmaMs > 0 && t.stats.latencyEwmaMs < fastest) fastest = t.stats.latencyEwmaMs;
    for (let k = 0; k < pool.length; k++) {
      const t = pool[k];
      if (t !== undefined) this.score[k] = this.scoreOf(t, now, fastest);
    }
    // Insertion sort by score, best first; stable, so equal scores keep pool order.
    const order = this.order;
    for (let i = 1; i < order.length; i++) {
      const k = order[i] ?? 0;
      const s = this.score[k] ?? 0;
      let j = i - 1;
      while (j >= 0) {
        const o = order[j] ?? 0;
        if (!((this.score[o] ?? 0) < s)) break;
        order[j + 1] = o;
        j--;
      }
      order[j + 1] = k;
    }
    this.dirty = false;
  }

  private scoreOf(t: T, now: number, fastest: number): number {
    const k = t.index;
    this.decay(k, now);
    const attempts = (this.attempts[k] ?? 0) + 1;
    const uptime = ((this.reached[k] ?? 0) + 1) / attempts;
    const errorRate = (this.failed[k] ?? 0) / attempts;
    const latency = t.stats.latencyEwmaMs;
    const latencyScore = latency > 0 && fastest < Infinity ? fastest / latency : 1;
    const cost = t.costInputPer1k + t.costOutputPer1k;
    const costScore = cost > 0 ? this.cheapest / cost : 1;
    const w = this.weights;
    // A floor keeps every top target drawable even when all scores are zero.
    return w.uptime * uptime + w.latency * latencyScore + w.errors * (1 - errorRate) + w.cost * costScore + 1e-9;
  }

  status(): Record<string, unknown> {
    return { weights: this.weights, half_life_s: (this.tau * Math.LN2) / 1000, top_fraction: this.topFraction };
  }

  targetStatus(target: T): Record<string, unknown> {
    if (this.dirty) this.rescore();
    const k = target.index;
    const attempts = (this.attempts[k] ?? 0) + 1;
    return {
      score: round(this.score[k] ?? 0),
      rank: this.order.indexOf(k) + 1,
      uptime: round(((this.reached[k] ?? 0) + 1) / attempts),
      error_rate: round((this.failed[k] ?? 0) / attempts),
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function createHealth<T extends Candidate>(pool: readonly T[], options: Record<string, unknown>, env?: StrategyEnv): Strategy<T> {
  const o = parseOptions("health", optionsSchema, options);
  return new HealthScore(pool, o.weights, o.half_life_s * 1000, o.top_fraction, new Random(o.seed), clockOf(env));
}
