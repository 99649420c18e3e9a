import type { Target } from "../core/target.js";
import type { Policy } from "./policy.js";

/** Bulkhead: a target with limits.max_concurrent is skipped while that many attempts are in flight. */
export class Bulkhead implements Policy {
  readonly name = "max_concurrent";

  isEligible(t: Target): boolean {
    return t.maxConcurrent === 0 || t.stats.inFlight < t.maxConcurrent;
  }

  /** Capacity comes back when an attempt ends, not at a known time. */
  eligibleAt(): number {
    return 0;
  }

  targetStatus(t: Target): Record<string, unknown> | undefined {
    if (t.maxConcurrent === 0) return undefined;
    return {
      limit: t.maxConcurrent,
      in_flight: t.stats.inFlight,
      utilisation: Math.round((t.stats.inFlight / t.maxConcurrent) * 1000) / 1000,
    };
  }
}
