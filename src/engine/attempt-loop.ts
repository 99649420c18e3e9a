import type { IncomingHttpHeaders } from "node:http";
import { GatewayError, UnsupportedFieldError } from "../errors.js";
import { DONT_WAIT } from "../resilience/retry-policy.js";
import type { Route } from "./route.js";
import type { Target } from "../core/target.js";
import type { RequestContext } from "../core/request-context.js";
import type { Upstreams } from "./upstreams.js";
import { Outcome, type OutcomeKind } from "../core/outcome.js";
import type { GatewayEvents } from "../core/events.js";
import { admit, callTarget, isAnswer, type Answer, type Failure } from "./attempt.js";
import { acquireTarget } from "./acquire.js";
import type { UpstreamCall } from "./upstream-call.js";
import type { Readable } from "node:stream";
import { hedgedCall } from "./hedge.js";

/**
 * The upstream answer the gateway committed to: the client gets this status, these headers and
 * this body (its first chunk already read). The attempt stays in flight until finish().
 */
export class Committed {
  readonly target: Target;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly first: Buffer | null;
  readonly outcome: Outcome;
  /** The upstream call: attach() streams the rest of the body into a sink. */
  readonly call: UpstreamCall;
  private bodyStream: Readable | null = null;

  constructor(
    private readonly answer: Answer,
    readonly route: Route,
    readonly ctx: RequestContext,
    /** Attempts this request made, hedges included. */
    readonly attempts: number,
  ) {
    this.target = answer.attempt.target;
    this.status = answer.status;
    this.headers = answer.headers;
    this.first = answer.first;
    this.outcome = answer.outcome;
    this.call = answer.attempt.call;
  }

  /** The rest of the body (after `first`) as a Readable, made on first use (translation, library). */
  get body(): Readable {
    return (this.bodyStream ??= this.call.readable());
  }

  /** Ends the attempt once the body was relayed (or broke). Idempotent. */
  finish(kind: OutcomeKind = this.outcome.kind, detail = this.outcome.detail): void {
    const outcome = kind === this.outcome.kind ? this.outcome : new Outcome(kind, kind === "client_error" && this.ctx.clientGone ? 499 : this.status, detail);
    this.answer.attempt.end(outcome, this.headers);
  }
}

/**
 * The heart of the data plane.
 *
 *   budget.onRequest
 *   loop (≤ retry.attempts; a rejected key does not use one up):
 *     a retry?  retry_on says so, the request is safe to repeat, the retry budget allows it
 *     target = pick(eligible − tried)     none: wait in the queue (bulkhead full, or the route
 *                                         waits out unavailability), else 503/429 + Retry-After
 *     wait?     only before a target already tried (backoff or its Retry-After); fail over first
 *     breaker admits → call (hedged when the route says so)
 *     answered → commit (the relay streams the body); failed → record, next
 *   all failed → 502 (504 when every failure was a timeout), naming the last target and why
 */
export async function runAttempts(route: Route, ctx: RequestContext, upstreams: Upstreams, events: GatewayEvents): Promise<Committed> {
  const p = route.policies;
  p.retry.budget?.onRequest(Date.now());
  let last: Failure | undefined;
  let allTimeouts = true;
  let budgetRefused = false;
  let prevDelay = 0;
  let counted = 0;
  let started = 0;
  let unsupported: UnsupportedFieldError | undefined;
  let cleared = false;
  let waited = false;
  const hedging = p.hedge.enabled && idempotent(ctx);
  for (let guard = 0; counted < route.maxAttempts && guard < route.maxAttempts + route.targets.length * 2; guard++) {
    if (ctx.clientGone) throw new GatewayError("client_closed", "client closed the request");
    if (ctx.timedOut) break;
    // A retry is judged (retry_on, safety, budget) and waited for once per failure, however
    // often the loop turns before the next attempt starts (a pick after the wait, a skipped target).
    if (last !== undefined && !last.keyRejected && !cleared) {
      if (!p.retry.retries(last.outcome.kind) || !safeToRetry(ctx, last.outcome)) break;
      if (p.retry.budget !== null && !p.retry.budget.tryRetry(Date.now())) {
        budgetRefused = true;
        break;
      }
      cleared = true;
    }
    // The common case picks synchronously, so pick and onStart (the Attempt) share one step and
    // concurrent requests see each other's in-flight counts; only a queued request awaits.
    const queued = p.queue.length > 0 && last === undefined;
    let target = queued ? undefined : retrySame(route, last, ctx) ?? route.pick(ctx, Date.now());
    if (target === undefined && p.queue.capacity > 0) target = await acquireTarget(route, ctx, last === undefined);
    if (target === undefined) {
      if (last === undefined && unsupported !== undefined) throw unservable(route, unsupported);
      if (last === undefined) throw noTarget(route, Date.now());
      break;
    }
    if (last !== undefined && !last.keyRejected && !waited) {
      const d = p.retry.delayBefore(counted, ctx.tried.has(target.id), last.outcome.retryAtMs, Date.now(), prevDelay);
      if (d === DONT_WAIT) break;
      if (d > 0) {
        prevDelay = d;
        waited = true;
        await sleep(d, ctx);
        continue; // the world changed while we waited: pick again
      }
    }
    // Admission builds (and translates) the request first: a field this target cannot carry
    // (on_unsupported: reject) rules it out for this request without using an attempt.
    const attempt = admit(route, target, ctx, started + 1, events);
    if (attempt === undefined) continue;
    if (attempt instanceof UnsupportedFieldError) {
      unsupported ??= attempt;
      continue;
    }
    started++;
    const result = hedging ? await hedgedCall(attempt, upstreams, events) : await callTarget(attempt, upstreams);
    if (isAnswer(result)) return new Committed(result, route, ctx, started + ctx.hedges);
    if (result.outcome.status === 499) throw new GatewayError("client_closed", "client closed the request");
    last = result;
    cleared = false;
    waited = false;
    if (result.outcome.kind !== "timeout") allTimeouts = false;
    if (!result.keyRejected) counted++;
  }
  if (ctx.clientGone) throw new GatewayError("client_closed", "client closed the request");
  if (last === undefined && unsupported !== undefined) throw unservable(route, unsupported);
  if (last === undefined) throw new GatewayError("upstream_timeout", `request deadline of ${route.timeouts.total_ms} ms passed`);
  const lastTarget = last.attempt.target;
  const tries = ctx.tried.size;
  const why = `${last.outcome.detail}${last.message ? `: ${last.message}` : ""}${budgetRefused ? "; no retry: the route's retry budget is spent" : ""}`;
  if (last.outcome.kind === "rate_limited") {
    const now = Date.now();
    const headers = retryAfterHeader(Math.max(last.outcome.retryAtMs, route.eligibility.soonestEligibleAt(route.targets, now)), now);
    throw new GatewayError("rate_limited", `every target tried is rate limited; last: target ${lastTarget.id} (${why})`, { headers });
  }
  const code = allTimeouts || ctx.timedOut ? "upstream_timeout" : "upstream_error";
  // Every error of a failing route says when to come back: the soonest a target may be eligible (at least 1 s).
  const now = Date.now();
  const headers = retryAfterHeader(route.eligibility.soonestEligibleAt(route.targets, now), now);
  throw new GatewayError(code, `all ${tries} target${tries === 1 ? "" : "s"} tried failed; last: target ${lastTarget.id} (${why})`, { headers });
}

