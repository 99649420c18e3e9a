import { z } from "zod";
import type { Candidate, PickContext, Strategy, StrategyEnv, StrategyFactory } from "./strategy.js";
import type { Outcome } from "../core/outcome.js";
import { parseOptions, strategyName } from "./options.js";
import { RoundRobin } from "./round-robin.js";

const optionsSchema = z
  .object({
    /** How to pick within the active tier. */
    within: strategyName()
      .refine((s) => s !== "tiered", { error: "must not be tiered" })
      .default("round-robin"),
    /** Options of the `within` strategy. */
    within_options: z.record(z.string(), z.unknown(), { error: "must be a mapping" }).default({}),
  })
  .strict();

/** One tier's own state: its `within` strategy, its round-robin fallback, its reused pick array. */
interface TierSlot<T extends Candidate> {
  readonly tier: number;
  readonly inner: Strategy<T>;
  readonly fallback: RoundRobin<T>;
  /** Reused array of the eligible targets of that tier. */
  readonly scratch: T[];
}

/**
 * Targets grouped by tier, 1 first. The active tier is the best tier that has an eligible target:
 * a lower tier gets traffic only when every target of all higher tiers is ineligible (breaker
 * open, key benched, over quota). Within the tier, the `within` strategy picks — one instance per
 * tier, so its state (current weights, latency) is the tier's own. If it cannot decide, the tier
 * falls back to round-robin itself: handing the pick to the route's fallback would leak traffic
 * into lower tiers.
 */
export class Tiered<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "tiered";
  /** Distinct tier numbers, ascending. */
  private readonly tiers: number[];
  /** Slot per tier number (index = tier), -1 for tiers not in the pool. */
  private readonly slotOfTier: Int32Array;
  /** Per distinct tier, same order as `tiers`. */
  private readonly slots: TierSlot<T>[];
  private activeTier = 0;

  constructor(pool: readonly T[], makeInner: (pool: readonly T[]) => Strategy<T>) {
    this.tiers = [...new Set(pool.map((t) => t.tier))].sort((a, b) => a - b);
    this.slotOfTier = new Int32Array((this.tiers[this.tiers.length - 1] ?? 0) + 1).fill(-1);
    this.tiers.forEach((tier, slot) => (this.slotOfTier[tier] = slot));
    this.slots = this.tiers.map((tier) => ({
      tier,
      // Each inner strategy sees the whole pool so its arrays can be indexed by target.index.
      inner: makeInner(pool),
      fallback: new RoundRobin<T>(),
      scratch: pool.filter((t) => t.tier === tier),
    }));
  }

  /** The slot of a tier some pool target has; any other tier is a caller bug. */
  private slotOf(tier: number): TierSlot<T> {
    const slot = this.slots[this.slotOfTier[tier] ?? -1];
    if (slot === undefined) throw new Error(`tiered: tier ${tier} has no target in this route's pool`);
    return slot;
  }

  pick(eligible: readonly T[], ctx: PickContext): T | undefined {
    const n = eligible.length;
    if (n === 0) return undefined;
    let tier = Infinity;
    let inTier = 0;
    for (let i = 0; i < n; i++) {
      const c = eligible[i];
      if (c === undefined) continue;
      const t = c.tier;
      if (t < tier) {
        tier = t;
        inTier = 1;
      } else if (t === tier) inTier++;
    }
    this.activeTier = tier;
    const slot = this.slotOf(tier);
    let candidates: readonly T[] = eligible;
    if (inTier !== n) {
      // Reuse the tier's array: it never needs more room than the tier has targets.
      const sub = slot.scratch;
      let k = 0;
      for (let i = 0; i < n; i++) {
        const t = eligible[i];
        if (t !== undefined && t.tier === tier) sub[k++] = t;
      }
      sub.length = k;
      candidates = sub;
    }
    return slot.inner.pick(candidates, ctx) ?? slot.fallback.pick(candidates);
  }

  onResult(target: T, outcome: Outcome, latencyMs: number, ctx: PickContext): void {
    this.slotOf(target.tier).inner.onResult?.(target, outcome, latencyMs, ctx);
  }

  status(): Record<string, unknown> {
    return {
      within: this.slots[0]?.inner.name ?? null,
      tiers: this.tiers,
      active_tier: this.activeTier || null,
      by_tier: Object.fromEntries(this.slots.map((s) => [s.tier, s.inner.status?.() ?? {}])),
    };
  }

  targetStatus(target: T): Record<string, unknown> {
    const inner = this.slotOf(target.tier).inner;
    return { tier: target.tier, ...(inner.targetStatus?.(target) ?? {}) };
  }
}

export function createTiered<T extends Candidate>(
  pool: readonly T[],
  options: Record<string, unknown>,
  factories: Partial<Record<string, StrategyFactory>>,
  env?: StrategyEnv,
): Strategy<T> {
  const o = parseOptions("tiered", optionsSchema, options);
  const factory = factories[o.within];
  if (!factory) throw new Error(`strategy_options.tiered.within: strategy "${o.within}" is not available`);
  const makeInner = (p: readonly T[]) => {
    try {
      return factory(p, o.within_options, env);
    } catch (err) {
      const message = (err as Error).message.replace(`strategy_options.${o.within}`, "strategy_options.tiered.within_options");
      throw new Error(message, { cause: err });
    }
  };
  return new Tiered(pool, makeInner);
}
