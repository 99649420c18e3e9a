import type { Target } from "../core/target.js";

/**
 * One reason a target may be skipped right now (open breaker, benched key, over quota, draining,
 * full bulkhead…). The resilience and traffic modules add their checks; the route runs them all
 * before any strategy sees the pool.
 */
export interface EligibilityCheck {
  readonly name: string;
  isEligible(target: Target, now: number): boolean;
  /** Epoch ms when this check will next let the target through; 0 = unknown/never by time alone. */
  eligibleAt?(target: Target, now: number): number;
  /** This check's state of a target, for /admin/status. */
  targetStatus?(target: Target, now: number): Record<string, unknown> | undefined;
}

/** Bulkhead: a target with limits.max_concurrent is skipped while that many attempts are in flight. */
export const concurrencyCheck: EligibilityCheck = {
  name: "max_concurrent",
  isEligible: (t) => t.maxConcurrent === 0 || t.stats.inFlight < t.maxConcurrent,
};

export class Eligibility {
  constructor(private readonly checks: EligibilityCheck[]) {}

  add(check: EligibilityCheck): void {
    this.checks.push(check);
  }

  isEligible(target: Target, now: number): boolean {
    const checks = this.checks;
    for (let i = 0; i < checks.length; i++) if (!checks[i]!.isEligible(target, now)) return false;
    return true;
  }

  /** Names of the checks that currently exclude the target ([] when eligible). */
  reasons(target: Target, now: number): string[] {
    return this.checks.filter((c) => !c.isEligible(target, now)).map((c) => c.name);
  }

  /** Soonest epoch ms any of the targets becomes eligible by time alone; 0 when none will. */
  soonestEligibleAt(targets: readonly Target[], now: number): number {
    let best = 0;
    for (const t of targets) {
      let at = now;
      for (const c of this.checks) {
        if (c.isEligible(t, now)) continue;
        const when = c.eligibleAt?.(t, now) ?? 0;
        if (when === 0) {
          at = 0;
          break;
        }
        if (when > at) at = when;
      }
      if (at !== 0 && (best === 0 || at < best)) best = at;
    }
    return best;
  }

  targetStatus(target: Target, now: number): Record<string, unknown> {
    const out: Record<string, unknown> = { eligible: this.isEligible(target, now), excluded_by: this.reasons(target, now) };
    for (const c of this.checks) {
      const s = c.targetStatus?.(target, now);
      if (s !== undefined) out[c.name] = s;
    }
    return out;
  }
}
