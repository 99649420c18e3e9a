import type { Gateway } from "../pipeline/gateway.js";
import type { CostToday } from "./cost-today.js";

/**
 * What the live dashboard shows, read from the gateway's status (the same figures as
 * /admin/status, one-minute windows) and boiled down to one small card per route and target.
 * Keys appear only masked (as status has them); free text that may quote an upstream answer
 * (a key's disable detail, a health check's detail) has the target's key masked again.
 */
export interface DashboardState {
  /** Server clock, epoch ms: the page measures countdowns against it, not its own clock. */
  readonly now: number;
  readonly version: string;
  readonly uptime_s: number;
  /** Costs count from this midnight (UTC), epoch ms. */
  readonly cost_since: number;
  readonly routes: readonly RouteView[];
}

export interface RouteView {
  readonly name: string;
  readonly surface: string;
  readonly strategy: string;
  readonly available_targets: number;
  readonly queue: { readonly waiting: number; readonly capacity: number };
  readonly traffic: Traffic;
  readonly cost_today_usd: number;
  readonly targets: readonly TargetView[];
}

/** ok: takes traffic normally; degraded: half-open, benched, slow-starting, erring, at its limit; down: out. */
export type Health = "ok" | "degraded" | "down";

export interface TargetView {
  readonly id: string;
  readonly provider: string;
  readonly model: string | null;
  /** Masked: `****abcd`. */
  readonly key: string | null;
  readonly health: Health;
  /** Why it is not ok, in words ([] when ok). */
  readonly health_reasons: readonly string[];
  readonly excluded_by: readonly string[];
  /** `open_until` (epoch ms) is when an open breaker lets a trial call through: the countdown. */
  readonly breaker: { readonly state: string; readonly open_until: number | null; readonly openings: number };
  readonly key_state: KeyStateView;
  readonly health_check: { readonly state: string; readonly detail: string | null } | null;
  readonly in_flight: number;
  /** null: no limit. */
  readonly max_concurrent: number | null;
  readonly traffic: Traffic;
  readonly cost_today_usd: number;
}

export interface KeyStateView {
  readonly state: "enabled" | "disabled" | "benched";
  /** disabled: failure_rate, auth, quota, operator; benched: the rate limit's reason. */
  readonly reason: string | null;
  readonly detail: string | null;
  /** Epoch ms a bench ends (a countdown), else null. */
  readonly until: number | null;
}

/** The last minute's figures. */
export interface Traffic {
  readonly requests: number;
  readonly rps: number;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  /** Share of requests that failed; null without requests. */
  readonly error_rate: number | null;
}

/** A 1-minute error rate at or above this (with enough calls to mean something) shows amber. */
const DEGRADED_ERROR_RATE = 0.1;
const MIN_CALLS_FOR_RATE = 5;

/*
 * The slice of the status document read here. Policy blocks are spread into a target's status
 * untyped (each policy says its own), so they are named optional; a policy that is off is absent.
 */
interface StatusWindow {
  readonly requests: number;
  readonly success_rate: number | null;
  readonly rps: number;
  readonly latency_ms: { readonly p50: number; readonly p95: number } | null;
}
interface StatusTarget {
  readonly id: string;
  readonly provider: string;
  readonly model: string | null;
  readonly key: string | null;
  readonly limits: { readonly max_concurrent?: number };
  readonly stats: { readonly in_flight: number };
  readonly windows: { readonly "1m": StatusWindow };
  readonly excluded_by: readonly string[];
  readonly breaker?: { readonly state: string; readonly open_until: number | null; readonly openings: number };
  readonly key_disabled?: { readonly reason: string; readonly detail: string };
  readonly rate_limit?: { readonly benched_until: string | null; readonly reason: string | null };
  readonly health_check?: { readonly state: string; readonly degraded: boolean; readonly last_detail: string | null };
  readonly slow_start?: { readonly factor: number };
}
interface StatusRoute {
  readonly name: string;
  readonly surface: string;
  readonly strategy: string;
  readonly available_targets: number;
  readonly windows: { readonly "1m": StatusWindow };
  readonly queue: { readonly waiting: number; readonly capacity: number };
  readonly targets: readonly StatusTarget[];
}
interface StatusDocument {
  readonly version: string;
  readonly uptime_s: number;
  readonly routes: readonly StatusRoute[];
}

export function dashboardState(gw: Gateway, costs: CostToday, now = Date.now()): DashboardState {
  const status = gw.status() as unknown as StatusDocument;
  return {
    now,
    version: status.version,
    uptime_s: status.uptime_s,
    cost_since: costs.since(now),
    routes: status.routes.map((r) => routeView(gw, r, costs, now)),
  };
}

