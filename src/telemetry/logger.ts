import { writeSync } from "node:fs";
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
  const batch = new LineBatch(dest as unknown as Destination);
  batches.add(batch);
  accessBatches.set(log, batch);
  return log;
}

const destinations = new Set<ReturnType<typeof pino.destination>>();
const batches = new Set<LineBatch>();
function flushAll(): void {
  for (const b of batches) b.flush();
  for (const d of destinations) {
    try {
      d.flushSync();
    } catch {
      // nothing left to do at exit
    }
  }
}

const REDACT = [
  "key",
  "*.key",
  "*.*.key",
  "headers.authorization",
  "headers['x-api-key']",
  "headers['x-goog-api-key']",
  "*.headers.authorization",
  "*.headers['x-api-key']",
];

/** Lines gathered before a write, at most (a busy gateway hands the destination ~50 lines at once). */
const BATCH_CHARS = 16 * 1024;

/**
 * Access-log lines gathered here and written once per turn of the event loop (or every 16 KiB),
 * straight to the destination's file descriptor: the destination (sonic-boom) would measure the
 * batch and its own buffer in bytes and copy them together before its write, three passes over
 * every byte where one write needs one. While the destination still holds other log lines, the
 * batch goes through it, so lines keep their order; a pipe that is full (EAGAIN) hands the rest
 * to the destination, which waits and retries. Never an fsync per batch (sonic-boom's flushSync does one).
 */
class LineBatch {
  private buf = "";
  private scheduled = false;

  constructor(private readonly dest: Destination) {}

  add(line: string): void {
    this.buf += line;
    if (this.buf.length >= BATCH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushBatch, this);
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf === "") return;
    const out = this.buf;
    this.buf = "";
    const dest = this.dest;
    // Other log lines still waiting in the destination go first: hand the batch to it then.
    if (typeof dest.fd !== "number" || dest.fd < 0 || dest._len > 0) {
      dest.write(out);
      return;
    }
    const bytes = Buffer.from(out);
    let written = 0;
    try {
      written = writeSync(dest.fd, bytes);
    } catch {
      // EAGAIN: a full pipe
    }
    // What did not go (a full pipe, a partial write): the destination retries until it is out.
    if (written < bytes.length) dest.write(bytes.subarray(written).toString());
  }
}

/** What the batch needs of pino's destination (sonic-boom, synchronous): its file descriptor and how much it holds unwritten. */
interface Destination {
  readonly fd: number;
  readonly _len: number;
  write(data: string): boolean;
}

function flushBatch(b: LineBatch): void {
  b.flush();
}

/** The access-log batch of each logger made here: the access log writes its lines there directly. */
const accessBatches = new WeakMap<Logger, LineBatch>();

/**
 * One access-log line per served request, with its correlation id. It is the hottest log line
 * (one per request), so it is written as a fixed template straight to the logger's destination,
 * in the same JSON shape pino writes (level, time, service, fields, msg): a generic serializer
 * costs several µs a line, this well under one. Route and target names come from the config and
 * the method from a short list, so their JSON is made once and reused; the ISO time is made once
 * per millisecond; a client's string (request id, path) is quoted as is when it holds nothing to
 * escape, else escaped with JSON.stringify. None of these fields can hold a credential.
 */
export function logRequests(events: GatewayEvents, root: Logger): void {
  if (!root.isLevelEnabled("info")) return;
  const dest = accessBatches.get(root);
  if (dest === undefined) {
    events.onRequest((r) => root.info(accessFields(r), "request"));
    return;
  }
  const names = new JsonNames();
  const clock = new IsoClock();
  events.onRequest((r) => {
    dest.add(
      `{"level":"info","time":"${clock.now()}","service":"switchyard","request_id":${quoted(r.requestId)},"method":${names.of(r.method)},"path":${quoted(r.path)},"route":${r.route === null ? "null" : names.of(r.route)}${r.clientKey === "" ? "" : `,"client_key":${names.of(r.clientKey)}`},"target":${r.target === null ? "null" : names.of(r.target)},"status":${r.status},"attempts":${r.attempts}${r.answeredBy === "" ? "" : `,"answered_by":"${r.answeredBy}"`}${r.cache === "" ? "" : `,"cache":"${r.cache}"`},"duration_ms":${ms(r.durationMs)},"ttfb_ms":${r.ttfbMs < 0 ? "null" : ms(r.ttfbMs)},"overhead_ms":${ms(r.overheadMs)}${r.queueMs > 0 ? `,"queue_ms":${ms(r.queueMs)}` : ""},"stream":${r.stream}${r.model === "" ? "" : `,"model":${quoted(r.model)}`}${usageFields(r)}${triesField(r, names)}${r.errorCode === null ? "" : `,"error":"${r.errorCode}"`},"msg":"request"}\n`,
    );
  });
}

/** "00" … "99": the decimals of a millisecond figure, made once. */
const CENTS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));

/**
 * Milliseconds to 2 decimals, as JSON ("12.34", "0.60"). Built from two integers: V8 turns a
 * small integer into text far faster than a fraction, and the access line has three of these.
 */
