import { GatewayError, type UnsupportedFieldError } from "../errors.js";
import type { GatewayEvents } from "../core/events.js";
import type { Outcome } from "../core/outcome.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import { DONT_WAIT } from "../resilience/retry-policy.js";
import { acquireTarget } from "./acquire.js";
import { admit, Attempt, type Answer, decide, type Failure, isAnswer, startCall } from "./attempt.js";
import { Committed } from "./committed.js";
import { hedgedCall } from "./hedge.js";
import type { Route } from "./route.js";
import type { Upstreams } from "./upstreams.js";

/**
 * What the loop knows of one request between its attempts. Each failure is judged (retry_on,
 * safety, budget) and waited for (backoff, Retry-After) once, however often the loop turns
 * before the next attempt starts (a pick after the wait, a skipped target).
 */
export class RetryState {
  /** The last failed attempt, undefined before the first failure. */
  last: Failure | undefined = undefined;
  /** Attempts that count against retry.attempts (a rejected key does not). */
  counted = 0;
  /** Attempts started (hedges not included). */
  started = 0;
  /** Every failure so far was a timeout (→ 504 rather than 502). */
  allTimeouts = true;
  /** The retry budget refused the next retry. */
  budgetRefused = false;
  /** The delay waited before the previous retry (decorrelated jitter needs it). */
  prevDelayMs = 0;
  /** The first target that could not carry the request (on_unsupported: reject), if any. */
  unsupported: UnsupportedFieldError | undefined = undefined;
  /** The last failure was judged worth retrying. */
  judged = false;
  /** The wait before the next attempt was taken. */
  waited = false;

  /** A failure to retry after, when it was not a rejected key (which moves on without using an attempt). */
  get retrying(): Failure | undefined {
    const l = this.last;
    return l !== undefined && !l.keyRejected ? l : undefined;
  }

