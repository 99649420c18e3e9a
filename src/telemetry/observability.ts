import type { Config } from "../config/schema.js";
import type { OperatorEndpoint } from "../core/operator-endpoint.js";
import type { Logger } from "./logger.js";
import { Metrics, type MetricsSource } from "./metrics.js";
import { startMetricsListener } from "./metrics-listener.js";
import { Database } from "../state/database.js";
import { UsageLedger } from "./usage-ledger.js";
import { setupTracing } from "./tracing.js";
import { AlertManager } from "./alerts/alert-manager.js";
import type { AlertSource } from "./alerts/alert-source.js";

/** What observability reads of a gateway (the Gateway satisfies it): what metrics and alerts read, and the config. */
export type ObservedGateway = MetricsSource & AlertSource & { readonly config: Config };

/**
 * Everything that watches a running gateway, set up from its config in one place: Prometheus
 * metrics (and their own listener), the usage ledger, alerts, traces. Each subscribes to the
 * engine's events; none is on the request path but for a listener's few increments.
 */
export class Observability {
  readonly endpoints: OperatorEndpoint[] = [];
  metrics: Metrics | undefined = undefined;
  /** The metrics listener's URL when `metrics.port` is set. */
  metricsUrl: string | undefined = undefined;
  ledger: UsageLedger | undefined = undefined;
  private readonly closers: (() => Promise<void> | void)[] = [];

  private constructor(
    private readonly gateway: ObservedGateway,
    private readonly log: Logger,
  ) {}

  static async start(gateway: ObservedGateway, log: Logger): Promise<Observability> {
    const o = new Observability(gateway, log);
    try {
      await o.startMetrics();
      o.startLedger();
      const alerts = new AlertManager(gateway.config.alerts, gateway, log);
      if (alerts.watchesDailyCost && o.ledger !== undefined) {
        const today = new Date(new Date().toISOString().slice(0, 10)).getTime();
        alerts.seedDailyCost(o.ledger.query({ from: today, group_by: "route" }).rows.map((r) => [String(r.route), r.cost_usd] as const));
      }
      alerts.start();
      o.closers.push(() => alerts.stop());
      o.endpoints.push({
        method: "GET",
        path: "/admin/alerts",
        admin: true,
        handle: () => ({
          contentType: "application/json",
          body: JSON.stringify({
            channels: gateway.config.alerts.channels.map((c) => c.name),
            firing: alerts
              .firing()
              .map(({ startedAt, resolvedAt: _resolved, ...n }) => ({ ...n, started_at: new Date(startedAt).toISOString() })),
          }),
        }),
      });
      const tracing = await setupTracing(gateway.config.tracing, log);
      if (tracing !== undefined) o.closers.push(() => tracing.shutdown());
    } catch (err) {
      await o.close();
      throw err;
    }
    return o;
  }

  private async startMetrics(): Promise<void> {
    const cfg = this.gateway.config.metrics;
    if (!cfg.enabled) return;
    const metrics = (this.metrics = new Metrics(this.gateway, { process: cfg.process }));
    if (cfg.on_main_listener)
      this.endpoints.push({
        method: "GET",
        path: "/metrics",
        admin: false,
        handle: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
      });
    if (cfg.port !== undefined) {
      const listener = await startMetricsListener(metrics, cfg.port, cfg.host);
      this.metricsUrl = listener.url;
      this.closers.push(() => listener.close());
      this.log.info({ url: `${listener.url}/metrics` }, "metrics listener");
    }
  }

  /** The usage ledger in the store (SQLite), and `GET /admin/usage` answering from it. */
  private startLedger(): void {
    const { usage, store } = this.gateway.config;
    if (!usage.enabled) return;
    const log = this.log;
    const db = openStore(store.path ?? ":memory:", log);
    this.closers.push(() => db.close());
    const ledger = (this.ledger = new UsageLedger(db, usage, {
      onError: (err) => log.error({ err, store: db.path }, "usage ledger: writing usage failed; the rows are kept for the next try"),
    }));
    ledger.attach(this.gateway.events);
    this.closers.push(() => ledger.close());
    this.endpoints.push({
      method: "GET",
      path: "/admin/usage",
      admin: true,
      handle: ({ query: q }) => ({
        contentType: "application/json",
        body: JSON.stringify(
          ledger.query({ from: q.get("from") ?? undefined, to: q.get("to") ?? undefined, group_by: q.get("group_by") ?? undefined }),
        ),
      }),
    });
  }

  /** Stops what it started, last first; flushes what must be kept. */
  async close(): Promise<void> {
    for (const fn of this.closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err }, "error while closing observability");
      }
    }
  }
}

/**
 * The store's file, or memory when it cannot be opened (a read-only folder, a broken file): the
 * gateway keeps serving — usage is not worth an outage — and says loudly that usage counted now
 * will not survive a restart.
 */
function openStore(path: string, log: Logger): Database {
  try {
    return Database.open(path);
  } catch (err) {
    log.error(
      { err, store: path },
      "cannot open the store: usage is kept in memory until the store can be opened (it will not survive a restart)",
    );
    return Database.open(":memory:");
  }
}
