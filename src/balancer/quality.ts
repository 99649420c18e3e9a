import { z } from "zod";
import type { Candidate, PickContext, Strategy } from "./strategy.js";
import { parseOptions, positiveInt } from "./options.js";
import { estimatedCost, sameCost } from "./token-cost.js";

const optionsSchema = z
  .object({
    /** Output tokens assumed for the cost tie-break when the request sets no max_tokens. */
    default_output_tokens: positiveInt().default(256),
  })
  .strict();

/**
 * The highest `quality` among eligible targets. Ties go to the cheaper target for this request
 * (same estimate as the cost strategy), then to the lower latency EWMA, then rotate. Undecided
 * when no eligible target has a quality above 0 (nobody scored them).
 */
export class BestQuality<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "quality";
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
    for (let j = 1; j < n; j++) {
      let i = start + j;
      if (i >= n) i -= n;
      const t = eligible[i];
      if (t === undefined || t.quality < best.quality) continue;
      const c = estimatedCost(t, input, output);
      const better = t.quality > best.quality || (sameCost(c, bestCost) ? t.stats.latencyEwmaMs < best.stats.latencyEwmaMs : c < bestCost);
      if (better) {
        best = t;
        bestCost = c;
      }
    }
    return best.quality > 0 ? best : undefined;
  }

  targetStatus(target: T): Record<string, unknown> {
    return { quality: target.quality };
  }
}

export function createQuality<T extends Candidate>(_pool: readonly T[], options: Record<string, unknown>): Strategy<T> {
  const o = parseOptions("quality", optionsSchema, options);
  return new BestQuality(o.default_output_tokens);
}
