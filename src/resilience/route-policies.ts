import type { RouteConfig } from "../config/schema.js";
import { breakerSchema, healthCheckSchema, mergePolicy, type HedgeConfig } from "../config/resilience-schema.js";
import { CircuitBreaker, breakerCheck } from "./circuit-breaker.js";
import { RetryPolicy } from "./retry-policy.js";
import { createBackoff } from "./backoff.js";
import { RateLimitBench } from "./rate-limit-bench.js";
import { PriorityQueue } from "./priority-queue.js";
import { KeyDisable } from "./key-disable.js";
import { HealthChecker } from "./health-check.js";
import { SlowStart } from "./slow-start.js";
import type { Target } from "../core/target.js";
import type { Eligibility } from "./eligibility.js";
import type { GatewayEvents } from "../core/events.js";

/**
 * Every resilience policy of one route, built once at setup: a breaker per target (route block
 * with the target's overrides), the retry policy and budget, rate-limit benching, key
 * auto-disable, active health checks, slow start, the priority queue and the hedge settings.
 * The eligibility checks are registered on the route's Eligibility; recoveries start slow start;
 * every state change is published as a policy event (logs subscribe).
 */
export class RoutePolicies {
  readonly breakers: CircuitBreaker[];
  readonly retry: RetryPolicy;
  readonly bench: RateLimitBench;
  readonly keys: KeyDisable;
  readonly health: HealthChecker | null;
  readonly slowStart: SlowStart;
  readonly queue: PriorityQueue;
  readonly hedge: HedgeConfig;
  readonly queueConfig: RouteConfig["queue"];

  constructor(config: RouteConfig, targets: readonly Target[], eligibility: Eligibility, events: GatewayEvents) {
    const route = config.name;
    this.breakers = targets.map((t) => {
      const b = mergePolicy(breakerSchema, config.breaker, t.config.breaker);
      const open = createBackoff({ ...b.open_backoff, base_ms: b.open_s * 1000, max_ms: b.max_open_s * 1000 });
      return new CircuitBreaker(b, `${route}/${t.id}`, open);
    });
    this.retry = new RetryPolicy(config.retry);
    this.bench = new RateLimitBench(config.rate_limits);
    this.keys = new KeyDisable(config.key_disable);
    this.slowStart = new SlowStart(config.slow_start);
    this.queue = new PriorityQueue(config.queue.size, config.queue.timeout_ms);
    this.queueConfig = config.queue;
    this.hedge = config.hedge;
    const hc = config.health_check;
    const anyTargetCheck = targets.some((t) => t.config.health_check !== undefined);
    this.health =
      hc !== undefined || anyTargetCheck
        ? new HealthChecker(targets, (t) => {
            const base = hc ?? (t.config.health_check ? healthCheckSchema.parse({}) : undefined);
            return base === undefined ? undefined : mergePolicy(healthCheckSchema, base, t.config.health_check);
          })
        : null;

    eligibility.add(breakerCheck((t) => this.breakers[t.index]));
    eligibility.add(this.bench);
    eligibility.add(this.keys);
    if (this.health !== null) eligibility.add(this.health);

    targets.forEach((t, i) => {
      this.breakers[i]!.onTransition((from, to, reason) => {
        if (from === "half_open" && to === "closed") this.slowStart.begin(t, Date.now());
        events.policy({ route, target: t.id, policy: "breaker", from, to, reason });
      });
    });
    this.bench.onBench((t, until, reason) => events.policy({ route, target: t.id, policy: "rate_limit", from: "", to: "benched", reason: `${reason} until ${new Date(until).toISOString()}` }));
    this.keys.onChange((e) => {
      if (!e.disabled) this.slowStart.begin(e.target, e.at);
      events.policy({ route, target: e.target.id, policy: "key", from: e.disabled ? "enabled" : "disabled", to: e.disabled ? "disabled" : "enabled", reason: `${e.reason}: ${e.detail}` });
    });
    this.health?.onChange((e) => {
      if (e.from === "unhealthy" && e.to === "healthy") this.slowStart.begin(e.target, e.at);
      events.policy({ route, target: e.target.id, policy: "health", from: e.from, to: e.to, reason: e.detail });
    });
  }

  /** Weight multiplier a target carries now: slow start after recovery × a low provider quota. */
  shareFactor(t: Target, now: number): number {
    return this.slowStart.factor(t, now) * this.bench.shareFactor(t, now);
  }

  start(): void {
    this.health?.start();
    this.keys.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.health?.stop(), this.keys.stop()]);
  }

  targetStatus(t: Target, now: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const ramp = this.slowStart.targetStatus(t, now);
    if (ramp !== undefined) out.slow_start = ramp;
    return out;
  }

  toJSON() {
    return {
      retry: { attempts: this.retry.attempts, budget: this.retry.budget?.toJSON(Date.now()) ?? null },
      queue: this.queue.toJSON(),
      hedge: this.hedge,
    };
  }
}
