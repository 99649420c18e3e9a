import type { GatewayEvents } from "../../core/events.js";
import type { WindowName, WindowSnapshot } from "../../core/windowed-stats.js";

/**
 * What alerts read of a running gateway. Telemetry may not import the engine, so these are the
 * few members of `Gateway` and `Route` the rules need; a Gateway satisfies `AlertSource` as it is.
 */
export interface AlertSource {
  readonly events: GatewayEvents;
  readonly routes: readonly AlertRoute[];
}

export interface AlertTarget {
  readonly id: string;
}

export interface AlertRoute {
  readonly name: string;
  readonly targets: readonly AlertTarget[];
  /** The route's client requests over the last minute, 5 minutes and hour. */
  readonly window: { snapshot(window: WindowName, now?: number): Pick<WindowSnapshot, "requests" | "errors" | "latency"> };
  /** Targets that may take calls now. */
  availableTargets(now: number): number;
}
