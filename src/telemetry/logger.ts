import { pino, type Logger } from "pino";
import type { GatewayEvents } from "../gateway/events.js";

export type { Logger };

/**
 * JSON logs (pino) to stdout. Lines are batched (up to 4 KiB or 1 s, flushed at exit) so a busy
 * gateway does not pay one write per request. Anything shaped like a credential is redacted by
 * path, compiled once, in case a caller ever logs a header or target object; the access log
 * (fixed, known-safe fields) skips redaction — it is the hot one.
 */
export function createLogger(level: string, destination: number | string = 1): Logger {
  const dest = pino.destination({ dest: destination, sync: false, minLength: 4096 });
  const flush = setInterval(() => dest.flush(), 1000);
  flush.unref();
  destinations.add(dest);
  if (destinations.size === 1) process.once("exit", flushAll);
  const options = {
    level,
    base: { service: "switchyard" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const log = pino({ ...options, redact: { paths: REDACT, censor: "[redacted]" } }, dest);
  accessLoggers.set(log, pino(options, dest));
  return log;
}

const destinations = new Set<ReturnType<typeof pino.destination>>();
function flushAll(): void {
  for (const d of destinations) {
    try {
      d.flushSync();
    } catch {
      // nothing left to do at exit
    }
  }
}

const REDACT = ["key", "*.key", "*.*.key", "headers.authorization", "headers['x-api-key']", "headers['x-goog-api-key']", "*.headers.authorization", "*.headers['x-api-key']"];

/** The redaction-free twin of each logger made here, for the access log. */
const accessLoggers = new WeakMap<Logger, Logger>();

/** One access-log line per served request, with its correlation id. */
export function logRequests(events: GatewayEvents, root: Logger): void {
  if (!root.isLevelEnabled("info")) return;
  const log = accessLoggers.get(root) ?? root;
  events.onRequest((r) => {
    log.info(
      {
        request_id: r.requestId,
        method: r.method,
        path: r.path,
        route: r.route,
        target: r.target,
        status: r.status,
        attempts: r.attempts,
        duration_ms: Math.round(r.durationMs * 100) / 100,
        stream: r.stream,
        error: r.errorCode ?? undefined,
      },
      "request",
    );
  });
}

/** Failed attempts at warn level: which target, why, for which request. */
export function logAttemptFailures(events: GatewayEvents, log: Logger): void {
  if (!log.isLevelEnabled("warn")) return;
  events.onAttempt((route, target, outcome, latencyMs, ctx) => {
    if (outcome.kind === "ok" || outcome.kind === "client_error") return;
    log.warn(
      { request_id: ctx.requestId, route: route.name, target: target.id, outcome: outcome.kind, status: outcome.status || undefined, detail: outcome.detail, latency_ms: Math.round(latencyMs) },
      "attempt failed",
    );
  });
}

/** Every policy state change (breaker, bench, key, health) as one log line: warn when a target goes out, info when it comes back. */
export function logPolicyEvents(events: GatewayEvents, log: Logger): void {
  events.onPolicy((e) => {
    const out = e.to === "open" || e.to === "forced_open" || e.to === "benched" || e.to === "disabled" || e.to === "unhealthy";
    const fields = { route: e.route, target: e.target, policy: e.policy, from: e.from || undefined, to: e.to, reason: e.reason };
    if (e.policy === "key" && e.to === "disabled" && /^(auth|quota)/.test(e.reason)) log.error(fields, `key of target ${e.target} disabled until an operator re-enables it (POST /admin/routes/${e.route}/targets/${e.target}/enable)`);
    else if (out) log.warn(fields, `target ${e.target}: ${e.policy} ${e.to}`);
    else log.info(fields, `target ${e.target}: ${e.policy} ${e.to}`);
  });
}
