import type { GatewayEvents } from "../core/events.js";
import type { Target } from "../core/target.js";
import type { WindowedStats } from "../core/windowed-stats.js";

/** What the metrics read of a route at scrape time (the engine's Route satisfies it). */
export interface MetricsRoute {
  readonly name: string;
  readonly targets: readonly Target[];
  readonly window: WindowedStats;
  /** Model names the route's config lists (its `models`, without "*"). */
  readonly config: { readonly models?: readonly string[] | undefined };
  /** Whether a target may take calls now, and how many may. */
  isAvailable(t: Target, now: number): boolean;
  availableTargets(now: number): number;
  readonly policies: {
    readonly breaker: { of(t: Target): { stats(now: number): { state: string } } };
    readonly queue: { readonly length: number };
  };
}

/** What the metrics subscribe to and read (the Gateway satisfies it). */
export interface MetricsSource {
  readonly events: GatewayEvents;
  readonly routes: readonly MetricsRoute[];
  readonly inFlight: number;
}
