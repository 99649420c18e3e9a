import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { AttemptRecord, PolicyEvent, RequestRecord } from "../core/events.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import { type CounterSeries, FastCounter, FastHistogram, type HistogramSeries } from "./fast-metrics.js";
import { registerGauges } from "./metric-gauges.js";
import type { SharedStateInfo } from "../state/replicated-store.js";
import type { MetricsSource } from "./metrics-source.js";
import { ModelLabels } from "./model-labels.js";

export type { MetricsRoute, MetricsSource } from "./metrics-source.js";

/** One route's batching counts, as the embedding batcher keeps them (src/batch). */
export interface BatchingCounts {
  readonly eligible: number;
  readonly batched: number;
  readonly batches: number;
  readonly fallbacks: number;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OVERHEAD_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/**
 * Prometheus metrics (prom-client), fed by the engine's events and read from routes at scrape
 * time; the core never imports prom-client. The production balancer's names (`loadbalancer_*`,
 * `backend_id` = the target id, plus `route`) and ours (`switchyard_*`). Every label value comes
 * from the config or a short fixed list (statuses, outcome kinds, methods); a model the config does
 * not name is kept only while a route has seen fewer than 50 (then "other").
 *
 * The request path pays a few map lookups and counter increments: label children are made once
 * per series and kept.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly models = new Map<string, ModelLabels>();
  /** By target, the series its last attempt went to (reused while status, method and outcome repeat). */
  private readonly lastAttempt = new WeakMap<Target, AttemptSeries>();
  /** By route, its request series, and by target the token series of the model it last answered for. */
  private readonly routeSeries = new Map<string, RouteSeries>();

  // the production balancer's metrics
  private readonly lbRequests = new FastCounter(this.registry, {
    name: "loadbalancer_requests_total",
    help: "Calls to each backend (target): every attempt, by upstream status (or outcome when none came) and method",
    labelNames: ["route", "backend_id", "status", "method"],
  });
  private readonly lbDuration = new FastHistogram(this.registry, {
    name: "loadbalancer_request_duration_seconds",
    help: "Duration of each call to a backend, from the call's start to its body's end",
    labelNames: ["route", "backend_id", "status"],
    buckets: SECONDS,
  });
  private readonly lbBreakerFailures = new FastCounter(this.registry, {
    name: "loadbalancer_circuit_breaker_failures_total",
    help: "Calls to a backend that failed in a way its circuit breaker counts (every outcome but ok and client errors)",
    labelNames: ["route", "backend_id"],
  });
  private readonly lbCost = new FastCounter(this.registry, {
    name: "loadbalancer_request_cost_usd",
    help: "Cost of the answers of each backend in USD (usage × price), summed",
    labelNames: ["route", "backend_id", "backend_type"],
  });

