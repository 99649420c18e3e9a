import { WindowedStats } from "../core/windowed-stats.js";
import type { RouteConfig, Surface, TargetConfig } from "../config/schema.js";
import type { Strategy } from "../balancer/strategy.js";
import { STRATEGY_FACTORIES } from "../balancer/index.js";
import { RoundRobin } from "../balancer/round-robin.js";
import { ConfigError } from "../errors.js";
import type { GatewayEvents } from "../core/events.js";
import type { RequestContext } from "../core/request-context.js";
import { Target, type ResolvedTimeouts, resolveTimeouts } from "../core/target.js";
import { RoutePolicies } from "../resilience/route-policies.js";
import type { StateStore } from "../state/state-store.js";

/**
 * A route at run time: its pool of targets, the strategy (and fallback) that picks among them,
 * and the policies that rule targets out before any pick.
 */
export class Route {
  readonly name: string;
  readonly surface: Surface;
  readonly targets: readonly Target[];
  readonly strategy: Strategy<Target>;
  readonly fallback: Strategy<Target> | undefined;
  readonly lastResort = new RoundRobin<Target>();
  readonly maxAttempts: number;
  readonly timeouts: ResolvedTimeouts;
  readonly policies: RoutePolicies;
  /** Some target speaks another dialect than the route's surface: client bodies are read into the canonical form. */
  readonly translates: boolean;
  /** Reused for every pick: picks are synchronous, so one scratch array per route is enough. */
  private readonly scratch: Target[] = [];
  requests = 0;
  /** The last minute, 5 minutes and hour of this route's client requests. */
  readonly window: WindowedStats = new WindowedStats();

  constructor(
    readonly config: RouteConfig,
    index: number,
    defaults: ResolvedTimeouts,
    events: GatewayEvents,
    store: StateStore,
    /** This route in the previous generation (a reload): its stats and those of its kept targets carry over. */
    previous?: Route,
  ) {
    this.name = config.name;
    this.surface = config.surface;
    this.timeouts = resolveTimeouts(defaults, config.timeouts);
    this.targets = config.targets.map((t, i) => new Target(t, config.name, i, this.timeouts, previous?.predecessorOf(t)?.stats));
    if (previous !== undefined) {
      this.window = previous.window;
      this.requests = previous.requests;
    }
    this.maxAttempts = config.retry.attempts;
    this.translates = this.surface !== "rest" && this.targets.some((t) => t.wire !== this.surface);
    this.policies = new RoutePolicies(config, this.targets, store, events);
    this.strategy = buildStrategy(config.strategy, this.targets, config.strategy_options, `routes[${index}]`);
    this.fallback = config.fallback_strategy
      ? buildStrategy(config.fallback_strategy, this.targets, config.strategy_options, `routes[${index}]`)
      : undefined;
  }

  /** Is the target eligible for this request now (every policy lets it, and the request can be built for it)? */
  private usable(t: Target, ctx: RequestContext, now: number): boolean {
    const unservable = ctx.unservable;
    return !t.retired && this.policies.list.isEligible(t, now) && !(unservable !== null && unservable.has(t.id));
  }

  /**
   * Picks a target for the next attempt: eligible targets the request has not tried yet; if every
   * eligible one was tried, any eligible one (a retry on the same target beats giving up).
   */
  pick(ctx: RequestContext, now: number): Target | undefined {
    const eligible = this.scratch;
    eligible.length = 0;
    const targets = this.targets;
    const tried = ctx.tried;
    let anyEligible = false;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i] as Target;
      if (!this.usable(t, ctx, now)) continue;
      anyEligible = true;
      if (tried.size === 0 || !tried.has(t.id)) eligible.push(t);
    }
    if (eligible.length === 0 && anyEligible) for (const t of targets) if (this.usable(t, ctx, now)) eligible.push(t);
    if (eligible.length === 0) return undefined;
    if (eligible.length > 1 && this.strategy.keepsAffinity !== true) this.thin(eligible, now);
    return this.strategy.pick(eligible, ctx) ?? this.fallback?.pick(eligible, ctx) ?? this.lastResort.pick(eligible);
  }

  /** Is the target eligible now for a retry on the same target? */
  stillEligible(t: Target, ctx: RequestContext, now: number): boolean {
    return this.usable(t, ctx, now);
  }

  /**
   * Shares below 1 (slow start after a recovery, a provider quota running low) work with every
   * strategy: such a target stays in this pick's eligible set with probability = its share.
   * Never empties the set.
   */
  private thin(eligible: Target[], now: number): void {
    let kept = 0;
    const list = this.policies.list;
    for (let i = 0; i < eligible.length; i++) {
      const t = eligible[i] as Target;
      const f = list.share(t, now);
      if (f >= 1 || Math.random() < f) eligible[kept++] = t;
    }
    if (kept > 0) eligible.length = kept;
  }

  /** This route's target with the same id and base URL as `config` (a reload keeps its identity), if any. */
  predecessorOf(config: TargetConfig): Target | undefined {
    const t = this.targets.find((o) => o.id === config.id);
    return t !== undefined && t.config.base_url === config.base_url ? t : undefined;
  }

  /** Whether a target may take calls now: no policy (breaker, bench, disabled key, health check…) keeps it out. */
  isAvailable(t: Target, now: number): boolean {
    return this.policies.list.reasons(t, now).length === 0;
  }

  /** Targets that may take calls now (status, metrics and alerts count them the same way). */
  availableTargets(now: number): number {
    let n = 0;
    for (const t of this.targets) if (this.isAvailable(t, now)) n++;
    return n;
  }

  /** One target as status and admin show it: its setup and stats, each policy's view, the strategy's. */
  targetJSON(t: Target, now: number) {
    return { ...t.toJSON(), ...this.policies.list.targetStatus(t, now), strategy_state: this.strategy.targetStatus?.(t) ?? null };
  }

  toJSON(now = Date.now()) {
    return {
      name: this.name,
      surface: this.surface,
      models: this.config.models,
      service: this.config.service ?? null,
      prefix: this.config.prefix ?? null,
      strategy: this.strategy.name,
      fallback_strategy: this.fallback?.name ?? null,
      strategy_state: this.strategy.status?.() ?? null,
      timeouts: this.timeouts,
      requests: this.requests,
      available_targets: this.availableTargets(now),
      windows: this.window.toJSON(now),
      ...this.policies.toJSON(now),
      targets: this.targets.map((t) => this.targetJSON(t, now)),
    };
  }
}

function buildStrategy(name: string, pool: readonly Target[], options: Record<string, unknown>, path: string): Strategy<Target> {
  const factory = STRATEGY_FACTORIES[name as keyof typeof STRATEGY_FACTORIES];
  if (!factory) throw new ConfigError([`${path}.strategy: "${name}" is not available in this build`], "config");
  try {
    return factory(pool, (options[name] as Record<string, unknown> | undefined) ?? {});
  } catch (err) {
    throw new ConfigError([`${path}.${(err as Error).message}`], "config");
  }
}
