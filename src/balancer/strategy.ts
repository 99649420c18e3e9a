import type { Target } from "../core/target.js";
import type { RequestContext } from "../core/request-context.js";
import type { Outcome } from "../core/outcome.js";

/**
 * A strategy picks one target for one attempt among the eligible ones (the eligibility filter —
 * breakers, benched keys, quotas, draining — has already run; a strategy never sees an
 * ineligible target). Returning undefined means "cannot decide" and hands the pick to the
 * route's fallback strategy (then to round-robin).
 *
 * Hot path: pick() must not allocate. `eligible` is a scratch array owned by the caller, valid
 * only during the call.
 */
export interface Strategy {
  readonly name: string;
  /**
   * True for strategies whose point is affinity (sticky): the route then does not thin the
   * eligible set for slow start or low quotas, which would move sessions at random.
   */
  readonly keepsAffinity?: boolean;
  pick(eligible: readonly Target[], ctx: RequestContext): Target | undefined;
  /** Called when an attempt to a target ends (after target.stats is updated). */
  onResult?(target: Target, outcome: Outcome, latencyMs: number, ctx: RequestContext): void;
  /** Strategy-wide state for /admin/status. */
  status?(): Record<string, unknown>;
  /** Per-target strategy state for /admin/status (e.g. current weight, score). */
  targetStatus?(target: Target): Record<string, unknown>;
}

/**
 * What a strategy may take from its surroundings besides config. Everything is optional: the
 * defaults are the real clock and a randomly seeded generator; tests inject fakes.
 */
export interface StrategyEnv {
  /** Monotonic clock in ms (default performance.now). Read sparingly: at most once per pick or result. */
  readonly now?: () => number;
}

/**
 * Builds a strategy for one route's pool. Options come from the route's strategy_options[name];
 * the factory validates them and throws an Error whose message names the option
 * (`strategy_options.latency.half_life_s: must be > 0`).
 */
export type StrategyFactory = (pool: readonly Target[], options: Record<string, unknown>, env?: StrategyEnv) => Strategy;
