import type { Config } from "../config/schema.js";
import { Route } from "./route.js";
import { RouteTable } from "./route-table.js";
import { Upstreams } from "./upstreams.js";
import { GatewayEvents } from "../core/events.js";
import { resolveTimeouts } from "../core/target.js";
import { runAttempts, type Committed } from "./attempt-loop.js";
import type { RequestContext } from "../core/request-context.js";
import { VERSION } from "../version.js";
import { requestInProcess, type InProcessRequest, type InProcessResponse } from "../pipeline/in-process.js";

/**
 * The engine shared by the server and the library: routes with their pools and policies, the
 * upstream connection pools, and the attempt loop. Holds no socket of its own.
 */
export class Gateway {
  readonly routes: readonly Route[];
  readonly table: RouteTable;
  readonly upstreams: Upstreams;
  readonly events = new GatewayEvents();
  readonly startedAt = Date.now();
  /** Client requests currently being served (for drain and status). */
  inFlight = 0;
  requests = 0;
  errors = 0;
  private closed = false;

  constructor(readonly config: Config) {
    const defaults = resolveTimeouts(config.timeouts);
    this.routes = config.routes.map((r, i) => new Route(r, i, defaults, this.events));
    this.table = new RouteTable(this.routes);
    this.upstreams = new Upstreams({ connections: config.upstream.connections, keepAliveMs: config.upstream.keep_alive_ms });
  }

  route(name: string): Route | undefined {
    return this.routes.find((r) => r.name === name);
  }

  /** Runs the attempt loop for a prepared request; the caller relays the committed answer. */
  serve(route: Route, ctx: RequestContext): Promise<Committed> {
    route.requests++;
    return runAttempts(route, ctx, this.upstreams, this.events);
  }

  /** Library use: one call through a route, no server involved. */
  request(routeName: string, req: InProcessRequest = {}): Promise<InProcessResponse> {
    return requestInProcess(this, routeName, req);
  }

  status() {
    const now = Date.now();
    return {
      version: VERSION,
      uptime_s: Math.round((now - this.startedAt) / 1000),
      totals: { requests: this.requests, in_flight: this.inFlight, errors: this.errors },
      routes: this.routes.map((r) => r.toJSON(now)),
    };
  }

  /** Starts background work: active health checks, probes of disabled keys. */
  start(): void {
    for (const r of this.routes) r.policies.start();
  }

  async close(graceMs = 0): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.routes.map((r) => r.policies.stop()));
    await this.upstreams.close(graceMs);
  }
}