  // ours, fed by events
  private readonly requests = new FastCounter(this.registry, {
    name: "switchyard_requests_total",
    help: "Client requests served, by route, status and method",
    labelNames: ["route", "status", "method"],
  });
  private readonly clientRequests = new FastCounter(this.registry, {
    name: "switchyard_client_requests_total",
    help: "Client requests by client key (its name, never the key) and status; none while client keys are off",
    labelNames: ["client_key", "status"],
  });
  private readonly cacheRequests = new FastCounter(this.registry, {
    name: "switchyard_cache_requests_total",
    help: "Requests of routes with a response cache, by what the cache did: hit, miss, bypass (Cache-Control), stale (served when every target failed), coalesced (shared an identical request's upstream call)",
    labelNames: ["route", "result"],
  });
  private readonly duration = new FastHistogram(this.registry, {
    name: "switchyard_request_duration_seconds",
    help: "Client request duration, arrival to the answer's end",
    labelNames: ["route"],
    buckets: SECONDS,
  });
  private readonly ttfb = new FastHistogram(this.registry, {
    name: "switchyard_time_to_first_byte_seconds",
    help: "Client request arrival to the answer's status and headers (the upstream's first byte)",
    labelNames: ["route"],
    buckets: SECONDS,
  });
  private readonly overhead = new FastHistogram(this.registry, {
    name: "switchyard_gateway_overhead_seconds",
    help: "Time a request spent in the gateway itself: its duration less upstream calls, queue and backoff waits",
    labelNames: ["route"],
    buckets: OVERHEAD_SECONDS,
  });
  private readonly queueWait = new FastHistogram(this.registry, {
    name: "switchyard_queue_wait_seconds",
    help: "Time requests that queued waited for a target",
    labelNames: ["route"],
    buckets: SECONDS,
  });
  private readonly attempts = new FastCounter(this.registry, {
    name: "switchyard_attempts_total",
    help: "Attempts by how they ended (outcome kind)",
    labelNames: ["route", "target", "outcome"],
  });
  private readonly retries = new FastCounter(this.registry, {
    name: "switchyard_retries_total",
    help: "Attempts after a request's first (retries and failovers), hedges not included",
    labelNames: ["route"],
  });
  private readonly failovers = new FastCounter(this.registry, {
    name: "switchyard_failovers_total",
    help: "Requests answered (or failed) after moving to another target than the first tried",
    labelNames: ["route", "result"],
  });
  private readonly hedges = new FastCounter(this.registry, {
    name: "switchyard_hedges_total",
    help: "Hedged attempts started",
    labelNames: ["route"],
  });
  private readonly tokens = new FastCounter(this.registry, {
    name: "switchyard_tokens_total",
    help: "Tokens of the answers, by kind: input (cached reads and cache writes included), cached_input, cache_write, output",
    labelNames: ["route", "target", "model", "kind"],
  });
  private readonly cost = new FastCounter(this.registry, {
    name: "switchyard_cost_usd_total",
    help: "Cost of the answers in USD, by model",
    labelNames: ["route", "target", "model"],
  });
  private readonly policyChanges = new FastCounter(this.registry, {
    name: "switchyard_policy_transitions_total",
    help: "Target state changes: breaker transitions, rate-limit benches, key disables, health flips",
    labelNames: ["route", "target", "policy", "from", "to"],
  });
  private readonly reloads = new FastCounter(this.registry, {
    name: "switchyard_config_reloads_total",
    help: "Config changes tried (reloads and admin changes), by result: applied, or refused (nothing changed)",
    labelNames: ["result"],
  });
  /** As Prometheus's own prometheus_config_last_reload_successful: alert when it reads 0. */
  private readonly lastReloadOk = new Gauge({
    name: "switchyard_config_last_reload_successful",
    help: "1 when the last config change tried was applied (or none was tried), 0 when it was refused",
    registers: [this.registry],
  });
  private readonly generation = new Gauge({
    name: "switchyard_config_generation",
    help: "The route generation running: 1 at start, one more per applied config change",
    registers: [this.registry],
  });
  private readonly benches = new FastCounter(this.registry, {
    name: "switchyard_rate_limit_benches_total",
    help: "Times a target's key was benched for a rate limit",
    labelNames: ["route", "target"],
  });
  private readonly keyDisables = new FastCounter(this.registry, {
    name: "switchyard_key_disables_total",
    help: "Times a target's key was disabled",
    labelNames: ["route", "target"],
  });

  constructor(
    private readonly source: MetricsSource,
    options: { process?: boolean } = {},
  ) {
    if (options.process ?? true) collectDefaultMetrics({ register: this.registry });
    this.labelModels();
    source.events.onTopology(() => this.labelModels());
    registerGauges(this.registry, source);
    source.events.onAttempt(this.onAttempt);
    source.events.onRequest(this.onRequest);
    source.events.onPolicy(this.onPolicy);
    this.lastReloadOk.set(1);
    this.generation.set(1);
    source.events.onConfig((e) => {
      this.reloads.of(e.ok ? "applied" : "refused").inc();
      this.lastReloadOk.set(e.ok ? 1 : 0);
      this.generation.set(e.version);
    });
  }

