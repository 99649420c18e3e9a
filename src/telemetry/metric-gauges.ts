import { Gauge, type Registry } from "prom-client";
import type { Target } from "../core/target.js";
import { WINDOWS, type WindowedStats } from "../core/windowed-stats.js";
import type { MetricsRoute, MetricsSource } from "./metrics-source.js";

const BREAKER_STATES: Record<string, number> = { closed: 0, open: 1, half_open: 2, forced_open: 3, disabled: 4 };

/**
 * The gauges, read from the routes when Prometheus scrapes (nothing on the request path): target
 * health, response time and error rate, breaker state, quality, what is in flight, pool
 * utilisation, queue depth, available targets, and the windowed stats.
 */
export function registerGauges(registry: Registry, source: MetricsSource): void {
  const registers = [registry];
  const perTarget = (set: (g: Gauge, r: MetricsRoute, t: Target, now: number) => void) =>
    function (this: Gauge) {
      this.reset();
      const now = Date.now();
      for (const r of source.routes) for (const t of r.targets) set(this, r, t, now);
    };
  new Gauge({
    name: "loadbalancer_backend_health",
    help: "1 when the backend (target) may take calls now, 0 when a breaker, bench, disabled key or health check keeps it out",
    labelNames: ["route", "backend_id", "backend_type"],
    registers,
    collect: perTarget((g, r, t, now) =>
      g.set({ route: r.name, backend_id: t.id, backend_type: t.provider }, r.isAvailable(t, now) ? 1 : 0),
    ),
  });
  new Gauge({
    name: "loadbalancer_backend_response_time_ms",
    help: "Mean duration of the backend's calls over the last minute, ms (the latency EWMA when it had none)",
    labelNames: ["route", "backend_id"],
    registers,
    collect: perTarget((g, r, t, now) =>
      g.set({ route: r.name, backend_id: t.id }, t.stats.window.snapshot("1m", now).latency?.mean ?? t.stats.latencyEwmaMs),
    ),
  });
  new Gauge({
    name: "loadbalancer_backend_error_rate",
    help: "Share of the backend's calls that failed over the last 5 minutes (0 without calls)",
    labelNames: ["route", "backend_id"],
    registers,
    collect: perTarget((g, r, t, now) => {
      const s = t.stats.window.snapshot("5m", now);
      g.set({ route: r.name, backend_id: t.id }, s.requests === 0 ? 0 : s.errors / s.requests);
    }),
  });
  new Gauge({
    name: "loadbalancer_circuit_breaker_state",
    help: "The backend's circuit breaker: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled",
    labelNames: ["route", "backend_id"],
    registers,
    collect: perTarget((g, r, t, now) =>
      g.set({ route: r.name, backend_id: t.id }, BREAKER_STATES[r.policies.breaker.of(t).stats(now).state] ?? 0),
    ),
  });
  new Gauge({
    name: "loadbalancer_response_quality_score",
    help: "The backend's quality score (targets[].quality)",
    labelNames: ["route", "backend_id"],
    registers,
    collect: perTarget((g, r, t) => g.set({ route: r.name, backend_id: t.id }, t.quality)),
  });
  new Gauge({
    name: "switchyard_in_flight_requests",
    help: "Client requests being served now",
    registers,
    collect(this: Gauge) {
      this.set(source.inFlight);
    },
  });
  new Gauge({
    name: "switchyard_target_in_flight",
    help: "Attempts in flight to each target now",
    labelNames: ["route", "target"],
    registers,
    collect: perTarget((g, r, t) => g.set({ route: r.name, target: t.id }, t.stats.inFlight)),
  });
  new Gauge({
    name: "switchyard_pool_utilisation",
    help: "Attempts in flight / limits.max_concurrent, per target with a limit: now, and the mean over the last minute",
    labelNames: ["route", "target", "window"],
    registers,
    collect: perTarget((g, r, t, now) => {
      if (t.maxConcurrent <= 0) return;
      g.set({ route: r.name, target: t.id, window: "now" }, t.stats.inFlight / t.maxConcurrent);
      g.set({ route: r.name, target: t.id, window: "1m" }, t.stats.window.snapshot("1m", now).meanInFlight / t.maxConcurrent);
    }),
  });
  new Gauge({
    name: "switchyard_queue_depth",
    help: "Requests waiting in each route's queue now",
    labelNames: ["route"],
    registers,
    collect(this: Gauge) {
      this.reset();
      for (const r of source.routes) this.set({ route: r.name }, r.policies.queue.length);
    },
  });
  new Gauge({
    name: "switchyard_available_targets",
    help: "Targets of each route that may take calls now",
    labelNames: ["route"],
    registers,
    collect(this: Gauge) {
      this.reset();
      const now = Date.now();
      for (const r of source.routes) this.set({ route: r.name }, r.availableTargets(now));
    },
  });
  const windowed = (
    name: string,
    help: string,
    read: (w: WindowedStats, window: (typeof WINDOWS)[number], now: number) => [string, number][],
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["route", "target", "window", "stat"],
      registers,
      collect(this: Gauge) {
        this.reset();
        const now = Date.now();
        for (const r of source.routes)
          for (const window of WINDOWS) {
            for (const [stat, v] of read(r.window, window, now)) this.set({ route: r.name, target: "", window, stat }, v);
            for (const t of r.targets)
              for (const [stat, v] of read(t.stats.window, window, now)) this.set({ route: r.name, target: t.id, window, stat }, v);
          }
      },
    });
  windowed(
    "switchyard_window_latency_seconds",
    'Latency over the last 1m / 5m / 1h (HDR histogram): min, mean, p50, p95, p99, max; target "" = the route\'s client requests',
    (w, window, now) => {
      const l = w.snapshot(window, now).latency;
      if (l === null) return [];
      return [
        ["min", l.min / 1000],
        ["mean", l.mean / 1000],
        ["p50", l.p50 / 1000],
        ["p95", l.p95 / 1000],
        ["p99", l.p99 / 1000],
        ["max", l.max / 1000],
      ];
    },
  );
  windowed(
    "switchyard_window_rate",
    "Over the last 1m / 5m / 1h: rps, success_ratio, failovers, failover_success_ratio",
    (w, window, now) => {
      const s = w.snapshot(window, now);
      const out: [string, number][] = [["rps", s.rps]];
      if (s.successRate !== null) out.push(["success_ratio", s.successRate]);
      if (s.failovers > 0) out.push(["failovers", s.failovers], ["failover_success_ratio", s.failoverSuccesses / s.failovers]);
      return out;
    },
  );
}
