import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import { GatewayError } from "../errors.js";
import type { Route } from "./route.js";
import type { Target } from "./target.js";
import type { RequestContext } from "./request-context.js";
import type { Upstreams } from "./upstreams.js";
import { Outcome, type OutcomeKind } from "./outcome.js";
import { classifyError, classifyStatus } from "./classify.js";
import { buildUpstreamRequest } from "./upstream-request.js";
import { upstreamRequestHeaders } from "./headers.js";
import { firstChunk } from "./first-chunk.js";
import type { GatewayEvents } from "./events.js";

/**
 * The upstream answer the gateway committed to: the client gets this status, these headers and
 * this body. The attempt stays open (in flight) until the relay calls finish().
 */
export class Committed {
  private done = false;

  constructor(
    readonly target: Target,
    readonly route: Route,
    readonly ctx: RequestContext,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    readonly body: Dispatcher.ResponseData["body"],
    /** The body's first chunk, already read (null: empty body); the rest is still in `body`. */
    readonly first: Buffer | null,
    readonly attempts: number,
    readonly outcome: Outcome,
    private readonly startedAt: number,
    private readonly events: GatewayEvents,
  ) {}

  /** Ends the attempt once the body was relayed (or failed to be). Idempotent. */
  finish(kind: OutcomeKind = this.outcome.kind, detail = this.outcome.detail): void {
    if (this.done) return;
    this.done = true;
    const outcome = kind === this.outcome.kind ? this.outcome : new Outcome(kind, this.status, detail);
    endAttempt(this.route, this.target, outcome, this.startedAt, this.ctx, this.events);
  }
}

/** Outcome kinds after which the loop moves on to another attempt. */
const RETRYABLE: ReadonlySet<OutcomeKind> = new Set(["rate_limited", "overloaded", "server_error", "timeout", "connection_failure", "broken_stream"]);

/** Error bodies read for the final message are capped: an upstream must not make us buffer megabytes. */
const ERROR_BODY_LIMIT = 16 * 1024;

/**
 * The heart of the data plane: pick → call → classify → fail over, until an answer can be
 * committed to the client or the attempts run out.
 *
 *   for each attempt (≤ route.maxAttempts):
 *     target = route.pick(eligible − tried)        none → 503 + Retry-After
 *     answer = call(target)                        headers arrived, or an error
 *     ok / client error → commit (the relay streams the body)
 *     retryable failure → record, next attempt
 *   all failed → 502 (504 when every failure was a timeout), naming the last target and why
 */
export async function runAttempts(route: Route, ctx: RequestContext, upstreams: Upstreams, events: GatewayEvents): Promise<Committed> {
  let last: Outcome | undefined;
  let lastTarget: Target | undefined;
  let lastMessage = "";
  let allTimeouts = true;
  for (let attempt = 0; attempt < route.maxAttempts; attempt++) {
    if (ctx.clientGone) throw new GatewayError("client_closed", "client closed the request");
    if (ctx.timedOut) break;
    const now = Date.now();
    ctx.attempt = attempt;
    const target = route.pick(ctx, now);
    if (target === undefined) {
      if (attempt === 0) throw noTarget(route, now);
      break;
    }
    ctx.tried.add(target.id);
    const result = await callTarget(route, target, ctx, upstreams, attempt + 1, events);
    if (result instanceof Committed) return result;
    last = result.outcome;
    lastTarget = target;
    lastMessage = result.message;
    if (last.kind !== "timeout") allTimeouts = false;
    if (!RETRYABLE.has(last.kind)) break;
  }
  if (ctx.clientGone) throw new GatewayError("client_closed", "client closed the request");
  if (last === undefined || lastTarget === undefined) throw new GatewayError("upstream_timeout", `request deadline of ${route.timeouts.total_ms} ms passed`);
  const tries = ctx.tried.size;
  const why = `${last.detail}${lastMessage ? `: ${lastMessage}` : ""}`;
  if (last.kind === "rate_limited") {
    const err = new GatewayError("rate_limited", `every target tried is rate limited; last: target ${lastTarget.id} (${why})`);
    err.headers = retryAfterHeader(last.retryAtMs, Date.now());
    throw err;
  }
  const code = allTimeouts || ctx.timedOut ? "upstream_timeout" : "upstream_error";
  throw new GatewayError(code, `all ${tries} target${tries === 1 ? "" : "s"} tried failed; last: target ${lastTarget.id} (${why})`);
}

