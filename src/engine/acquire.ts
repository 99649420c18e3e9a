import { GatewayError } from "../errors.js";
import type { Route } from "./route.js";
import type { Target } from "../core/target.js";
import type { RequestContext } from "../core/request-context.js";
import type { PriorityQueue } from "../resilience/priority-queue.js";
import type { WhenAllUnavailable } from "../resilience/route-policies.js";

/**
 * Finds the target for the next attempt, waiting in the route's priority queue when the route
 * has one and every target is busy (all at max_concurrent) — or, as the route's
 * when_all_unavailable says, when targets are out until one comes back:
 *
 *   fail      never waits for an out target (the caller answers 503/429 with Retry-After)
 *   wait      waits for any (open breakers, benched keys, quotas, probes, operators)
 *   soonest   waits for the soonest to come back by time alone, when that is before the
 *             wait's end; else gives up at once (nothing to wait for, or not long enough)
 *   auto      (unset) on a route with quotas (limits.rpm / tpm), waits when the targets are
 *             out only for rate limits (a quota, a provider's 429 or exhausted headers) or busy;
 *             elsewhere as fail
 *
 * The wake-up is the soonest time a target comes back by itself (a quota's window, a bench, a
 * breaker's open wait) or an attempt ending, whichever is first.
 * Called when a direct pick found nothing (or others already wait: a new request queues behind
 * them, so the queue's order holds). Returns undefined when waiting is not allowed.
 *
 * The wait ends at the queue's timeout (503 queue_timeout: the request never reached an
 * upstream) or at the request's own deadline, whichever comes first (504 upstream_timeout);
 * both say in Retry-After when the soonest target is back.
 */
export async function acquireTarget(route: Route, ctx: RequestContext, isFirst: boolean): Promise<Target | undefined> {
  const queue = route.policies.queue;
  const list = route.policies.list;
  const mode = route.policies.whenAllUnavailable;
  const enqueuedAt = Date.now();
  const queueDeadline = enqueuedAt + queue.timeoutMs;
  const requestDeadline = ctx.deadlineAt;
  const deadline = requestDeadline > 0 && requestDeadline < queueDeadline ? requestDeadline : queueDeadline;
  let front = false;
  for (;;) {
    const now = Date.now();
    const busy = isBusy(route, now);
    const wakeAt = list.soonestEligibleAt(route.targets, now);
    if (!busy && !waitsOut(route, mode, wakeAt, deadline, now) && !(isFirst && queue.length > 0 && !front)) return undefined;
    try {
      await queue.wait(ctx.priority, deadline, wakeAt, front);
    } catch (err) {
      const end = Date.now();
      ctx.queueMs = end - enqueuedAt;
      if (!(err instanceof GatewayError) || err.code !== "queue_timeout") throw err;
      const headers = retryAfter(list.soonestEligibleAt(route.targets, end), end);
      if (deadline !== queueDeadline)
        throw new GatewayError(
          "upstream_timeout",
          `request deadline of ${route.timeouts.total_ms} ms passed while it waited in the queue`,
          {
            headers,
          },
        );
      throw new GatewayError("queue_timeout", err.message, { headers });
    }
    front = true;
    if (ctx.clientGone) {
      queue.wakeOne(); // pass the freed slot on to the next waiter
      throw new GatewayError("client_closed", "client closed the request while it waited in the queue");
    }
    const t = route.pick(ctx, Date.now());
    if (t !== undefined) {
      ctx.queueMs = Date.now() - enqueuedAt;
      queue.recordWait(ctx.queueMs);
      // More may have come free at once (a quota's bucket): the next waiter looks too, once this
      // request's attempt has been admitted (a macrotask later), so it does not take the same slot.
      if (queue.length > 0) setImmediate(wakeNext, queue);
      return t;
    }
  }
}

function wakeNext(queue: PriorityQueue): void {
  queue.wakeOne();
}

/** Does the route's when_all_unavailable let a request wait for out targets now? */
function waitsOut(route: Route, mode: WhenAllUnavailable, wakeAt: number, deadline: number, now: number): boolean {
  if (mode === "wait") return true;
  if (mode === "soonest") return wakeAt !== 0 && wakeAt <= deadline;
  return mode === "auto" && route.policies.quota.active && outForRateLimitsOnly(route, now);
}

/** Every target that is out is out for a rate limit (its quota, the provider's) or busy. */
function outForRateLimitsOnly(route: Route, now: number): boolean {
  for (const t of route.targets) {
    if (t.retired) continue;
    for (const why of route.policies.list.reasons(t, now))
      if (why !== "quota" && why !== "rate_limit" && why !== "max_concurrent") return false;
  }
  return true;
}

/** Retry-After in whole seconds until atMs (at least 1). */
function retryAfter(atMs: number, now: number): Record<string, string> {
  return { "retry-after": String(atMs > now ? Math.ceil((atMs - now) / 1000) : 1) };
}

/** Some target is out only because it is at its max_concurrent: capacity will come back. */
function isBusy(route: Route, now: number): boolean {
  for (const t of route.targets) {
    if (t.maxConcurrent === 0 || t.stats.inFlight < t.maxConcurrent) continue;
    const why = route.policies.list.reasons(t, now);
    if (why.length === 1 && why[0] === "max_concurrent") return true;
  }
  return false;
}
