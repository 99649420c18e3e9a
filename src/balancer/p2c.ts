import { z } from "zod";
import type { Candidate, Strategy } from "./strategy.js";
import { parseOptions, positive, seed } from "./options.js";
import { Random } from "./rng.js";

const optionsSchema = z
  .object({
    /** How strongly in-flight requests count against weight (Envoy's active_request_bias). */
    bias: positive().default(1),
    seed: seed(),
  })
  .strict();

/**
 * Power of two random choices on in-flight requests (Envoy's least_request): draw two distinct
 * eligible targets, keep the one with less load. Load is (in-flight + 1)^bias / weight, which is
 * plain in-flight comparison when weights are equal. O(1) per pick whatever the pool size, and it
 * avoids the herd that a strict "least" creates when many pickers see the same counts.
 */
export class PowerOfTwoChoices<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "p2c";

  constructor(
    private readonly random: Random,
    private readonly bias: number,
  ) {}

  pick(eligible: readonly T[]): T | undefined {
    const n = eligible.length;
    if (n <= 1) return eligible[0];
    const i = this.random.int(n);
    let j = this.random.int(n - 1);
    if (j >= i) j++;
    const a = eligible[i];
    const b = eligible[j];
    // i and j are drawn below n, so both exist.
    if (a === undefined || b === undefined) return a ?? b;
    return this.load(b) < this.load(a) ? b : a;
  }

  private load(t: T): number {
    const active = t.stats.inFlight + 1;
    return (this.bias === 1 ? active : Math.pow(active, this.bias)) / t.weight;
  }

  status(): Record<string, unknown> {
    return { bias: this.bias };
  }

  targetStatus(target: T): Record<string, unknown> {
    return { in_flight: target.stats.inFlight, load: Math.round(this.load(target) * 1000) / 1000 };
  }
}

export function createP2C<T extends Candidate>(_pool: readonly T[], options: Record<string, unknown>): Strategy<T> {
  const o = parseOptions("p2c", optionsSchema, options);
  return new PowerOfTwoChoices(new Random(o.seed), o.bias);
}
