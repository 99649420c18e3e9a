import type { Upstreams } from "./upstreams.js";
import type { GatewayEvents } from "../core/events.js";
import { Outcome } from "../core/outcome.js";
import { Attempt, admit, callTarget, isAnswer, type Answer, type Failure } from "./attempt.js";

const LOST = new Outcome("client_error", 499, "cancelled: another attempt answered first");
const TIMER = Symbol("hedge timer");

/**
 * A hedged call ("The Tail at Scale"): if the first attempt has not answered after the hedge
 * delay (fixed, or the target's recent p95 time to first byte), a second goes to another
 * target; the first answer wins and the others are cancelled (their upstream calls aborted).
 * Each hedge is charged to the retry budget. A failed racer does not end the race while
 * another is still running.
 */
export async function hedgedCall(first: Attempt, upstreams: Upstreams, events: GatewayEvents): Promise<Answer | Failure> {
  const p = first.route.policies;
  const pending = new Map<Attempt, Promise<Answer | Failure>>([[first, callTarget(first, upstreams)]]);
  let hedgesLeft = p.hedge.maxHedges;
  let lastFailure: Failure | undefined;
  while (pending.size > 0) {
    const delay = hedgesLeft > 0 ? p.hedge.delay(first.target, Date.now()) : -1;
    let timer: NodeJS.Timeout | undefined;
    const racers: Promise<Answer | Failure | typeof TIMER>[] = [...pending.values()];
    if (delay >= 0) racers.push(new Promise((r) => (timer = setTimeout(() => r(TIMER), delay))));
    const winner = await Promise.race(racers);
    clearTimeout(timer);
    if (winner === TIMER) {
      hedgesLeft--;
      const h = startHedge(first, events);
      if (h !== undefined) pending.set(h, callTarget(h, upstreams));
      continue;
    }
    pending.delete(winner.attempt);
    if (isAnswer(winner)) {
      for (const [loser, result] of pending) {
        loser.cancel();
        void result.then((r) => {
          if (isAnswer(r)) {
            r.attempt.call.abort();
            r.attempt.end(LOST);
          }
        });
      }
      return winner;
    }
    lastFailure = winner;
  }
  // The loop ends only once every racer has failed, and the last of them is recorded here.
  if (lastFailure === undefined) throw new Error("hedgedCall: the race ended without an answer or a failure");
  return lastFailure;
}

/** A second attempt to a target the request has not tried, if the budget and a breaker allow. */
function startHedge(first: Attempt, events: GatewayEvents): Attempt | undefined {
  const { route, ctx } = first;
  const p = route.policies;
  const now = Date.now();
  const t = route.pick(ctx, now);
  if (t === undefined || ctx.tried.has(t.id)) return undefined;
  if (p.budget !== null && !p.budget.tryRetry(now)) return undefined;
  let h: ReturnType<typeof admit>;
  try {
    h = admit(route, t, ctx, ctx.tried.size + 1, events);
  } catch {
    return undefined; // the request cannot be built for this target: no hedge to it
  }
  if (!(h instanceof Attempt)) return undefined;
  ctx.hedges++;
  h.hedge = true;
  return h;
}
