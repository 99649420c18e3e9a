import type { AlertKind } from "../../config/alerts-schema.js";

/** One message to send: an alert that began firing or resolved. */
export interface AlertNotice {
  readonly status: "firing" | "resolved";
  readonly rule: string;
  readonly kind: AlertKind;
  readonly route: string | null;
  readonly target: string | null;
  /** The measured value (a share, ms, USD) or the state ("open", "disabled"). */
  readonly value: number | string | null;
  readonly threshold: number | null;
  /** The facts in a phrase: "breaker open (consecutive_failures)", "p95 6200 ms over 5m (40 requests), above 5000 ms". */
  readonly detail: string;
  readonly startedAt: number;
  /** null while firing. */
  readonly resolvedAt: number | null;
}

/** "route chat target oai-a", "route chat", or "gateway" for gateway-wide rules. */
export function scopeOf(n: AlertNotice): string {
  if (n.route === null) return "gateway";
  return n.target === null ? `route ${n.route}` : `route ${n.route} target ${n.target}`;
}

/** "[switchyard] FIRING breaker_open: route chat target oai-a": the email subject, and the text's start. */
export function headline(n: AlertNotice): string {
  return `[switchyard] ${n.status === "firing" ? "FIRING" : "RESOLVED"} ${n.rule}: ${scopeOf(n)}`;
}

/** The one human line: the headline, the facts, and for a resolve how long it fired. */
export function alertLine(n: AlertNotice): string {
  const lasted = n.resolvedAt === null ? "" : ` (fired for ${duration(n.resolvedAt - n.startedAt)})`;
  return `${headline(n)}: ${n.detail}${lasted}`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 6) / 10} h`;
}