  /** The model names each route may label series with (again after a reload). */
  private labelModels(): void {
    this.models.clear();
    this.routeSeries.clear();
    for (const r of this.source.routes) this.models.set(r.name, new ModelLabels(r.config.models ?? [], r.targets));
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The batching of embedding requests, read from the batcher at scrape time (none while it is not
   * installed): eligible requests, requests answered from a batch, batch calls, fallbacks, and
   * the batched share, by route.
   */
  watchBatching(source: () => { readonly routeCounts: ReadonlyMap<string, BatchingCounts> } | undefined): void {
    const registers = [this.registry];
    const counter = (name: string, help: string, read: (c: BatchingCounts) => number) =>
      new Counter({
        name,
        help,
        labelNames: ["route"],
        registers,
        collect(this: Counter) {
          this.reset();
          const counts = source()?.routeCounts;
          if (counts !== undefined) for (const [route, c] of counts) this.inc({ route }, read(c));
        },
      });
    counter(
      "switchyard_batch_eligible_requests_total",
      "Embedding requests that could be batched (route with batching, string inputs)",
      (c) => c.eligible,
    );
    counter("switchyard_batched_requests_total", "Requests answered from a batch (their share of one upstream call)", (c) => c.batched);
    counter("switchyard_batch_calls_total", "Upstream batch calls (failed ones included)", (c) => c.batches);
    counter("switchyard_batch_fallbacks_total", "Requests sent alone because their batch failed", (c) => c.fallbacks);
    new Gauge({
      name: "switchyard_batched_ratio",
      help: "Batched requests / eligible requests since start (0 before any)",
      labelNames: ["route"],
      registers,
      collect(this: Gauge) {
        this.reset();
        const counts = source()?.routeCounts;
        if (counts !== undefined) for (const [route, c] of counts) this.set({ route }, c.eligible === 0 ? 0 : c.batched / c.eligible);
      },
    });
  }

  /**
   * The inbound limits' Redis, read at scrape time (nothing while they count in this process
   * alone): `switchyard_shared_limits_up` 1/0 and `switchyard_limits_counted_locally_total`
   * (requests counted here because Redis did not answer).
   */
  watchSharedLimits(source: () => { redis: "up" | "down"; counted_locally: number } | undefined): void {
    const registers = [this.registry];
    new Gauge({
      name: "switchyard_shared_limits_up",
      help: "1 while the inbound limits are counted in Redis for every instance, 0 while this instance counts them alone (its share)",
      registers,
      collect(this: Gauge) {
        this.reset();
        const s = source();
        if (s !== undefined) this.set(s.redis === "up" ? 1 : 0);
      },
    });
    new Counter({
      name: "switchyard_limits_counted_locally_total",
      help: "Requests whose inbound limits were counted by this instance alone because Redis did not answer",
      registers,
      collect(this: Counter) {
        const s = source();
        this.reset();
        if (s !== undefined) this.inc(s.counted_locally);
      },
    });
  }

  /**
   * The shared state's link, read at scrape time (nothing while the gateway keeps its state to
   * itself): `switchyard_shared_state_up` 1/0 and `switchyard_instance_info{switchyard_instance,store}` 1 (not `instance`: Prometheus sets that label on every scraped series).
   */
  watchSharedState(source: () => SharedStateInfo | undefined): void {
    const registers = [this.registry];
    new Gauge({
      name: "switchyard_shared_state_up",
      help: "1 while the state shared with the other instances is reachable, 0 while this instance serves on its own state",
      registers,
      collect(this: Gauge) {
        this.reset();
        const s = source();
        if (s !== undefined) this.set(s.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_instance_info",
      help: "This instance of a shared gateway (always 1), labelled with its name and what carries its state",
      labelNames: ["switchyard_instance", "store"],
      registers,
      collect(this: Gauge) {
        this.reset();
        const s = source();
        if (s !== undefined) this.set({ switchyard_instance: s.instance, store: s.store }, 1);
      },
    });
  }

  private readonly onAttempt = (a: AttemptRecord, ctx: RequestContext): void => {
    const t = a.target;
    const o = a.outcome;
    const status = o.status > 0 ? statusLabel(o.status) : o.kind;
    const method = methodLabel(ctx.method);
    // Most attempts of a target end as its previous one did: reuse its series without a lookup.
    let m = this.lastAttempt.get(t);
    if (m === undefined || m.status !== status || m.method !== method || m.kind !== o.kind) {
      const route = t.routeName;
      m = {
        status,
        method,
        kind: o.kind,
        calls: this.lbRequests.of(route, t.id, status, method),
        duration: this.lbDuration.of(route, t.id, status),
        attempts: this.attempts.of(route, t.id, o.kind),
      };
      this.lastAttempt.set(t, m);
    }
    m.calls.inc();
    m.duration.observe(a.latencyMs / 1000);
    m.attempts.inc();
    if (o.kind !== "ok" && o.kind !== "client_error") this.lbBreakerFailures.of(t.routeName, t.id).inc();
    if (a.hedge) this.hedges.of(t.routeName).inc();
    else if (a.number > 1) this.retries.of(t.routeName).inc();
  };

  private readonly onRequest = (r: RequestRecord): void => {
    const route = r.route ?? "";
    this.requests.of(route, statusLabel(r.status), methodLabel(r.method)).inc();
    if (r.clientKey !== "") this.clientRequests.of(r.clientKey, statusLabel(r.status)).inc();
    if (r.cache !== "") this.cacheRequests.of(route, r.cache).inc();
    if (r.route === null) return;
    let rs = this.routeSeries.get(route);
    if (rs === undefined)
      this.routeSeries.set(
        route,
        (rs = {
          duration: this.duration.of(route),
          overhead: this.overhead.of(route),
          ttfb: this.ttfb.of(route),
          tokens: new Map(),
          models: this.models.get(route) ?? new ModelLabels([], []),
        }),
      );
    rs.duration.observe(r.durationMs / 1000);
    rs.overhead.observe(r.overheadMs / 1000);
    if (r.ttfbMs >= 0) rs.ttfb.observe(r.ttfbMs / 1000);
    if (r.queueMs > 0) this.queueWait.of(route).observe(r.queueMs / 1000);
    const first = r.tries[0];
    if (first !== undefined && r.tries.length > 1 && (r.target === null || first.target.id !== r.target))
      this.failovers.of(route, r.target === null || r.status >= 500 ? "failed" : "ok").inc();
    const target = r.target;
    const u = r.usage;
    if (target === null || u === null) return;
    let ts = rs.tokens.get(target);
    if (ts === undefined || ts.asked !== r.upstreamModel) {
      const model = rs.models.label(r.upstreamModel);
      const provider = r.tries.find((a) => a.target.id === target)?.target.provider ?? "";
      ts = {
        asked: r.upstreamModel,
        model,
        input: this.tokens.of(route, target, model, "input"),
        output: this.tokens.of(route, target, model, "output"),
        cached: this.tokens.of(route, target, model, "cached_input"),
        cost: this.cost.of(route, target, model),
        lbCost: this.lbCost.of(route, target, provider),
      };
      rs.tokens.set(target, ts);
    }
    ts.input.inc(u.prompt_tokens);
    ts.output.inc(u.completion_tokens);
    const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
    if (cached > 0) ts.cached.inc(cached);
    const written = u.prompt_tokens_details?.cache_creation_tokens ?? 0;
    if (written > 0) this.tokens.of(route, target, ts.model, "cache_write").inc(written);
    if (r.costUsd > 0) {
      ts.cost.inc(r.costUsd);
      ts.lbCost.inc(r.costUsd);
    }
  };

  private readonly onPolicy = (e: PolicyEvent): void => {
    this.policyChanges.of(e.route, e.target, e.policy, e.from || "none", e.to).inc();
    if (e.policy === "rate_limit" && e.to === "benched") this.benches.of(e.route, e.target).inc();
    if (e.policy === "key" && e.to === "disabled") this.keyDisables.of(e.route, e.target).inc();
  };
}

interface AttemptSeries {
  readonly status: string;
  readonly method: string;
  readonly kind: string;
  readonly calls: CounterSeries;
  readonly duration: HistogramSeries;
  readonly attempts: CounterSeries;
}

interface TokenSeries {
  /** The upstream model these series are for, as the record named it (before bounding). */
  readonly asked: string;
  /** The model label (bounded). */
  readonly model: string;
  readonly input: CounterSeries;
  readonly output: CounterSeries;
  readonly cached: CounterSeries;
  readonly cost: CounterSeries;
  readonly lbCost: CounterSeries;
}

interface RouteSeries {
  readonly duration: HistogramSeries;
  readonly overhead: HistogramSeries;
  readonly ttfb: HistogramSeries;
  readonly tokens: Map<string, TokenSeries>;
  readonly models: ModelLabels;
}

const STATUS_LABELS = new Map<number, string>();
function statusLabel(status: number): string {
  let s = STATUS_LABELS.get(status);
  if (s === undefined) STATUS_LABELS.set(status, (s = String(status)));
  return s;
}

function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "OTHER";
}