function ms(v: number): string {
  if (!(v >= 0 && v < 1e9)) return String(Math.round(v * 100) / 100);
  const c = Math.round(v * 100);
  return `${Math.floor(c / 100)}.${CENTS[c % 100] ?? "00"}`;
}

/** Tokens and cost, when the answer said its usage. */
function usageFields(r: RequestRecord): string {
  const u = r.usage;
  if (u === null) return "";
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return `,"tokens_in":${u.prompt_tokens},"tokens_out":${u.completion_tokens}${cached > 0 ? `,"tokens_cached":${cached}` : ""},"cost_usd":${Math.round(r.costUsd * 1e8) / 1e8}`;
}

/** Every attempt's outcome, when there was more than one or the one failed. */
function triesField(r: RequestRecord, names: JsonNames): string {
  const tries = r.tries;
  const only = tries[0];
  if (tries.length === 0 || (tries.length === 1 && only !== undefined && only.outcome.kind === "ok")) return "";
  let out = `,"tries":[`;
  for (let i = 0; i < tries.length; i++) {
    const a = tries[i];
    if (a === undefined) continue;
    out += `${i === 0 ? "" : ","}{"target":${names.of(a.target.id)},"outcome":"${a.outcome.kind}","status":${a.outcome.status},"ms":${ms(a.latencyMs)}${a.hedge ? `,"hedge":true` : ""}}`;
  }
  return out + "]";
}

/** Characters a JSON string cannot hold as they are (quotes, backslash, controls) or that we keep ASCII. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

/** A client's string as JSON: quoted as is in the common case, escaped when it must be. */
function quoted(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** JSON of the few strings that repeat on every line (methods, route and target names), made once. */
class JsonNames {
  private readonly cache = new Map<string, string>();

  of(name: string): string {
    let j = this.cache.get(name);
    if (j === undefined) {
      j = JSON.stringify(name);
      // Methods come from clients: keep the cache to the names a config and HTTP have.
      if (this.cache.size < 1024) this.cache.set(name, j);
    }
    return j;
  }
}

/** "000" … "999": the milliseconds of a timestamp, made once. */
const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

/**
 * new Date().toISOString() for the access log, cheaply: the date and time up to the second are
 * formatted once per second, the milliseconds come from a table ("2026-12-02T08:43:35." + "123" + "Z").
 */
class IsoClock {
  private second = -1;
  private prefix = "";

  now(): string {
    const t = Date.now();
    const second = Math.floor(t / 1000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = new Date(second * 1000).toISOString().slice(0, 20);
    }
    return this.prefix + (MILLIS[t - second * 1000] ?? "000") + "Z";
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
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
    duration_ms: round2(r.durationMs),
    ttfb_ms: r.ttfbMs < 0 ? null : round2(r.ttfbMs),
    overhead_ms: round2(r.overheadMs),
    stream: r.stream,
    model: r.model || undefined,
    tokens_in: r.usage?.prompt_tokens,
    tokens_out: r.usage?.completion_tokens,
    cost_usd: r.usage === null ? undefined : r.costUsd,
    tries: r.tries.map((a) => ({ target: a.target.id, outcome: a.outcome.kind, status: a.outcome.status, ms: round2(a.latencyMs) })),
    error: r.errorCode ?? undefined,
  };
}

/** Failed attempts at warn level: which target, why, for which request. */
export function logAttemptFailures(events: GatewayEvents, log: Logger): void {
  if (!log.isLevelEnabled("warn")) return;
  events.onAttempt(({ target, outcome, latencyMs }, ctx) => {
    if (outcome.kind === "ok" || outcome.kind === "client_error") return;
    log.warn(
      {
        request_id: ctx.requestId,
        route: target.routeName,
        target: target.id,
        outcome: outcome.kind,
        status: outcome.status || undefined,
        detail: outcome.detail,
        latency_ms: Math.round(latencyMs),
      },
      "attempt failed",
    );
  });
}

/** Every policy state change (breaker, bench, key, health) as one log line: warn when a target goes out, info when it comes back. */
export function logPolicyEvents(events: GatewayEvents, log: Logger): void {
  events.onPolicy((e) => {
    const out = e.to === "open" || e.to === "forced_open" || e.to === "benched" || e.to === "disabled" || e.to === "unhealthy";
    const fields = { route: e.route, target: e.target, policy: e.policy, from: e.from || undefined, to: e.to, reason: e.reason };
    if (e.policy === "key" && e.to === "disabled" && /^(auth|quota)/.test(e.reason))
      log.error(
        fields,
        `key of target ${e.target} disabled until an operator re-enables it (POST /admin/routes/${e.route}/targets/${e.target}/enable)`,
      );
    else if (out) log.warn(fields, `target ${e.target}: ${e.policy} ${e.to}`);
    else log.info(fields, `target ${e.target}: ${e.policy} ${e.to}`);
  });
}

/** A bug met while serving a request: the client got 500 internal_error naming this request id. */
export function logInternalErrors(events: GatewayEvents, log: Logger): void {
  events.onInternalError((err, requestId) => log.error({ err, request_id: requestId }, "internal error while serving a request"));
}
