import type { Config } from "../config/schema.js";
import { GatewayEvents } from "../core/events.js";
import type { RequestContext } from "../core/request-context.js";
import { resolveTimeouts } from "../core/target.js";
import { MemoryStore } from "../state/memory-store.js";
import type { StateStore } from "../state/state-store.js";
import { runAttempts } from "./attempt-loop.js";
import type { Committed } from "./committed.js";
import { Route } from "./route.js";
import { RouteTable } from "./route-table.js";
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
  readonly routes: readonly Route[];
  readonly table: RouteTable;
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

  constructor(
    readonly config: Config,
    options: EngineOptions = {},
  ) {
    this.store = options.store ?? new MemoryStore();
    const defaults = resolveTimeouts(config.timeouts);
    this.routes = config.routes.map((r, i) => new Route(r, i, defaults, this.events, this.store));
    this.table = new RouteTable(this.routes);
    this.upstreams = new Upstreams(
      { connections: config.upstream.connections, keepAliveMs: config.upstream.keep_alive_ms },
      options.dispatcherFor,
    );
  }

  route(name: string): Route | undefined {
    return this.routes.find((r) => r.name === name);
  }

  /** Runs the attempt loop for a prepared request; the pipeline delivers the committed answer. */
  serve(route: Route, ctx: RequestContext): Promise<Committed> {
    route.requests++;
    return runAttempts(route, ctx, this.upstreams, this.events);
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
    return {
      version,
      uptime_s: Math.round((now - this.startedAt) / 1000),
      totals: { requests: this.requests, in_flight: this.inFlight, errors: this.errors },
      routes: this.routes.map((r) => r.toJSON(now)),
    };
  }

  /** Starts background work: health checks, probes of disabled keys and open breakers. */
  start(): void {
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
