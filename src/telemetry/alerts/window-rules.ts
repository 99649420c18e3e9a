import type { AlertRoute } from "./alert-source.js";
import type { AlertRule } from "./alert-rule.js";
import type { Observation } from "./alert-states.js";

/**
 * The rules evaluated on the timer, one route at a time. A route's latency and error rate need
 * `min_requests` in the window to fire; a window with fewer says nothing (null) unless it clearly
 * does not hold (a low value, or no requests at all: an idle route is not slow).
 */
export function observeRoute(rule: AlertRule, route: AlertRoute, now: number): Observation | null {
  switch (rule.kind) {
    case "route_availability":
      return availability(rule, route, now);
    case "latency_p95":
      return latency(rule, route, now);
    case "error_rate":
      return errorRate(rule, route, now);
    default:
      return null;
  }
}

function availability(rule: AlertRule, route: AlertRoute, now: number): Observation | null {
  const total = route.targets.length;
  if (total === 0) return null;
  const available = route.availableTargets(now);
  const share = available / total;
  const threshold = rule.threshold ?? 0;
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const detail = `${available} of ${total} targets available (${pct(share)}), ${share < threshold ? "below" : "at or above"} ${pct(threshold)}`;
  return { rule, route: route.name, target: null, holds: share < threshold, value: round(share, 4), detail };
}

function latency(rule: AlertRule, route: AlertRoute, now: number): Observation | null {
  const snap = route.window.snapshot(rule.window, now);
  if (snap.latency === null)
    return { rule, route: route.name, target: null, holds: false, value: null, detail: `no requests over ${rule.window}` };
  const p95 = snap.latency.p95;
  const threshold = rule.threshold ?? 0;
  const above = p95 > threshold;
  const holds = !above ? false : snap.requests >= rule.minRequests ? true : null;
  const detail = `p95 ${Math.round(p95)} ms over ${rule.window} (${snap.requests} requests), ${above ? "above" : "at or below"} ${threshold} ms`;
  return { rule, route: route.name, target: null, holds, value: round(p95, 1), detail };
}

function errorRate(rule: AlertRule, route: AlertRoute, now: number): Observation | null {
  const snap = route.window.snapshot(rule.window, now);
  if (snap.requests === 0)
    return { rule, route: route.name, target: null, holds: false, value: null, detail: `no requests over ${rule.window}` };
  const rate = snap.errors / snap.requests;
  const threshold = rule.threshold ?? 0;
  const above = rate > threshold;
  const holds = !above ? false : snap.requests >= rule.minRequests ? true : null;
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  const detail = `${snap.errors} of ${snap.requests} requests failed over ${rule.window} (${pct(rate)}), ${above ? "above" : "at or below"} ${pct(threshold)}`;
  return { rule, route: route.name, target: null, holds, value: round(rate, 4), detail };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
