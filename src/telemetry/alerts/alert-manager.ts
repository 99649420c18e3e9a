import type { AlertsConfig } from "../../config/alerts-schema.js";
import type { PolicyEvent, RequestRecord } from "../../core/events.js";
import type { Logger } from "../logger.js";
import { type AlertNotice, alertLine } from "./alert-notice.js";
import { type AlertRule, resolveRules } from "./alert-rule.js";
import type { AlertSource } from "./alert-source.js";
import { AlertStates } from "./alert-states.js";
import type { Channel } from "./channel.js";
import { DailyCost } from "./daily-cost.js";
import { Delivery } from "./delivery.js";
import { EmailChannel } from "./email-channel.js";
import { observePolicy } from "./policy-rules.js";
import { Redactor } from "./redactor.js";
import { WebhookChannel } from "./webhook-channel.js";
import { observeRoute } from "./window-rules.js";

export interface AlertManagerOptions {
  /** The clock (epoch ms); tests move it to the next UTC day. */
  readonly now?: () => number;
  /** Notices waiting per channel, at most (100). */
  readonly queueSize?: number;
  /** How long `stop()` waits for deliveries in progress, ms (2000). */
  readonly stopTimeoutMs?: number;
}

/**
 * Alerts: watches the gateway's policy events (breakers, keys) as they happen and its routes'
 * windows on a timer (availability, p95 latency, error rate, daily cost), and sends each alert
 * once when it starts firing and once when it resolves, to webhook and email channels.
 *
 * Nothing here runs on a request's path but a listener that updates a map and queues a notice;
 * sending is asynchronous, retried, and can neither throw into the gateway nor slow it. Without
 * channels the manager does nothing at all: no timer, no listeners.
 */
export class AlertManager {
  private readonly rules: readonly AlertRule[];
  private readonly policyRules: readonly AlertRule[];
  private readonly routeRules: readonly AlertRule[];
  private readonly costRules: readonly AlertRule[];
  private readonly deliveries = new Map<string, Delivery>();
  private readonly states = new AlertStates((n, rule) => this.send(n, rule));
  private readonly cost = new DailyCost();
  private readonly now: () => number;
  private readonly stopTimeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: AlertsConfig,
    private readonly source: AlertSource,
    private readonly log: Logger,
    options: AlertManagerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 2000;
    this.rules = resolveRules(config);
    this.policyRules = this.rules.filter((r) => r.kind === "breaker_open" || r.kind === "key_disabled");
    this.routeRules = this.rules.filter((r) => r.kind === "route_availability" || r.kind === "latency_p95" || r.kind === "error_rate");
    this.costRules = this.rules.filter((r) => r.kind === "daily_cost");
    if (this.rules.length === 0) return;
    const redactor = new Redactor(config.channels);
    const deliveryOptions = { retries: config.retries, retryBaseMs: config.retry_base_ms, capacity: options.queueSize ?? 100 };
    for (const c of config.channels) {
      const channel: Channel = c.type === "webhook" ? new WebhookChannel(c) : new EmailChannel(c);
      this.deliveries.set(c.name, new Delivery(channel, deliveryOptions, log, redactor));
    }
  }

  /** Subscribes to the gateway's events and starts the evaluation timer (unref'd). Does nothing without channels, or once stopped. */
  start(): void {
    if (this.rules.length === 0 || this.running || this.stopping !== null) return;
    this.running = true;
    const known = new Set(this.source.routes.map((r) => r.name));
    for (const r of this.rules)
      if (r.route !== undefined && !known.has(r.route))
        this.log.warn({ rule: r.name, route: r.route }, `alert rule ${r.name} names route ${r.route}, which this gateway does not have`);
    // GatewayEvents has no unsubscribe: the listeners go quiet after stop() (which is why a manager starts once).
    if (this.policyRules.length > 0) this.source.events.onPolicy((e) => this.onPolicy(e));
    if (this.costRules.length > 0) this.source.events.onRequest((r) => this.onRequest(r));
    // Policy rules need the timer too: an alert held back by its cooldown fires when the cooldown ends.
    this.timer = setInterval(() => this.evaluate(), this.config.evaluate_every_ms);
    this.timer.unref();
    this.log.info(
      { rules: this.rules.map((r) => r.name), channels: [...this.deliveries.keys()] },
      `alerts on: ${this.rules.length} rule(s), ${this.deliveries.size} channel(s)`,
    );
  }

  /** Stops evaluating and waits (up to 2 s) for deliveries in progress; what is left is logged as unsent. Final. */
  stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.running = false;
    this.stopping ??= Promise.all([...this.deliveries.values()].map((d) => d.stop(this.stopTimeoutMs))).then(() => {});
    return this.stopping;
  }

  /**
   * What was spent today before this process started, by route (from the usage ledger), so a
   * daily_cost rule counts the whole UTC day across restarts.
   */
  seedDailyCost(spentByRoute: Iterable<readonly [route: string, usd: number]>): void {
    const now = this.now();
    for (const [route, usd] of spentByRoute) this.cost.add(route, usd, now);
  }

  /** Whether a daily_cost rule is configured (and so whether seeding is worth a query). */
  get watchesDailyCost(): boolean {
    return this.costRules.length > 0;
  }

  /** The alerts firing now, as they were sent. */
  firing(): readonly AlertNotice[] {
    return this.states.firing();
  }

  /** On the request path (a breaker opens during an attempt): a map update and a queued notice, nothing more. */
  private onPolicy(e: PolicyEvent): void {
    if (!this.running) return;
    try {
      const now = this.now();
      for (const rule of this.policyRules) {
        const o = observePolicy(rule, e);
        if (o !== null) this.states.observe(o, now);
      }
    } catch (err) {
      this.log.error({ err }, "alerts: a policy event could not be evaluated");
    }
  }

  /** Every served request: adds its cost to today's totals. */
  private onRequest(r: RequestRecord): void {
    if (this.running && r.costUsd > 0) this.cost.add(r.route, r.costUsd, this.now());
  }

  /** The timer: windowed rules over every route, today's cost, and held-back alerts whose cooldown is over. */
  private evaluate(): void {
    try {
      const now = this.now();
      for (const rule of this.routeRules)
        for (const route of this.source.routes) {
          if (rule.route !== undefined && rule.route !== route.name) continue;
          const o = observeRoute(rule, route, now);
          if (o !== null) this.states.observe(o, now);
        }
      for (const rule of this.costRules) this.states.observe(this.cost.observe(rule, now), now);
      this.states.firePending(now);
    } catch (err) {
      this.log.error({ err }, "alerts: evaluation failed");
    }
  }

  /** A notice to send: logged, and queued on each of the rule's channels. */
  private send(n: AlertNotice, rule: AlertRule): void {
    const fields = { rule: n.rule, kind: n.kind, route: n.route, target: n.target, value: n.value, threshold: n.threshold };
    if (n.status === "firing") this.log.warn(fields, alertLine(n));
    else this.log.info(fields, alertLine(n));
    for (const name of rule.channels) this.deliveries.get(name)?.enqueue(n);
  }
}
