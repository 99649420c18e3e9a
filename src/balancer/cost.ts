import { z } from "zod";
import type { Candidate, PickContext, Strategy } from "./strategy.js";
import { parseOptions, positiveInt } from "./options.js";
import { estimatedCost, sameCost } from "./token-cost.js";

const optionsSchema = z
  .object({
    /** Output tokens assumed when the request sets no max_tokens / max_completion_tokens. */
    default_output_tokens: positiveInt().default(256),
  })
  .strict();

/**
 * The cheapest eligible target for this request: input tokens estimated from the body (4 bytes a
 * token), output tokens from max_tokens or the default, priced with each target's cost per 1k.
 * Ties (equal price) go to the lower latency EWMA — a target with no latency sample yet first, so
 * it gets measured — then rotate. Undecided when no eligible target has a price.
 */
export class Cheapest<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "cost";
  private rotation = 0;

  constructor(private readonly defaultOutputTokens: number) {}

  pick(eligible: readonly T[], ctx: PickContext): T | undefined {
    const n = eligible.length;
    if (n === 0) return undefined;
    const input = ctx.estimatedInputTokens();
    const output = ctx.maxOutputTokens(this.defaultOutputTokens);
    const start = this.rotation % n;
    this.rotation = (this.rotation + 1) & 0x3fffffff;
    const first = eligible[start];
    if (first === undefined) return undefined;
    let best = first;
    let bestCost = estimatedCost(best, input, output);
    let priced = bestCost > 0;
    for (let j = 1; j < n; j++) {
      let i = start + j;
      if (i >= n) i -= n;
      const t = eligible[i];
      if (t === undefined) continue;
      const c = estimatedCost(t, input, output);
      if (c > 0) priced = true;
      if (sameCost(c, bestCost) ? t.stats.latencyEwmaMs < best.stats.latencyEwmaMs : c < bestCost) {
        best = t;
        bestCost = c;
      }
    }
    return priced ? best : undefined;
  }

  status(): Record<string, unknown> {
    return { default_output_tokens: this.defaultOutputTokens };
  }

  targetStatus(target: T): Record<string, unknown> {
    return {
      input_per_1k: target.costInputPer1k,
      output_per_1k: target.costOutputPer1k,
      cost_per_default_request: estimatedCost(target, 0, this.defaultOutputTokens),
    };
  }
}

export function createCost<T extends Candidate>(_pool: readonly T[], options: Record<string, unknown>): Strategy<T> {
  const o = parseOptions("cost", optionsSchema, options);
  return new Cheapest(o.default_output_tokens);
}
