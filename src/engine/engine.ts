import type { Config } from "../config/schema.js";
import { GatewayEvents } from "../core/events.js";
import type { RequestContext } from "../core/request-context.js";
import { MemoryStore } from "../state/memory-store.js";
import { sharedStateOf } from "../state/replicated-store.js";
import type { StateStore } from "../state/state-store.js";
import { runAttempts } from "./attempt-loop.js";
import type { Committed } from "./committed.js";
import type { Route } from "./route.js";
import type { RouteTable } from "./route-table.js";
import { Topology, type TopologyChange } from "./topology.js";
import { type DispatcherFactory, Upstreams } from "./upstreams.js";

export interface EngineOptions {
  /** Where the policies keep their shared state (default: this process's memory). */
  readonly store?: StateStore | undefined;
  /** Makes the dispatcher of an upstream origin (default: an undici Pool); tests give a MockAgent's. */
  readonly dispatcherFor?: DispatcherFactory | undefined;
}

/**
 * The engine: routes with their pools and policies, the upstream connection pools, the attempt
 * loop, and the counters of the client requests in flight. It holds no socket of its own: the
 * fronts (the HTTP server, the library) reach it through the request pipeline.
 */
export class Engine {
  /** The routes now: replaced whole by apply(), so a request sees one generation throughout. */
  private current: Topology;
  readonly upstreams: Upstreams;
  readonly events = new GatewayEvents();
  readonly store: StateStore;
  readonly startedAt = Date.now();
  /** Client requests being served now (for drain and status). */
  inFlight = 0;
  requests = 0;
  errors = 0;
  /** Set while the gateway drains for shutdown: new requests are refused. */
  draining = false;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private started = false;

  constructor(config: Config, options: EngineOptions = {}) {
    this.store = options.store ?? new MemoryStore();
    this.current = new Topology(config, 1, this.events, this.store);
    this.upstreams = new Upstreams(
      { connections: config.upstream.connections, keepAliveMs: config.upstream.keep_alive_ms },
      options.dispatcherFor,
    );
  }

  get config(): Config {
    return this.current.config;
  }

  get routes(): readonly Route[] {
    return this.current.routes;
  }

  get table(): RouteTable {
    return this.current.table;
  }

  /** The generation of the routes: 1 at start, one more at each apply(). */
  get version(): number {
    return this.current.version;
  }

  route(name: string): Route | undefined {
    return this.current.route(name);
  }

  /**
   * Swaps in the routes of a new config (validated by the caller) in one step. Requests in flight
   * finish on what they started with; a target whose route, id and base URL are unchanged keeps
   * its breaker, stats, benches and disabled state; removed targets take no new attempts, and a
   * pool no target calls any more closes once its calls in flight end. Throws a ConfigError (a
   * strategy's options) before anything changed.
   */
  apply(config: Config): TopologyChange {
    const previous = this.current;
    // Built once aside first (no timers start before start()): a config whose routes cannot be
    // built (a strategy's options) is refused before any target's state is dropped.
    new Topology(config, 0, new GatewayEvents(), new MemoryStore());
    const next = new Topology(config, previous.version + 1, this.events, this.store, previous);
    this.current = next;
    const change = next.diff(previous);
    for (const r of previous.routes) void r.policies.stop();
    if (this.started) for (const r of next.routes) r.policies.start();
    this.upstreams.retain(next.origins());
    this.events.topology(change);
    return change;
  }

  /** Runs the attempt loop for a prepared request; the pipeline delivers the committed answer. */
  serve(route: Route, ctx: RequestContext): Promise<Committed> {
    route.requests++;
    return runAttempts(route, ctx, this.upstreams, this.events);
  }

  /**
   * Zeroes the statistics (counters, windows, latency averages) of every route, of one route, or
   * of one target; policy state (breakers, benches, disabled keys) is untouched. Returns how many
   * targets were reset; 0 when the route or target is unknown.
   */
  resetStats(routeName?: string, targetId?: string): number {
    const now = Date.now();
    let n = 0;
    if (routeName === undefined) {
      this.requests = this.errors = 0;
    }
    for (const r of this.routes) {
      if (routeName !== undefined && r.name !== routeName) continue;
      if (targetId === undefined) {
        r.requests = 0;
        r.window.reset(now);
      }
      for (const t of r.targets) {
        if (targetId !== undefined && t.id !== targetId) continue;
        t.stats.reset(now);
        n++;
      }
    }
    return n;
  }

  /** A client request starts (the pipeline's first step). */
  requestStarted(): void {
    this.requests++;
    this.inFlight++;
  }

  /** A client request ended; wakes whoever waits for the gateway to be idle. */
  requestEnded(failed: boolean): void {
    this.inFlight--;
    if (failed) this.errors++;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves when no client request is in flight, or once `withinMs` passed (drain with a bound). */
  async idle(withinMs: number): Promise<void> {
    if (this.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      timer = setTimeout(resolve, withinMs);
    });
    clearTimeout(timer);
  }

  status(version: string) {
    const now = Date.now();
    const shared = sharedStateOf(this.store);
    return {
      version,
      uptime_s: Math.round((now - this.startedAt) / 1000),
      totals: { requests: this.requests, in_flight: this.inFlight, errors: this.errors },
      routes: this.routes.map((r) => r.toJSON(now)),
      // Only for an instance of a shared gateway: its name, the link's health, the instances seen.
      ...(shared === undefined ? {} : { shared }),
    };
  }

  /** Starts background work: health checks, probes of disabled keys and open breakers. */
  start(): void {
    this.started = true;
    for (const r of this.routes) r.policies.start();
  }

  async close(graceMs = 0): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.routes.map((r) => r.policies.stop()));
    await this.upstreams.close(graceMs);
    await this.store.close();
  }
}
