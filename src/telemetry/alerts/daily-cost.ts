import type { AlertRule } from "./alert-rule.js";
import type { Observation } from "./alert-states.js";

const DAY_MS = 86_400_000;

/**
 * What requests cost since 00:00 UTC, for the gateway and per route. Added to once per request
 * (a number into a map), read on the timer; the totals start again at the next UTC day, which is
 * what resolves a daily_cost alert.
 */
export class DailyCost {
  private day = -1;
  private total = 0;
  private readonly byRoute = new Map<string, number>();

  add(route: string | null, usd: number, now: number): void {
    this.roll(now);
    if (!(usd > 0)) return;
    this.total += usd;
    if (route !== null) this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + usd);
  }

  /** USD spent today on the route, or on the whole gateway when `route` is undefined. */
  spent(route: string | undefined, now: number): number {
    this.roll(now);
    return route === undefined ? this.total : (this.byRoute.get(route) ?? 0);
  }

  observe(rule: AlertRule, now: number): Observation {
    const spent = this.spent(rule.route, now);
    const threshold = rule.threshold ?? 0;
    const holds = spent > threshold;
    const day = new Date(Math.floor(now / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
    const detail = `$${spent.toFixed(2)} spent on ${day} (UTC), ${holds ? "above" : "at or below"} $${threshold.toFixed(2)}`;
    return { rule, route: rule.route ?? null, target: null, holds, value: Math.round(spent * 1e6) / 1e6, detail };
  }

  private roll(now: number): void {
    const day = Math.floor(now / DAY_MS);
    if (day === this.day) return;
    this.day = day;
    this.total = 0;
    this.byRoute.clear();
  }
}
