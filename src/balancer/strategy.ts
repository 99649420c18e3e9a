import type { Outcome } from "../core/outcome.js";

/**
 * A target as a strategy sees it (Envoy's host as its load balancer sees it): identity, the
 * configured shares and prices, and live load. The engine's targets satisfy it; a strategy never
 * sees their addresses, keys or policies.
 */
export interface Candidate {
  readonly id: string;
  /** Position in the route's pool, stable for the route's life: strategies index arrays by it. */
  readonly index: number;
  readonly weight: number;
  readonly tier: number;
  readonly quality: number;
  readonly costInputPer1k: number;
  readonly costOutputPer1k: number;
  readonly stats: CandidateStats;
}

export interface CandidateStats {
  /** Attempts in flight now. */
  readonly inFlight: number;
  /** Exponentially weighted mean latency of completed attempts in ms; 0 until the first sample. */
  readonly latencyEwmaMs: number;
}

/**
 * What a strategy may know about the request it picks for (Envoy's load balancer context): its
 * headers, its JSON body, and token estimates for price-aware picks. Nothing of the engine.
 */
export interface PickContext {
  /** Request headers, lower-case names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body on LLM surfaces; undefined otherwise. */
  readonly json: Readonly<Record<string, unknown>> | undefined;
  /** Rough input token estimate of the request. */
  estimatedInputTokens(): number;
  /** Output tokens the client allows (max_tokens / max_completion_tokens), or the fallback. */
  maxOutputTokens(fallback: number): number;
}

/**
 * A strategy picks one target for one attempt among the eligible ones (the route's policies —
 * breakers, benched keys, quotas, draining — have already run; a strategy never sees an
 * ineligible target). Returning undefined means "cannot decide" and hands the pick to the
 * route's fallback strategy (then to round-robin).
 *
 * Hot path: pick() must not allocate. `eligible` is a scratch array owned by the caller, valid
 * only during the call.
 */
export interface Strategy<T extends Candidate = Candidate> {
  readonly name: string;
  /**
   * True for strategies whose point is affinity (sticky): the route then does not thin the
   * eligible set for slow start or low quotas, which would move sessions at random.
   */
  readonly keepsAffinity?: boolean;
  pick(eligible: readonly T[], ctx: PickContext): T | undefined;
  /** Called when an attempt to a target ends (after its stats are updated). */
  onResult?(target: T, outcome: Outcome, latencyMs: number, ctx: PickContext): void;
  /** Strategy-wide state for /admin/status. */
  status?(): Record<string, unknown>;
  /** Per-target strategy state for /admin/status (e.g. current weight, score). */
  targetStatus?(target: T): Record<string, unknown>;
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
export type StrategyFactory = <T extends Candidate>(pool: readonly T[], options: Record<string, unknown>, env?: StrategyEnv) => Strategy<T>;
