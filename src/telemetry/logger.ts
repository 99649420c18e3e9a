import { pino, type Logger } from "pino";
import type { GatewayEvents, RequestRecord } from "../core/events.js";

export type { Logger };

/**
 * JSON logs (pino) to stdout. Lines are batched (up to 4 KiB or 1 s, flushed at exit) so a busy
 * gateway does not pay one write per request; a batch is written synchronously (measured: a
 * 4 KiB write costs less than handing it to the thread pool, which runs on the same core). Anything shaped like a credential is redacted by
 * path, compiled once, in case a caller ever logs a header or target object; the access log
 * (fixed, known-safe fields) skips redaction — it is the hot one.
 */
export function createLogger(level: string, destination: number | string = 1): Logger {
  const dest = pino.destination({ dest: destination, sync: true, minLength: 4096 });
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
  accessDestinations.set(log, dest);
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

/** The destination of each logger made here: the access log writes its lines to it directly. */
const accessDestinations = new WeakMap<Logger, { write(line: string): boolean }>();

/**
 * One access-log line per served request, with its correlation id. It is the hottest log line
 * (one per request), so it is written as a fixed template straight to the logger's destination,
 * in the same JSON shape pino writes (level, time, service, fields, msg): a generic serializer
 * costs several µs a line, this about one. Every string that may come from a client is escaped
 * with JSON.stringify; none of these fields can hold a credential.
 */
export function logRequests(events: GatewayEvents, root: Logger): void {
  if (!root.isLevelEnabled("info")) return;
  const dest = accessDestinations.get(root);
  if (dest === undefined) {
    events.onRequest((r) => root.info(accessFields(r), "request"));
    return;
  }
  events.onRequest((r) => {
    dest.write(
      `{"level":"info","time":"${new Date().toISOString()}","service":"switchyard","request_id":${JSON.stringify(r.requestId)},"method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path)},"route":${r.route === null ? "null" : JSON.stringify(r.route)},"target":${r.target === null ? "null" : JSON.stringify(r.target)},"status":${r.status},"attempts":${r.attempts},"duration_ms":${Math.round(r.durationMs * 100) / 100},"stream":${r.stream}${r.errorCode === null ? "" : `,"error":"${r.errorCode}"`},"msg":"request"}\n`,
    );
  });
}

function accessFields(r: RequestRecord) {
  return {
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
  };
}

/** Failed attempts at warn level: which target, why, for which request. */
export function logAttemptFailures(events: GatewayEvents, log: Logger): void {
  if (!log.isLevelEnabled("warn")) return;
  events.onAttempt((target, outcome, latencyMs, ctx) => {
    if (outcome.kind === "ok" || outcome.kind === "client_error") return;
    log.warn(
      { request_id: ctx.requestId, route: target.routeName, target: target.id, outcome: outcome.kind, status: outcome.status || undefined, detail: outcome.detail, latency_ms: Math.round(latencyMs) },
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

/** A bug met while serving a request: the client got 500 internal_error naming this request id. */
export function logInternalErrors(events: GatewayEvents, log: Logger): void {
  events.onInternalError((err, requestId) => log.error({ err, request_id: requestId }, "internal error while serving a request"));
}
