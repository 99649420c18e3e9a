import type { Route } from "../engine/route.js";
import { maskConfig } from "../config/mask.js";
import type { RouteConfig } from "../config/schema.js";
import { GatewayError } from "../errors.js";

/**
 * The management answers of the multi-key balancer Switchyard stands in for, under each LLM
 * prefix: `GET <prefix>/v1/load-balancer/status`, `…/config`, `POST …/reset`. Pure functions of
 * the routes mounted under the prefix; the router hands them over, so they follow reloads.
 *
 * A prefix may serve several routes (a Claude one and a Gemini one under `/{uuid}/lb`): the
 * answers cover all of them (counts summed, strategies listed), or the one named by `?route=`.
 * Keys appear only masked (`****abcd`).
 */

export interface KeyStats {
  requests: number;
  failures: number;
  /** Epoch ms of the key's last attempt, or null. */
  lastUsed: number | null;
}

export interface LoadBalancerStatus {
  loadBalancer: {
    enabled: true;
    activeKeys: number;
    totalKeys: number;
    /** The strategy's name; the distinct names joined by "," when the routes differ. */
    strategy: string;
    stats: {
      totalRequests: number;
      successfulRequests: number;
      failedRequests: number;
      lastUsed: number | null;
      /** By masked key; a key without one, or a masked key seen twice, is told apart by its route and target. */
      apiKeyStats: Record<string, KeyStats>;
    };
  };
}

export interface LoadBalancerConfig {
  loadBalancer: {
    enabled: true;
    strategy: string;
    /** time-window's window in minutes (the first route using it), else null. */
    windowSize: number | null;
    apiKeys: { key: string | null; weight: number; provider: string; route: string }[];
    /** Each route's config as `switchyard validate` prints it, secrets masked. */
    routes: RouteConfig[];
  };
}

/** The routes an answer covers: all under the prefix, or the one `?route=` names (404 if it is not there). */
export function selectRoutes(routes: readonly Route[], name: string | null): readonly Route[] {
  if (name === null) return routes;
  const route = routes.find((r) => r.name === name);
  if (route === undefined)
    throw new GatewayError(
      "unknown_route",
      `no route "${name.slice(0, 100)}" under this prefix (routes here: ${routes.map((r) => r.name).join(", ")})`,
    );
  return [route];
}

/** The balancer's status, in the shape its clients read. */
export function loadBalancerStatus(routes: readonly Route[], now = Date.now()): LoadBalancerStatus {
  let activeKeys = 0;
  let totalKeys = 0;
  let totalRequests = 0;
  let successfulRequests = 0;
  let failedRequests = 0;
  let lastUsed = 0;
  const apiKeyStats: Record<string, KeyStats> = {};
  for (const route of routes) {
    activeKeys += route.availableTargets(now);
    totalKeys += route.targets.length;
    for (const t of route.targets) {
      const s = t.stats;
      totalRequests += s.requests;
      successfulRequests += s.successes;
      failedRequests += s.failures;
      if (s.lastUsedAt > lastUsed) lastUsed = s.lastUsedAt;
      let label = t.keyMasked ?? `(no key) ${route.name}/${t.id}`;
      if (Object.hasOwn(apiKeyStats, label)) label = `${label} (${route.name}/${t.id})`;
      apiKeyStats[label] = { requests: s.requests, failures: s.failures, lastUsed: s.lastUsedAt || null };
    }
  }
  return {
    loadBalancer: {
      enabled: true,
      activeKeys,
      totalKeys,
      strategy: strategyOf(routes),
      stats: { totalRequests, successfulRequests, failedRequests, lastUsed: lastUsed || null, apiKeyStats },
    },
  };
}

/** The balancer's config: strategy, window, masked keys with weights, and each route's masked config. */
export function loadBalancerConfig(routes: readonly Route[]): LoadBalancerConfig {
  const masked = maskConfig({ admin: {}, routes: routes.map((r) => r.config) }).routes;
  const windowRoute = routes.find((r) => r.config.strategy === "time-window");
  const window = (windowRoute?.strategy.status?.() as { window_minutes?: number } | undefined)?.window_minutes;
  return {
    loadBalancer: {
      enabled: true,
      strategy: strategyOf(routes),
      windowSize: window ?? null,
      apiKeys: routes.flatMap((r) => r.targets.map((t) => ({ key: t.keyMasked, weight: t.weight, provider: t.provider, route: r.name }))),
      routes: masked,
    },
  };
}

/** Zeroes the statistics of the routes (through `reset`, the engine's resetStats); the answer says what was reset. */
export function resetLoadBalancer(routes: readonly Route[], reset: (routeName: string) => number) {
  let targets = 0;
  for (const r of routes) targets += reset(r.name);
  return { success: true, message: "load balancer statistics reset", routes: routes.map((r) => r.name), reset_keys: targets };
}

function strategyOf(routes: readonly Route[]): string {
  return [...new Set(routes.map((r) => r.strategy.name))].join(",");
}
