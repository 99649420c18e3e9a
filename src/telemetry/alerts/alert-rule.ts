import { type AlertKind, type AlertsConfig, alertRuleSchema } from "../../config/alerts-schema.js";
import type { WindowName } from "../../core/windowed-stats.js";

/** One rule, resolved once at start-up: defaults filled, channels named, cooldown in ms. */
export interface AlertRule {
  readonly name: string;
  readonly kind: AlertKind;
  /** null for the kinds that follow a state (breaker_open, key_disabled). */
  readonly threshold: number | null;
  readonly window: WindowName;
  readonly minRequests: number;
  /** Only this route; undefined: every route (daily_cost: the whole gateway). */
  readonly route: string | undefined;
  readonly channels: readonly string[];
  readonly cooldownMs: number;
}

/** Thresholds of the spec: < 50 % of targets available, p95 > 5 s, > 20 % errors. */
const DEFAULT_THRESHOLD: Readonly<Record<AlertKind, number | null>> = {
  breaker_open: null,
  key_disabled: null,
  route_availability: 0.5,
  latency_p95: 5000,
  error_rate: 0.2,
  daily_cost: null,
};

/** daily_cost is left out of the defaults: it has no sensible threshold without the operator's budget. */
const DEFAULT_KINDS: readonly AlertKind[] = ["breaker_open", "route_availability", "latency_p95", "error_rate", "key_disabled"];

/** The rules to run: none without channels; every kind but daily_cost when `rules` is omitted. */
export function resolveRules(config: AlertsConfig): readonly AlertRule[] {
  if (config.channels.length === 0) return [];
  const all = config.channels.map((c) => c.name);
  const rules = config.rules ?? DEFAULT_KINDS.map((kind) => alertRuleSchema.parse({ kind }));
  return rules.map((r) => ({
    name: r.name ?? r.kind,
    kind: r.kind,
    threshold: r.threshold ?? DEFAULT_THRESHOLD[r.kind],
    window: r.window,
    minRequests: r.min_requests,
    route: r.route,
    channels: r.channels ?? all,
    cooldownMs: (r.cooldown_s ?? config.cooldown_s) * 1000,
  }));
}