interface Failed {
  outcome: Outcome;
  /** The upstream's own error message, when it sent one (secrets scrubbed). */
  message: string;
}

async function callTarget(route: Route, target: Target, ctx: RequestContext, upstreams: Upstreams, attempts: number, events: GatewayEvents): Promise<Committed | Failed> {
  const startedAt = performance.now();
  target.stats.onStart(Date.now());
  const controller = new AbortController();
  ctx.current = controller;
  const up = buildUpstreamRequest(ctx, target);
  let response: Dispatcher.ResponseData;
  try {
    response = await upstreams.poolFor(target).request({
      path: up.path,
      method: ctx.method as Dispatcher.HttpMethod,
      headers: upstreamRequestHeaders(ctx.headers, target, ctx.requestId, up.body),
      body: up.body,
      signal: controller.signal,
      headersTimeout: target.timeouts.first_byte_ms,
      bodyTimeout: target.timeouts.idle_ms,
    });
  } catch (err) {
    const outcome = ctx.clientGone
      ? new Outcome("client_error", 499, "client closed")
      : classifyError(err, "headers", ctx.timedOut ? `request deadline of ${target.timeouts.total_ms} ms passed` : undefined);
    endAttempt(route, target, outcome, startedAt, ctx, events);
    return { outcome, message: "" };
  }
  const outcome = classifyStatus(response.statusCode, response.headers, Date.now());
  if (outcome.kind === "ok" || outcome.kind === "client_error") {
    let first: Buffer | null = null;
    if (outcome.kind === "ok" && ctx.method !== "HEAD" && response.statusCode !== 204 && response.statusCode !== 304) {
      try {
        first = await firstChunk(response.body);
      } catch (err) {
        response.body.destroy();
        const broke = ctx.clientGone
          ? new Outcome("client_error", 499, "client closed")
          : classifyError(err, "body", ctx.timedOut ? `request deadline of ${target.timeouts.total_ms} ms passed` : undefined);
        const failed = broke.kind === "broken_stream" ? new Outcome("broken_stream", response.statusCode, "stream broken before its first byte") : broke;
        endAttempt(route, target, failed, startedAt, ctx, events);
        return { outcome: failed, message: "" };
      }
    }
    return new Committed(target, route, ctx, response.statusCode, response.headers, response.body, first, attempts, outcome, startedAt, events);
  }
  const message = await readErrorMessage(response.body, target);
  endAttempt(route, target, outcome, startedAt, ctx, events);
  return { outcome, message };
}

function endAttempt(route: Route, target: Target, outcome: Outcome, startedAt: number, ctx: RequestContext, events: GatewayEvents): void {
  const latencyMs = performance.now() - startedAt;
  target.stats.onEnd(outcome.kind, latencyMs, Date.now(), outcome.detail);
  route.strategy.onResult?.(target, outcome, latencyMs, ctx);
  if (route.fallback !== undefined) route.fallback.onResult?.(target, outcome, latencyMs, ctx);
  if (events.hasAttemptListeners) events.attempt(route, target, outcome, latencyMs, ctx);
}

/** Reads at most ERROR_BODY_LIMIT bytes of an error body and pulls out the provider's message. */
async function readErrorMessage(body: Dispatcher.ResponseData["body"], target: Target): Promise<string> {
  let text = "";
  try {
    for await (const chunk of body) {
      text += chunk.toString();
      if (text.length > ERROR_BODY_LIMIT) {
        body.destroy();
        break;
      }
    }
  } catch {
    return "";
  }
  let message = text.slice(0, 300);
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof j.error === "string" ? j.error : (j.error?.message ?? j.message);
    if (typeof m === "string") message = m.slice(0, 300);
  } catch {
    // not JSON: keep the raw start
  }
  const key = target.config.key;
  if (key && key.length >= 4 && message.includes(key)) message = message.split(key).join(target.keyMasked ?? "****");
  return message.replace(/\s+/g, " ").trim();
}

function noTarget(route: Route, now: number): GatewayError {
  const at = route.eligibility.soonestEligibleAt(route.targets, now);
  const err = new GatewayError("no_target_available", `no target of route "${route.name}" is available now`);
  err.headers = retryAfterHeader(at, now);
  return err;
}

/** Retry-After in whole seconds (at least 1), defaulting to 1 when nothing better is known. */
export function retryAfterHeader(atMs: number, now: number): Record<string, string> {
  const secs = atMs > now ? Math.ceil((atMs - now) / 1000) : 1;
  return { "retry-after": String(secs) };
}
