import { z } from "zod";
import type { Candidate, Strategy } from "./strategy.js";
import { parseOptions, seed } from "./options.js";
import { Random } from "./rng.js";

const optionsSchema = z.object({ seed: seed() }).strict();

/**
 * Random in proportion to weight: one draw over the eligible weights' total. Unlike smooth WRR it
 * keeps no state, so several gateway processes need no coordination; the cost is short-run noise.
 */
export class WeightedRandom<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "weighted-random";

  constructor(private readonly random: Random) {}

  pick(eligible: readonly T[]): T | undefined {
    const n = eligible.length;
    if (n <= 1) return eligible[0];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const t = eligible[i];
      if (t !== undefined) total += t.weight;
    }
    let r = this.random.next() * total;
    for (let i = 0; i < n - 1; i++) {
      const t = eligible[i];
      if (t === undefined) continue;
      r -= t.weight;
      if (r < 0) return t;
    }
    return eligible[n - 1];
  }

  targetStatus(target: T): Record<string, unknown> {
    return { weight: target.weight };
  }
}

export function createWeightedRandom<T extends Candidate>(_pool: readonly T[], options: Record<string, unknown>): Strategy<T> {
  const o = parseOptions("weighted-random", optionsSchema, options);
  return new WeightedRandom(new Random(o.seed));
}