  failed(f: Failure): void {
    this.last = f;
    this.judged = false;
    this.waited = false;
    if (f.outcome.kind !== "timeout") this.allTimeouts = false;
    if (!f.keyRejected) this.counted++;
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
 *     policies admit → call (hedged when the route says so)
 *     answered → commit (the pipeline delivers the body); failed → record, next
 *   all failed → 502 (504 when every failure was a timeout) with Retry-After, naming the last
 *   target and why
 *
 * The common case takes a short way: the first attempt is picked, admitted and started at once,
 * and its decision either commits the answer or hands the failure to the loop. Only a request
 * that fails, waits or hedges pays for the loop's async machinery.
 */
export function runAttempts(route: Route, ctx: RequestContext, upstreams: Upstreams, events: GatewayEvents): Promise<Committed> {
  const p = route.policies;
  p.budget?.onRequest(Date.now());
  if (p.queue.length > 0 || (p.hedge.enabled && idempotent(ctx)) || ctx.clientGone || ctx.timedOut)
    return loop(route, ctx, upstreams, events, new RetryState());
  const target = route.pick(ctx, Date.now());
  if (target === undefined) return loop(route, ctx, upstreams, events, new RetryState());
  const attempt = admit(route, target, ctx, 1, events);
  const r = new RetryState();
  if (!(attempt instanceof Attempt)) {
    // Refused by a policy (another target may do), or the request cannot be built for it.
    if (attempt !== undefined) r.unsupported = attempt;
    return loop(route, ctx, upstreams, events, r);
  }
  r.started = 1;
  const refused = startCall(attempt, upstreams);
  if (refused !== undefined) {
    r.failed(refused);
    return loop(route, ctx, upstreams, events, r);
  }
  return attempt.call.decided.then((d) => {
    const result = decide(attempt, d);
    if (isAnswer(result)) return new Committed(result, route, ctx, 1 + ctx.hedges);
    if (result.outcome.status === 499) throw clientClosed();
    r.failed(result);
    return loop(route, ctx, upstreams, events, r);
  });
}

/** The general loop, from wherever the request is (a fresh state, or after its first attempt). */
async function loop(route: Route, ctx: RequestContext, upstreams: Upstreams, events: GatewayEvents, r: RetryState): Promise<Committed> {
  const p = route.policies;
  const hedging = p.hedge.enabled && idempotent(ctx);
  for (let guard = 0; r.counted < route.maxAttempts && guard < route.maxAttempts + route.targets.length * 2; guard++) {
    if (ctx.clientGone) throw clientClosed();
    if (ctx.timedOut) break;
    const retry = r.retrying;
    if (retry !== undefined && !r.judged) {
      if (!p.retry.retries(retry.outcome.kind) || !safeToRetry(ctx, retry.outcome)) break;
      if (p.budget !== null && !p.budget.tryRetry(Date.now())) {
        r.budgetRefused = true;
        break;
      }
      r.judged = true;
    }
    // The common case picks synchronously, so pick and the attempt's start share one step and
    // concurrent requests see each other's in-flight counts; only a queued request awaits.
    const queued = p.queue.length > 0 && r.last === undefined;
    let target = queued ? undefined : (retrySame(route, retry, ctx) ?? route.pick(ctx, Date.now()));
    if (target === undefined && p.queue.capacity > 0) {
      target = await acquireTarget(route, ctx, r.last === undefined);
      // The wait may have outlived the client or the deadline: then no call starts.
      if (ctx.clientGone) throw clientClosed();
      if (ctx.timedOut) break;
    }
    if (target === undefined) {
      if (r.last === undefined && r.unsupported !== undefined) throw unservable(route, r.unsupported);
      if (r.last === undefined) throw noTarget(route, Date.now());
      break;
    }
    if (retry !== undefined && !r.waited) {
      const d = p.retry.delayBefore(r.counted, ctx.tried.has(target.id), retry.outcome.retryAtMs, Date.now(), r.prevDelayMs);
      if (d === DONT_WAIT) break;
      if (d > 0) {
        r.prevDelayMs = d;
        r.waited = true;
        const sleptFrom = performance.now();
        await sleep(d, ctx);
        ctx.backoffMs += performance.now() - sleptFrom;
        continue; // the world changed while we waited: pick again
      }
    }
    // Admission builds (and translates) the request first: a field this target cannot carry
    // (on_unsupported: reject) rules it out for this request without using an attempt.
    const attempt = admit(route, target, ctx, r.started + 1, events);
    if (attempt === undefined) continue;
    if (!(attempt instanceof Attempt)) {
      r.unsupported ??= attempt;
      continue;
    }
    r.started++;
    let result: Answer | Failure;
    if (hedging) result = await hedgedCall(attempt, upstreams, events);
    else result = startCall(attempt, upstreams) ?? decide(attempt, await attempt.call.decided);
    if (isAnswer(result)) return new Committed(result, route, ctx, r.started + ctx.hedges);
    if (result.outcome.status === 499) throw clientClosed();
    r.failed(result);
  }
  if (ctx.clientGone) throw clientClosed();
  throw exhausted(route, ctx, r);
}

/** Every attempt failed (or none could start before the deadline): what the client is told. */
function exhausted(route: Route, ctx: RequestContext, r: RetryState): GatewayError {
  const last = r.last;
  if (last === undefined && r.unsupported !== undefined) return unservable(route, r.unsupported);
  const now = Date.now();
  // Every error of a failing route says when to come back: the soonest a target may be eligible (at least 1 s).
  const soonest = route.policies.list.soonestEligibleAt(route.targets, now);
  if (last === undefined)
    return new GatewayError("upstream_timeout", `request deadline of ${route.timeouts.total_ms} ms passed`, {
      headers: retryAfterHeader(soonest, now),
    });
  const lastTarget = last.attempt.target;
  const tries = ctx.tried.size;
  const why = `${last.outcome.detail}${last.message ? `: ${last.message}` : ""}${r.budgetRefused ? "; no retry: the route's retry budget is spent" : ""}`;
  if (last.outcome.kind === "rate_limited") {
    const headers = retryAfterHeader(Math.max(last.outcome.retryAtMs, soonest), now);
    return new GatewayError("rate_limited", `every target tried is rate limited; last: target ${lastTarget.id} (${why})`, { headers });
  }
  const code = r.allTimeouts || ctx.timedOut ? "upstream_timeout" : "upstream_error";
  return new GatewayError(code, `all ${tries} target${tries === 1 ? "" : "s"} tried failed; last: target ${lastTarget.id} (${why})`, {
    headers: retryAfterHeader(soonest, now),
  });
}

function clientClosed(): GatewayError {
  return new GatewayError("client_closed", "client closed the request");
}

/** With retry.target: same (or the failure's kind in retry.same_target_on), a retry goes back to the target that failed while it is still eligible. */
function retrySame(route: Route, last: Failure | undefined, ctx: RequestContext): Target | undefined {
  if (last === undefined) return undefined;
  const cfg = route.config.retry;
  if (cfg.target !== "same" && !(cfg.same_target_on as readonly string[]).includes(last.outcome.kind)) return undefined;
  const t = last.attempt.target;
  return route.stillEligible(t, ctx, Date.now()) ? t : undefined;
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

/** 503 (or 429 when rate limits or quotas are all that stand in the way) with Retry-After = the soonest recovery. */
function noTarget(route: Route, now: number): GatewayError {
  const list = route.policies.list;
  const headers = retryAfterHeader(list.soonestEligibleAt(route.targets, now), now);
  // A route may have no target at all (discovery found none yet): that is no target, not a rate limit.
  if (route.targets.length === 0) return new GatewayError("no_target_available", `route "${route.name}" has no targets`, { headers });
  const onlyRateLimited = route.targets.every((t) => {
    const why = list.reasons(t, now);
    return why.length > 0 && why.every((w) => w === "rate_limit" || w === "quota");
  });
  return onlyRateLimited
    ? new GatewayError("rate_limited", `every target of route "${route.name}" is rate limited`, { headers })
    : new GatewayError("no_target_available", `no target of route "${route.name}" is available now (${describeExclusions(route, now)})`, {
        headers,
      });
}

function describeExclusions(route: Route, now: number): string {
  return route.targets.map((t) => `${t.id}: ${route.policies.list.reasons(t, now).join("+") || "busy"}`).join(", ");
}

/** Retry-After in whole seconds (at least 1), defaulting to 1 when nothing better is known. */
export function retryAfterHeader(atMs: number, now: number): Record<string, string> {
  const secs = atMs > now ? Math.ceil((atMs - now) / 1000) : 1;
  return { "retry-after": String(secs) };
}
