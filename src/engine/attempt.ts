import type { IncomingHttpHeaders } from "node:http";
import { InternalError, UnsupportedFieldError } from "../errors.js";
import { armTimeout, cancelTimeout, type TimeoutToken } from "../core/coarse-timers.js";
import type { AttemptRecord } from "../core/attempt-record.js";
import type { GatewayEvents } from "../core/events.js";
import { OK, Outcome } from "../core/outcome.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import { endAttemptSpan, type Span, startAttemptSpan } from "../core/tracing.js";
import { upstreamRequestHeaders } from "../exchange/headers.js";
import { buildUpstreamRequest, type UpstreamRequest } from "../exchange/upstream-request.js";
import { type AttemptReport, REFUSED } from "../resilience/policy.js";
import { classifyError, classifyStatus, type FailedDuring } from "./classify.js";
import type { Route } from "./route.js";
import { type CallDecision, UpstreamCall } from "./upstream-call.js";
import type { Upstreams } from "./upstreams.js";

const CLIENT_CLOSED = new Outcome("client_error", 499, "client closed");
const CANCELLED = new Outcome("client_error", 499, "cancelled: another attempt answered first");
const CANCEL_ERROR = new InternalError("SWY_ERR_CANCELLED");
const FIRST_BYTE_ERROR = new InternalError("SWY_ERR_FIRST_BYTE_TIMEOUT");

/**
 * One call to one target. Owns its abort handle (so a hedge's loser can be cancelled alone), the
 * ticket its policies admitted it with, and the bookkeeping when it ends: target stats, every
 * policy of the route (it is the report they read), strategy feedback and events.
 */
export class Attempt implements AttemptReport, AttemptRecord {
  readonly call: UpstreamCall;
  readonly startedAt = performance.now();
  /** Set when this attempt lost a hedge race and was aborted on purpose. */
  cancelled = false;
  /** Started by the hedge policy. */
  hedge = false;
  /** Set when no first byte came within the first-byte timeout. */
  firstByteTimedOut = false;
  firstByteTimer: TimeoutToken | undefined = undefined;
  /** Time to the first byte of the body (or to the failure), ms. */
  ttfbMs = 0;
  // What the policies read once the attempt ended (AttemptReport).
  outcome: Outcome = OK;
  headers: IncomingHttpHeaders | undefined = undefined;
  errorBody = "";
  latencyMs = 0;
  /** The attempt's trace span (core/tracing.ts); undefined while tracing is off. */
  readonly span: Span | undefined;
  private ended = false;

  constructor(
    readonly route: Route,
    readonly target: Target,
    readonly ctx: RequestContext,
    readonly number: number,
    /** What the policies answered when they admitted the attempt (the breaker's epoch). */
    readonly ticket: number,
    /** The upstream request, built (and translated) before the attempt was admitted. */
    readonly request: UpstreamRequest,
    private readonly events: GatewayEvents,
  ) {
    target.stats.onStart(Date.now());
    this.call = new UpstreamCall(route.policies.keys.readsFirst(target), ctx.method !== "HEAD");
    ctx.controllers.push(this.call);
    this.span = startAttemptSpan(ctx, target, number);
  }

  cancel(): void {
    this.cancelled = true;
    this.call.abort(CANCEL_ERROR);
  }

  /** Ends the attempt once (idempotent): feeds every policy, frees capacity, wakes a queued request. */
  end(outcome: Outcome, headers?: IncomingHttpHeaders, errorBody = ""): void {
    if (this.ended) return;
    this.ended = true;
    const { route, target, ctx } = this;
    const now = Date.now();
    this.latencyMs = performance.now() - this.startedAt;
    this.outcome = outcome;
    this.headers = headers;
    this.errorBody = errorBody;
    const i = ctx.controllers.indexOf(this.call);
    if (i !== -1) ctx.controllers.splice(i, 1);
    target.stats.onEnd(outcome.kind, this.latencyMs, now, outcome.detail);
    ctx.tries.push(this);
    ctx.upstreamMs += this.latencyMs;
    route.policies.list.onOutcome(this, now);
    route.strategy.onResult?.(target, outcome, this.latencyMs, ctx);
    route.fallback?.onResult?.(target, outcome, this.latencyMs, ctx);
    if (this.events.hasAttemptListeners) this.events.attempt(this, ctx);
    if (this.span !== undefined) endAttemptSpan(this.span, this, ctx);
  }

  /** The outcome to record when the call was aborted: the client left, a hedge lost, or the deadline passed. */
  abortedOutcome(err: unknown, during: FailedDuring): Outcome {
    if (this.cancelled) return CANCELLED;
    if (this.ctx.clientGone) return CLIENT_CLOSED;
    if (this.firstByteTimedOut) return new Outcome("timeout", 0, `no first byte within ${this.target.timeouts.first_byte_ms} ms`);
    return classifyError(err, during, this.ctx.timedOut ? `request deadline of ${this.route.timeouts.total_ms} ms passed` : undefined);
  }
}

/**
 * Admits an attempt to a target, in the one order every attempt (first, retry, hedge) follows:
 * build (and translate) its upstream request, then ask the route's policies (a half-open
 * breaker's probe slots). A field this target cannot carry (on_unsupported: reject) marks it
 * unservable for the request and is returned; a policy that refuses gives undefined; other
 * errors are the request's and throw.
 */
