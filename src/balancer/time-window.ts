import { z } from "zod";
import type { Candidate, PickContext, Strategy, StrategyEnv } from "./strategy.js";
import type { Outcome } from "../core/outcome.js";
import { parseOptions, positive } from "./options.js";
import { clockOf } from "./clock.js";
import { LeastRecentlyUsed } from "./least-recently-used.js";

const optionsSchema = z
  .object({
    /** A key used within this many minutes is avoided while another key has not been. */
    window_minutes: positive().default(5),
  })
  .strict();

/**
 * The multi-key balancer's `time-window` strategy: the key not used within the last window.
 * Keys used within `window_minutes` are avoided while any other key has rested that long; when
 * none has, the key idle longest still goes (the request is never refused for it).
 *
 * That is least-recently-used with its window in minutes, so the picking is delegated to it;
 * this class gives it the name and option the balancer's users know.
 */
export class TimeWindow<T extends Candidate = Candidate> implements Strategy<T> {
  readonly name = "time-window";
  private readonly lru: LeastRecentlyUsed<T>;

  constructor(
    pool: readonly T[],
    private readonly windowMinutes: number,
    now: () => number,
  ) {
    this.lru = new LeastRecentlyUsed(pool, windowMinutes * 60_000, false, now);
  }

  pick(eligible: readonly T[]): T | undefined {
    return this.lru.pick(eligible);
  }

  onResult(target: T, _outcome: Outcome, _latencyMs: number, _ctx: PickContext): void {
    this.lru.onResult(target);
  }

  status(): Record<string, unknown> {
    return { window_minutes: this.windowMinutes };
  }

  targetStatus(target: T): Record<string, unknown> {
    return this.lru.targetStatus(target);
  }
}

export function createTimeWindow<T extends Candidate>(
  pool: readonly T[],
  options: Record<string, unknown>,
  env?: StrategyEnv,
): Strategy<T> {
  const o = parseOptions("time-window", optionsSchema, options);
  return new TimeWindow(pool, o.window_minutes, clockOf(env));
}