function routeView(gw: Gateway, r: StatusRoute, costs: CostToday, now: number): RouteView {
  const mask = maskerOf(gw, r.name);
  return {
    name: r.name,
    surface: r.surface,
    strategy: r.strategy,
    available_targets: r.available_targets,
    queue: { waiting: r.queue.waiting, capacity: r.queue.capacity },
    traffic: traffic(r.windows["1m"]),
    cost_today_usd: round6(costs.ofRoute(r.name, now)),
    targets: r.targets.map((t) => targetView(t, costs.of(r.name, t.id, now), (text) => mask(t.id, text))),
  };
}

function targetView(t: StatusTarget, costUsd: number, mask: (text: string) => string): TargetView {
  const breaker = t.breaker ?? { state: "disabled", open_until: null, openings: 0 };
  const keyState = keyStateOf(t, mask);
  const hc = t.health_check;
  const load = traffic(t.windows["1m"]);
  const { health, reasons } = healthOf(t, breaker.state, keyState, load);
  return {
    id: t.id,
    provider: t.provider,
    model: t.model,
    key: t.key,
    health,
    health_reasons: reasons,
    excluded_by: t.excluded_by,
    breaker: { state: breaker.state, open_until: breaker.open_until, openings: breaker.openings },
    key_state: keyState,
    health_check: hc === undefined ? null : { state: hc.degraded ? "degraded" : hc.state, detail: hc.last_detail && mask(hc.last_detail) },
    in_flight: t.stats.in_flight,
    max_concurrent: t.limits.max_concurrent ?? null,
    traffic: load,
    cost_today_usd: round6(costUsd),
  };
}

function keyStateOf(t: StatusTarget, mask: (text: string) => string): KeyStateView {
  const d = t.key_disabled;
  if (d !== undefined) return { state: "disabled", reason: d.reason, detail: mask(d.detail), until: null };
  const b = t.rate_limit;
  if (b?.benched_until != null) return { state: "benched", reason: b.reason, detail: null, until: Date.parse(b.benched_until) };
  return { state: "enabled", reason: null, detail: null, until: null };
}

/** The card's colour and the words for it; the worst reason wins. */
function healthOf(t: StatusTarget, breaker: string, key: KeyStateView, load: Traffic): { health: Health; reasons: string[] } {
  const down: string[] = [];
  const degraded: string[] = [];
  if (breaker === "open" || breaker === "forced_open") down.push(`breaker ${breaker.replace("_", " ")}`);
  else if (breaker === "half_open") degraded.push("breaker half open");
  if (key.state === "disabled") down.push(`key disabled (${key.reason ?? "?"})`);
  else if (key.state === "benched") degraded.push("key benched (rate limit)");
  const hc = t.health_check;
  if (hc?.state === "unhealthy") down.push("health check failing");
  else if (hc?.degraded === true) degraded.push("health check degraded");
  if (t.slow_start !== undefined) degraded.push(`slow start ×${t.slow_start.factor}`);
  const explained = new Set(["breaker", "key_disabled", "rate_limit", "health_check"]);
  for (const why of t.excluded_by) if (!explained.has(why)) degraded.push(`held out by ${why}`);
  if (load.error_rate !== null && load.requests >= MIN_CALLS_FOR_RATE && load.error_rate >= DEGRADED_ERROR_RATE)
    degraded.push(`errors ${Math.round(load.error_rate * 100)}% (1m)`);
  if (down.length > 0) return { health: "down", reasons: [...down, ...degraded] };
  return { health: degraded.length > 0 ? "degraded" : "ok", reasons: degraded };
}

function traffic(w: StatusWindow): Traffic {
  return {
    requests: w.requests,
    rps: w.rps,
    p50_ms: w.latency_ms === null ? null : Math.round(w.latency_ms.p50),
    p95_ms: w.latency_ms === null ? null : Math.round(w.latency_ms.p95),
    error_rate: w.success_rate === null ? null : Math.round((1 - w.success_rate) * 10_000) / 10_000,
  };
}

/** Masks a target's key in text it may quote (an upstream error echoing the key). */
function maskerOf(gw: Gateway, routeName: string): (targetId: string, text: string) => string {
  const route = gw.route(routeName);
  return (id, text) => route?.targets.find((t) => t.id === id)?.maskKeyIn(text) ?? text;
}

const round6 = (usd: number) => Math.round(usd * 1e6) / 1e6;
