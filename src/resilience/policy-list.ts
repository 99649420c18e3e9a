import { GatewayError } from "../errors.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import { type AttemptReport, type Policy, REFUSED } from "./policy.js";

/**
 * A route's policies in order, with each hook's policies gathered at setup so a request walks
 * only prepared arrays: eligibility checks before every pick, shares when thinning, admission
 * before an attempt, outcomes after it. Admin actions and status go through the same list.
 */
export class PolicyList {
  private readonly checks: Policy[];
  private readonly sharers: Policy[];
  private readonly admitters: Policy[];
  private readonly starters: Policy[];
  private readonly takers: Policy[];

  constructor(readonly policies: readonly Policy[]) {
    this.checks = policies.filter((p) => p.isEligible !== undefined);
    this.sharers = policies.filter((p) => p.share !== undefined);
    this.admitters = policies.filter((p) => p.admit !== undefined);
    this.starters = policies.filter((p) => p.onStart !== undefined);
    this.takers = policies.filter((p) => p.onOutcome !== undefined);
  }

  isEligible(target: Target, now: number): boolean {
    const checks = this.checks;
    for (let i = 0; i < checks.length; i++) if (checks[i]?.isEligible?.(target, now) === false) return false;
    return true;
  }

  /** Names of the policies that rule the target out now ([] when eligible). */
  reasons(target: Target, now: number): string[] {
    return this.checks.filter((c) => c.isEligible?.(target, now) === false).map((c) => c.name);
  }

  /** Soonest epoch ms any of the targets becomes eligible by time alone; 0 when none will. */
  soonestEligibleAt(targets: readonly Target[], now: number): number {
    let best = 0;
    for (const t of targets) {
      let at = now;
      for (const c of this.checks) {
        if (c.isEligible?.(t, now) !== false) continue;
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

  /** The product of the targets' share factors (1 = full share). */
  share(target: Target, now: number): number {
    let f = 1;
    const sharers = this.sharers;
    for (let i = 0; i < sharers.length; i++) f *= sharers[i]?.share?.(target, now) ?? 1;
    return f;
  }

  /**
   * Asks every admitting policy (the quota, the breaker); when all say yes, tells the policies
   * that count starts. Returns the last non-zero ticket (the breaker's epoch), or REFUSED.
   */
  admit(target: Target, now: number, ctx?: RequestContext): number {
    let ticket = 0;
    const admitters = this.admitters;
    for (let i = 0; i < admitters.length; i++) {
      const t = admitters[i]?.admit?.(target, now, ctx) ?? 0;
      if (t === REFUSED) return REFUSED;
      if (t !== 0) ticket = t;
    }
    const starters = this.starters;
    for (let i = 0; i < starters.length; i++) starters[i]?.onStart?.(target, now, ctx);
    return ticket;
  }

  onOutcome(report: AttemptReport, now: number): void {
    const takers = this.takers;
    for (let i = 0; i < takers.length; i++) takers[i]?.onOutcome?.(report, now);
  }

  /** Runs an operator action on every policy that answers it. */
  act(action: string, target: Target, now: number): void {
    let handled = false;
    for (const p of this.policies) {
      if (p.actions?.includes(action) !== true) continue;
      p.act?.(action, target, now);
      handled = true;
    }
    if (!handled) throw new GatewayError("unknown_action", `unknown action "${action}" (one of ${this.actions().join(", ")})`);
  }

  /** Every action some policy answers. */
  actions(): string[] {
    return [...new Set(this.policies.flatMap((p) => p.actions ?? []))];
  }

  /** A target's status: eligible or not and why, then each policy's own state under its name. */
  targetStatus(target: Target, now: number): Record<string, unknown> {
    const out: Record<string, unknown> = { eligible: this.isEligible(target, now), excluded_by: this.reasons(target, now) };
    for (const p of this.policies) {
      const s = p.targetStatus?.(target, now);
      if (s !== undefined) out[p.name] = s;
    }
    return out;
  }

  /** Route-wide state of each policy that has one, under its name. */
  status(now: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of this.policies) {
      const s = p.status?.(now);
      if (s !== undefined) out[p.name] = s;
    }
    return out;
  }

  start(): void {
    for (const p of this.policies) p.start?.();
  }

  async stop(): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const p of this.policies) {
      const s = p.stop?.();
      if (s !== undefined) stopping.push(s);
    }
    await Promise.all(stopping);
  }
}