/** With retry.target: same (or the failure's kind in retry.same_target_on), a retry goes back to the target that failed while it is still eligible. */
function retrySame(route: Route, last: Failure | undefined, ctx: RequestContext): Target | undefined {
  if (last === undefined || last.keyRejected) return undefined;
  const r = route.config.retry;
  if (r.target !== "same" && !(r.same_target_on as readonly string[]).includes(last.outcome.kind)) return undefined;
  const t = last.attempt.target;
  return route.eligibility.isEligible(t, Date.now()) && !(ctx.unservable?.has(t.id) ?? false) ? t : undefined;
}

function unservable(route: Route, err: UnsupportedFieldError): GatewayError {
  return new GatewayError("unsupported_field", `${err.message}; no target of route "${route.name}" can carry it`, { param: err.field });
}

/** LLM calls are safe to repeat before any byte reached the client; REST calls only when idempotent. */
function idempotent(ctx: RequestContext): boolean {
  if (ctx.surface !== "rest") return true;
  const m = ctx.method;
  return m === "GET" || m === "HEAD" || m === "OPTIONS" || m === "PUT" || m === "DELETE";
}

/**
 * A non-idempotent REST call is retried only when the upstream surely did not act on it: the
 * connection never carried it (refused, DNS), or the upstream said "not now" (429, 503, 529).
 */
function safeToRetry(ctx: RequestContext, o: Outcome): boolean {
  if (idempotent(ctx)) return true;
  if (o.kind === "rate_limited" || o.kind === "overloaded") return true;
  return o.kind === "connection_failure" && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|key rejected/.test(o.detail);
}

/** Waits ms, cut short when the client leaves or the deadline passes. */
function sleep(ms: number, ctx: RequestContext): Promise<void> {
  return new Promise((resolve) => {
    const c = new AbortController();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      const i = ctx.controllers.indexOf(c);
      if (i !== -1) ctx.controllers.splice(i, 1);
      resolve();
    }
    c.signal.addEventListener("abort", done, { once: true });
    ctx.controllers.push(c);
  });
}

/** 503 (or 429 when rate limits are all that stand in the way) with Retry-After = the soonest recovery. */
function noTarget(route: Route, now: number): GatewayError {
  const at = route.eligibility.soonestEligibleAt(route.targets, now);
  const onlyRateLimited = route.targets.every((t) => {
    const why = route.eligibility.reasons(t, now);
    return why.length === 1 && why[0] === "rate_limit";
  });
  const headers = retryAfterHeader(at, now);
  return onlyRateLimited
    ? new GatewayError("rate_limited", `every target of route "${route.name}" is rate limited`, { headers })
    : new GatewayError("no_target_available", `no target of route "${route.name}" is available now (${describeExclusions(route, now)})`, { headers });
}

function describeExclusions(route: Route, now: number): string {
  return route.targets.map((t) => `${t.id}: ${route.eligibility.reasons(t, now).join("+") || "busy"}`).join(", ");
}

/** Retry-After in whole seconds (at least 1), defaulting to 1 when nothing better is known. */
export function retryAfterHeader(atMs: number, now: number): Record<string, string> {
  const secs = atMs > now ? Math.ceil((atMs - now) / 1000) : 1;
  return { "retry-after": String(secs) };
}