export function admit(
  route: Route,
  target: Target,
  ctx: RequestContext,
  number: number,
  events: GatewayEvents,
): Attempt | UnsupportedFieldError | undefined {
  let up: UpstreamRequest;
  try {
    up = buildUpstreamRequest(ctx, target);
  } catch (err) {
    if (!(err instanceof UnsupportedFieldError)) throw err;
    (ctx.unservable ??= new Set()).add(target.id);
    return err;
  }
  const ticket = route.policies.list.admit(target, Date.now(), ctx);
  if (ticket === REFUSED) return undefined;
  ctx.tried.add(target.id);
  return new Attempt(route, target, ctx, number, ticket, up, events);
}

/** An upstream answer the gateway will relay: ok, or a client error to hand back as is. */
export interface Answer {
  readonly attempt: Attempt;
  readonly outcome: Outcome;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body's first chunk (null: none yet, or none at all); the rest comes through attempt.call. */
  readonly first: Buffer | null;
}

/** An attempt that failed; `message` is the upstream's own error message when it sent one. */
export interface Failure {
  readonly attempt: Attempt;
  readonly outcome: Outcome;
  readonly message: string;
  /** The target rejected its key (401/403/402): move on to another key whatever retry_on says. */
  readonly keyRejected: boolean;
}

/**
 * Calls the target and waits until an answer can be committed (headers and the body's first
 * byte) or the attempt has failed. Never throws. (The attempt loop's common path does the same
 * in two halves, startCall and decide, to spare itself one async step per request.)
 */
export async function callTarget(a: Attempt, upstreams: Upstreams): Promise<Answer | Failure> {
  const refused = startCall(a, upstreams);
  return refused ?? decide(a, await a.call.decided);
}

/** Sends the attempt's request upstream; a Failure when undici refuses it outright, else undefined. */
export function startCall(a: Attempt, upstreams: Upstreams): Failure | undefined {
  // Our own timer: undici's can fire up to ~0.5 s late. It covers headers and the body's first
  // byte (what the client waits for); no closure per call, and no Node timer from a second up.
  const { target, ctx, request: up } = a;
  const fb = target.timeouts.first_byte_ms;
  if (fb > 0) a.firstByteTimer = armTimeout(fb, firstByteTimeout, a);
  try {
    upstreams.poolFor(target).dispatch(
      {
        path: up.path,
        method: ctx.method,
        headers: upstreamRequestHeaders(ctx.headers, target, ctx.requestId, up.body, a.span),
        body: up.body,
        headersTimeout: 0,
        bodyTimeout: target.timeouts.idle_ms,
      },
      a.call,
    );
  } catch (err) {
    // undici refuses the request outright (a header value it cannot send): the request's fault.
    cancelTimeout(a.firstByteTimer);
    const outcome = new Outcome("client_error", 400, `upstream request refused: ${(err as Error).message}`);
    a.end(outcome);
    return { attempt: a, outcome, message: "", keyRejected: false };
  }
  return undefined;
}

/** What the call's decision means: an answer to commit, or the attempt's failure (ended here). */
export function decide(a: Attempt, d: CallDecision): Answer | Failure {
  const target = a.target;
  cancelTimeout(a.firstByteTimer);
  a.ttfbMs = performance.now() - a.startedAt;
  if (d.kind === "failed") {
    let outcome = a.abortedOutcome(d.error, d.during);
    if (d.during === "body" && outcome.kind === "broken_stream")
      outcome = new Outcome("broken_stream", d.status, "stream broken before its first byte");
    a.end(outcome, d.headers ?? undefined);
    return { attempt: a, outcome, message: "", keyRejected: false };
  }
  if (d.kind === "answer") {
    const outcome = classifyStatus(d.status, d.headers, Date.now(), target);
    return { attempt: a, outcome, status: d.status, headers: d.headers, first: d.first };
  }
  const errorBody = d.text;
  const outcome = classifyStatus(d.status, d.headers, Date.now(), target, errorBody);
  const problem = a.route.policies.keys.problem(target, d.status, errorBody);
  // A client error read whole only to look for a key problem, and there is none: it is the client's answer after all.
  if (problem === null && outcome.kind === "client_error" && d.complete)
    return { attempt: a, outcome, status: d.status, headers: d.headers, first: errorBody === "" ? null : Buffer.from(errorBody) };
  a.end(outcome, d.headers, errorBody);
  // A bad key (401/403/402, insufficient_quota, a provider's own words) moves on to another key at once.
  return { attempt: a, outcome, message: errorMessage(errorBody, target), keyRejected: problem !== null };
}

function firstByteTimeout(a: Attempt): void {
  a.firstByteTimedOut = true;
  a.call.abort(FIRST_BYTE_ERROR);
}

export function isAnswer(r: Answer | Failure): r is Answer {
  return (r as Answer).status !== undefined;
}

/** The provider's own error message from an error body, with the target's key scrubbed. */
function errorMessage(text: string, target: Target): string {
  let message = text.slice(0, 300);
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof j.error === "string" ? j.error : (j.error?.message ?? j.message);
    if (typeof m === "string") message = m.slice(0, 300);
  } catch {
    // not JSON: keep the raw start
  }
  return target.maskKeyIn(message).replace(/\s+/g, " ").trim();
}
