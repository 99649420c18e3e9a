import { z } from "zod";
import type { Candidate, Strategy } from "./strategy.js";
import { parseOptions } from "./options.js";

const optionsSchema = z.object({}).strict();

/**
 * Smooth weighted round-robin, the algorithm nginx uses (ngx_http_upstream_get_peer): on every
 * pick each eligible target's current weight grows by its weight, the largest wins and gives back
 * the total. Deterministic and interleaved: weights 5/1/1 give a a b a c a a, never a burst of
 * five a's. A target that is ineligible keeps its current weight until it returns.
 */
export class Weighted<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "weighted";
  /** Current weight per pool index. */
  private readonly current: Float64Array;

  constructor(pool: readonly T[]) {
    this.current = new Float64Array(pool.length);
  }

  pick(eligible: readonly T[]): T | undefined {
    const n = eligible.length;
    if (n <= 1) return eligible[0];
    const current = this.current;
    let total = 0;
    let best = 0;
    let bestWeight = -Infinity;
    for (let i = 0; i < n; i++) {
      const t = eligible[i];
      if (t === undefined) continue;
      const c = (current[t.index] ?? 0) + t.weight;
      current[t.index] = c;
      total += t.weight;
      if (c > bestWeight) {
        bestWeight = c;
        best = i;
      }
    }
    const winner = eligible[best];
    if (winner === undefined) return undefined;
    current[winner.index] = bestWeight - total;
    return winner;
  }

  targetStatus(target: T): Record<string, unknown> {
    return { weight: target.weight, current_weight: round(this.current[target.index] ?? 0) };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function createWeighted<T extends Candidate>(pool: readonly T[], options: Record<string, unknown>): Strategy<T> {
  parseOptions("weighted", optionsSchema, options);
  return new Weighted(pool);
}
