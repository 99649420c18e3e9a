import type { Config, Surface } from "../config/schema.js";
import type { GatewayEvents } from "../core/events.js";
import { Engine, type EngineOptions } from "../engine/engine.js";
import { type ListedModel, ModelCatalog } from "../engine/model-catalog.js";
import type { Route } from "../engine/route.js";
import type { RouteTable } from "../engine/route-table.js";
import { VERSION } from "../version.js";
import type { AdmissionStep } from "./admission.js";
import { type InProcessRequest, type InProcessResponse, requestInProcess } from "./library.js";
import { Pipeline } from "./pipeline.js";

/**
 * What `createGateway` returns: the engine and the request pipeline in front of it. The library
 * calls `request()`; `startServer(gateway)` puts the HTTP front on the same pipeline.
 */
export class Gateway {
  readonly engine: Engine;
  readonly pipeline: Pipeline;
  private readonly catalog: ModelCatalog;

  constructor(config: Config, options: EngineOptions = {}) {
    this.engine = new Engine(config, options);
    this.pipeline = new Pipeline(this.engine);
    this.catalog = new ModelCatalog(() => this.engine.table);
  }

  /** The config running now (a reload replaces it). */
  get config(): Config {
    return this.engine.config;
  }

  get events(): GatewayEvents {
    return this.engine.events;
  }

  get routes(): readonly Route[] {
    return this.engine.routes;
  }

  get table(): RouteTable {
    return this.engine.table;
  }

  get startedAt(): number {
    return this.engine.startedAt;
  }

  /** Client requests in flight now. */
  get inFlight(): number {
    return this.engine.inFlight;
  }

  route(name: string): Route | undefined {
    return this.engine.route(name);
  }

  /** One call through a route, in-process: the same pipeline as the server, no network hop. */
  request(routeName: string, req: InProcessRequest = {}): Promise<InProcessResponse> {
    return requestInProcess(this.pipeline, routeName, req);
  }

  /** Adds an admission step every request passes (both fronts). */
  use(step: AdmissionStep): void {
    this.pipeline.use(step);
  }

  /** The models served on a surface under a prefix (GET /v1/models). */
  models(surface: Surface, prefix = ""): Promise<ListedModel[]> {
    return this.catalog.list(surface, prefix);
  }

  status() {
    return this.engine.status(VERSION);
  }

  /** Starts background work: health checks, probes of disabled keys and open breakers. */
  start(): void {
    this.engine.start();
  }

  /** Waits up to `graceMs` for requests in flight, then closes upstream connections and background work. */
  async close(graceMs = 0): Promise<void> {
    this.engine.draining = true;
    if (graceMs > 0) await this.engine.idle(graceMs);
    await this.engine.close(graceMs);
    await this.pipeline.close();
  }
}
