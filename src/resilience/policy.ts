import type { IncomingHttpHeaders } from "node:http";
import type { Outcome } from "../core/outcome.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";

/**
 * How an attempt ended, as the policies take it. The engine's Attempt is one (no object is made
 * to report an outcome). A 499 outcome (the client left, a hedge lost) carries no verdict on the
 * target: policies free what the attempt held and learn nothing from it.
 */
export interface AttemptReport {
  readonly target: Target;
  readonly outcome: Outcome;
  /** The upstream's response headers, when a response came. */
  readonly headers: IncomingHttpHeaders | undefined;
  /** The start of an error answer's body ("" otherwise): key problems, Gemini's RetryInfo. */
  readonly errorBody: string;
  /** Time to the first body byte (or to the failure), ms: what slow calls and hedges measure. */
  readonly ttfbMs: number;
  /** Whole attempt, ms. */
  readonly latencyMs: number;
  /** What admit() answered when the attempt started (a breaker's epoch). */
  readonly ticket: number;
  /** The request the attempt served (its body's size, the answer's usage once known). */
  readonly ctx: RequestContext;
}

/** admit()'s answer when a policy refuses the attempt. */
export const REFUSED = -1;

/**
 * One resilience policy of a route (breaker, rate-limit bench, key disable, health check, slow
 * start, bulkhead, retry budget, queue, hedge), behind one small interface. Each implements the
 * hooks that concern it; the route's PolicySet runs them from arrays prepared at setup, so a
 * request walks only the policies a hook has.
 *
 *   eligibility   isEligible / eligibleAt   is the target out because of me, and until when?
 *   share         share                     a weight factor below 1 (slow start, a low quota)
 *   admission     admit                     may this attempt start (a half-open breaker's slots, a quota)?
 *   start         onStart                   every policy admitted it: it starts (a quota counts it)
 *   outcomes      onOutcome                 an attempt ended
 *   operators     actions / act             enable, reset-breaker…
 *   status        targetStatus / status     for /admin/status (the state, which is plain JSON)
 *   background    start / stop              health checks, probes
 *
 * Per-target state lives in the StateStore (state/), so it can be shared between processes.
 */
export interface Policy {
  /** The name in status and in `excluded_by` (breaker, rate_limit, key_disabled, health_check…). */
  readonly name: string;
  /** False when this policy rules the target out now. Fast, synchronous, allocation-free. */
  isEligible?(target: Target, now: number): boolean;
  /** Epoch ms when time alone lets a ruled-out target back; 0 = not by time alone (probes, operator). */
  eligibleAt?(target: Target, now: number): number;
  /** The target's weight factor in (0, 1]. */
  share?(target: Target, now: number): number;
  /** An attempt is about to start: a ticket (≥ 0) it reports back with, or REFUSED. Nothing may be taken here that onStart does not confirm. */
  admit?(target: Target, now: number, ctx?: RequestContext): number;
  /** Every admitting policy said yes: the attempt starts now (and will report its outcome). */
  onStart?(target: Target, now: number, ctx?: RequestContext): void;
  onOutcome?(report: AttemptReport, now: number): void;
  /** Operator actions this policy answers. */
  readonly actions?: readonly string[];
  act?(action: string, target: Target, now: number): void;
  targetStatus?(target: Target, now: number): Record<string, unknown> | undefined;
  /** Route-wide state (retry budget, queue, hedge). */
  status?(now: number): Record<string, unknown> | undefined;
  start?(): void;
  stop?(): Promise<void>;
}
