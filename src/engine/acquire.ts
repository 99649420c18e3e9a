import { GatewayError } from "../errors.js";
import type { Route } from "./route.js";
import type { Target } from "../core/target.js";
import type { RequestContext } from "../core/request-context.js";

/**
 * Finds the target for the next attempt, waiting in the route's priority queue when the route
 * has one and every target is busy (all at max_concurrent) — or, with queue.wait_when_unavailable,
 * when targets are out (open breakers, benched keys) until the soonest comes back.
 * Called when a direct pick found nothing (or others already wait: a new request queues behind
 * them, so the queue's order holds). Returns undefined when waiting is not allowed.
 *
 * The wait ends at the queue's timeout (503 queue_timeout: the request never reached an
 * upstream) or at the request's own deadline, whichever comes first (504 upstream_timeout).
 */
export async function acquireTarget(route: Route, ctx: RequestContext, isFirst: boolean): Promise<Target | undefined> {
  const queue = route.policies.queue;
  const waitAll = route.policies.queueConfig.wait_when_unavailable;
  const enqueuedAt = Date.now();
  const queueDeadline = enqueuedAt + queue.timeoutMs;
  const requestDeadline = ctx.deadlineAt;
  const deadline = requestDeadline > 0 && requestDeadline < queueDeadline ? requestDeadline : queueDeadline;
  let front = false;
  for (;;) {
    const now = Date.now();
    const busy = isBusy(route, now);
    if (!busy && !waitAll && !(isFirst && queue.length > 0 && !front)) return undefined;
    const wakeAt = busy ? 0 : route.policies.list.soonestEligibleAt(route.targets, now);
    try {
      await queue.wait(ctx.priority, deadline, wakeAt, front);
    } catch (err) {
      ctx.queueMs = Date.now() - enqueuedAt;
      if (deadline !== queueDeadline && err instanceof GatewayError && err.code === "queue_timeout")
        throw new GatewayError("upstream_timeout", `request deadline of ${route.timeouts.total_ms} ms passed while it waited in the queue`);
      throw err;
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
      return t;
    }
  }
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
