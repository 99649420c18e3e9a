import type { RouteConfig } from "../config/schema.js";
import { healthCheckSchema, mergePolicy } from "../config/resilience-schema.js";
import type { GatewayEvents } from "../core/events.js";
import type { Target } from "../core/target.js";
import type { StateStore } from "../state/state-store.js";
import { BreakerPolicy } from "./breaker-policy.js";
import { Bulkhead } from "./bulkhead.js";
import { HealthChecker } from "./health-check.js";
import { HedgePolicy } from "./hedge-policy.js";
import { KeyDisable } from "./key-disable.js";
import type { Policy } from "./policy.js";
import { PolicyList } from "./policy-list.js";
import { PriorityQueue } from "./priority-queue.js";
import { RateLimitBench } from "./rate-limit-bench.js";
import { RetryBudget } from "./retry-budget.js";
import { RetryPolicy } from "./retry-policy.js";
import { SlowStart } from "./slow-start.js";
import { TargetQuota } from "./target-quota.js";

/** What a route does when every target is out (routes[].when_all_unavailable; `auto`: unset). */
export type WhenAllUnavailable = "fail" | "wait" | "soonest" | "auto";

/**
 * Every resilience policy of one route, built once at setup, in the order eligibility asks them
 * (cheapest first): bulkhead, quota, breaker, rate-limit bench, key disable, health check; then slow
 * start, retry budget, queue and hedge. `list` is how the engine and admin reach them all
 * (eligibility, shares, admission, outcomes, actions, status); the named fields are for the
 * capabilities only one has (the queue's wait, the budget's retries, the hedge's delay).
 *
 * Recoveries (a breaker closing from half-open, a key re-enabled, a health check passing again)
 * start slow start; every state change is published as a policy event (logs subscribe).
 */
export class RoutePolicies {
  readonly list: PolicyList;
  readonly breaker: BreakerPolicy;
  readonly bench: RateLimitBench;
  readonly keys: KeyDisable;
  readonly health: HealthChecker | null;
  readonly slowStart: SlowStart;
  readonly budget: RetryBudget | null;
  readonly queue: PriorityQueue;
  readonly hedge: HedgePolicy;
  readonly retry: RetryPolicy;
  readonly queueConfig: RouteConfig["queue"];
  readonly quota: TargetQuota;
  /** when_all_unavailable, with queue.wait_when_unavailable read as `wait`. */
  readonly whenAllUnavailable: WhenAllUnavailable;

  constructor(config: RouteConfig, targets: readonly Target[], store: StateStore, events: GatewayEvents) {
    const route = config.name;
    this.breaker = new BreakerPolicy(config, targets, store);
    this.bench = new RateLimitBench(config.rate_limits, store, targets);
    this.keys = new KeyDisable(config.key_disable, { store, targets });
    this.health = healthCheckerOf(config, targets, store);
    this.slowStart = new SlowStart(config.slow_start, store, targets);
    this.retry = new RetryPolicy(config.retry);
    this.budget = config.retry.budget.enabled ? new RetryBudget(config.retry.budget) : null;
    this.queue = new PriorityQueue(config.queue.size, config.queue.timeout_ms);
    this.queueConfig = config.queue;
    this.quota = new TargetQuota(targets, () => store.sharers?.() ?? 1);
    this.whenAllUnavailable = config.when_all_unavailable ?? (config.queue.wait_when_unavailable ? "wait" : "auto");
    this.hedge = new HedgePolicy(config.hedge, targets.length);
    // The quota admits before the breaker, so a half-open probe slot is never taken for a call the quota refuses.
    const policies: Policy[] = [new Bulkhead(), this.quota, this.breaker, this.bench, this.keys];
    if (this.health !== null) policies.push(this.health);
    policies.push(this.slowStart);
    if (this.budget !== null) policies.push(this.budget);
    policies.push(this.queue, this.hedge);
    this.list = new PolicyList(policies);

    this.breaker.onTransition((t, from, to, reason) => {
      if (from === "half_open" && to === "closed") this.slowStart.begin(t, Date.now());
      events.policy({ route, target: t.id, policy: "breaker", from, to, reason });
    });
    this.bench.onBench((t, until, reason) =>
      events.policy({
        route,
        target: t.id,
        policy: "rate_limit",
        from: "",
        to: "benched",
        reason: `${reason} until ${new Date(until).toISOString()}`,
      }),
    );
    this.keys.onChange((e) => {
      if (!e.disabled) this.slowStart.begin(e.target, e.at);
      events.policy({
        route,
        target: e.target.id,
        policy: "key",
        from: e.disabled ? "enabled" : "disabled",
        to: e.disabled ? "disabled" : "enabled",
        reason: `${e.reason}: ${e.detail}`,
      });
    });
    this.health?.onChange((e) => {
      if (e.from === "unhealthy" && e.to === "healthy") this.slowStart.begin(e.target, e.at);
      events.policy({ route, target: e.target.id, policy: "health", from: e.from, to: e.to, reason: e.detail });
    });
  }

  start(): void {
    this.list.start();
  }

  stop(): Promise<void> {
    return this.list.stop();
  }

  /** Route-wide state: the retry settings and budget, the queue, the hedge. */
  toJSON(now: number) {
    const s = this.list.status(now);
    return { retry: { attempts: this.retry.attempts, budget: s.retry_budget ?? null }, queue: s.queue, hedge: s.hedge };
  }
}

/** Active health checks run when the route or any target asks for them (a target's block over the route's). */
function healthCheckerOf(config: RouteConfig, targets: readonly Target[], store: StateStore): HealthChecker | null {
  const hc = config.health_check;
  if (hc === undefined && !targets.some((t) => t.config.health_check !== undefined)) return null;
  return new HealthChecker(
    targets,
    (t) => {
      const base = hc ?? (t.config.health_check ? healthCheckSchema.parse({}) : undefined);
      return base === undefined ? undefined : mergePolicy(healthCheckSchema, base, t.config.health_check);
    },
    { store },
  );
}
