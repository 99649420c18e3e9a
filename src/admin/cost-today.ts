import type { GatewayEvents, RequestRecord } from "../core/events.js";

const DAY_MS = 86_400_000;

/**
 * What each route and target has cost today (USD), from the requests served since midnight UTC
 * (UTC, not the host's zone: every operator reading the dashboard sees the same day). Kept in
 * memory from the request events, so it starts at 0 when the process starts; the usage ledger
 * is the durable record. A request costs one Map lookup per level; the day rolls over lazily.
 */
export class CostToday {
  /** route → target → USD. */
  private readonly byRoute = new Map<string, Map<string, number>>();
  private dayStart: number;

  constructor(private readonly now: () => number = Date.now) {
    this.dayStart = dayStartOf(this.now());
  }

  /** Starts counting the gateway's requests (for the gateway's lifetime: events have no unsubscribe). */
  subscribe(events: GatewayEvents): void {
    events.onRequest((r) => this.record(r));
  }

  record(r: RequestRecord): void {
    if (r.costUsd <= 0 || r.route === null || r.target === null) return;
    this.roll(this.now());
    let targets = this.byRoute.get(r.route);
    if (targets === undefined) this.byRoute.set(r.route, (targets = new Map<string, number>()));
    targets.set(r.target, (targets.get(r.target) ?? 0) + r.costUsd);
  }

  /** USD today of one target. */
  of(route: string, target: string, now = this.now()): number {
    this.roll(now);
    return this.byRoute.get(route)?.get(target) ?? 0;
  }

  /** USD today of a route: its targets' costs, removed targets included. */
  ofRoute(route: string, now = this.now()): number {
    this.roll(now);
    let sum = 0;
    for (const usd of this.byRoute.get(route)?.values() ?? []) sum += usd;
    return sum;
  }

  /** Epoch ms of the midnight (UTC) the figures count from. */
  since(now = this.now()): number {
    this.roll(now);
    return this.dayStart;
  }

  private roll(now: number): void {
    if (now - this.dayStart < DAY_MS) return;
    this.dayStart = dayStartOf(now);
    this.byRoute.clear();
  }
}

function dayStartOf(ms: number): number {
  return ms - (ms % DAY_MS);
}
