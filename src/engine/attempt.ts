import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import { UpstreamCall } from "./upstream-call.js";
import type { Route } from "./route.js";
import type { Target } from "../core/target.js";
import type { RequestContext } from "../core/request-context.js";
import type { Upstreams } from "./upstreams.js";
import { Outcome } from "../core/outcome.js";
import { classifyError, classifyStatus } from "./classify.js";
import { buildUpstreamRequest, type UpstreamRequest } from "../exchange/upstream-request.js";
import { upstreamRequestHeaders } from "../exchange/headers.js";
import type { GatewayEvents } from "../core/events.js";
import { UnsupportedFieldError } from "../errors.js";

const CLIENT_CLOSED = new Outcome("client_error", 499, "client closed");
const CANCELLED = new Outcome("client_error", 499, "cancelled: another attempt answered first");

/**
 * One call to one target. Owns its abort handle (so a hedge's loser can be cancelled alone), the
 * breaker epoch it was admitted under, and the bookkeeping when it ends: target stats, breaker,
 * rate-limit bench, key auto-disable, strategy feedback, the route's queue and events.
 */
export class Attempt {
  readonly call: UpstreamCall;
  readonly startedAt = performance.now();
  /** Set when this attempt lost a hedge race and was aborted on purpose. */
  cancelled = false;
  /** Set when no first byte came within the first-byte timeout. */
  firstByteTimedOut = false;
  firstByteTimer: NodeJS.Timeout | undefined = undefined;
  /** Time to the first byte of the body (or to the failure), ms. */
  ttfbMs = 0;
  private ended = false;

  constructor(
    readonly route: Route,
    readonly target: Target,
    readonly ctx: RequestContext,
    readonly number: number,
    readonly breakerEpoch: number,
    /** The upstream request, built (and translated) before the attempt was admitted. */
    readonly request: UpstreamRequest,
    private readonly events: GatewayEvents,
  ) {
    target.stats.onStart(Date.now());
    this.call = new UpstreamCall(route.config.key_disable.enabled ? relayedWithKeyDisable : relayed, ctx.method !== "HEAD");
    ctx.controllers.push(this.call);
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
    const latencyMs = performance.now() - this.startedAt;
    const i = ctx.controllers.indexOf(this.call);
    if (i !== -1) ctx.controllers.splice(i, 1);
    target.stats.onEnd(outcome.kind, latencyMs, now, outcome.detail);
    if (outcome.kind === "ok" && this.ttfbMs > 0) target.stats.recordTtfb(this.ttfbMs);
    const p = route.policies;
    const breaker = p.breakers[target.index]!;
    if (outcome.status === 499) breaker.release(this.breakerEpoch);
    else {
      breaker.onResult(outcome.kind, this.ttfbMs || latencyMs, now, this.breakerEpoch);
      p.bench.onOutcome(target, outcome, now, headers, errorBody);
      p.keys.onResult(target, outcome, now, errorBody);
    }
    route.strategy.onResult?.(target, outcome, latencyMs, ctx);
    route.fallback?.onResult?.(target, outcome, latencyMs, ctx);
    if (this.events.hasAttemptListeners) this.events.attempt(target, outcome, latencyMs, ctx);
    p.queue.wakeOne();
  }

  /** The outcome to record when the call was aborted: the client left, a hedge lost, or the deadline passed. */
  abortedOutcome(err: unknown, phase: "headers" | "body"): Outcome {
    if (this.cancelled) return CANCELLED;
    if (this.ctx.clientGone) return CLIENT_CLOSED;
    if (this.firstByteTimedOut) return new Outcome("timeout", 0, `no first byte within ${this.target.timeouts.first_byte_ms} ms`);
    return classifyError(err, phase, this.ctx.timedOut ? `request deadline of ${this.route.timeouts.total_ms} ms passed` : undefined);
  }
}

/**
 * Admits an attempt to a target, in the one order every attempt (first, retry, hedge) follows:
 * build (and translate) its upstream request, then ask the target's breaker. A field this
 * target cannot carry (on_unsupported: reject) marks it unservable for the request and is
 * returned; a breaker that refuses gives undefined; other errors are the request's and throw.
 */
export function admit(route: Route, target: Target, ctx: RequestContext, number: number, events: GatewayEvents): Attempt | UnsupportedFieldError | undefined {
  let up: UpstreamRequest;
  try {
    up = buildUpstreamRequest(ctx, target);
  } catch (err) {
    if (!(err instanceof UnsupportedFieldError)) throw err;
    (ctx.unservable ??= new Set()).add(target.id);
    return err;
  }
  const breaker = route.policies.breakers[target.index]!;
  if (!breaker.tryAcquire(Date.now())) return undefined;
  ctx.tried.add(target.id);
  return new Attempt(route, target, ctx, number, breaker.epoch, up, events);
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

const CANCEL_ERROR = Object.assign(new Error("cancelled: another attempt answered first"), { code: "SWITCHYARD_CANCELLED" });
const FIRST_BYTE_ERROR = Object.assign(new Error("first byte timeout"), { code: "SWITCHYARD_FIRST_BYTE_TIMEOUT" });

/**
 * Calls the target and waits until an answer can be committed (headers and the body's first
 * byte) or the attempt has failed. Never throws.
 */
export async function callTarget(a: Attempt, upstreams: Upstreams): Promise<Answer | Failure> {
  // Our own timer: undici's coarse timers can fire up to ~0.5 s late. It covers headers and the
  // body's first byte (what the client waits for); no closure per call.
  const { target, ctx, request: up } = a;
  const fb = target.timeouts.first_byte_ms;
  if (fb > 0) a.firstByteTimer = setTimeout(firstByteTimeout, fb, a);
  try {
    upstreams.poolFor(target).dispatch(
      {
        path: up.path,
        method: ctx.method as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders(ctx.headers, target, ctx.requestId, up.body),
        body: up.body,
        headersTimeout: 0,
        bodyTimeout: target.timeouts.idle_ms,
      },
      a.call,
    );
  } catch (err) {
    // undici refuses the request outright (a header value it cannot send): the request's fault.
    clearTimeout(a.firstByteTimer);
    const outcome = new Outcome("client_error", 400, `upstream request refused: ${(err as Error).message}`);
    a.end(outcome);
    return { attempt: a, outcome, message: "", keyRejected: false };
  }
  const d = await a.call.decided;
  clearTimeout(a.firstByteTimer);
  a.ttfbMs = performance.now() - a.startedAt;
  if (d.kind === "failed") {
    let outcome = a.abortedOutcome(d.error, d.phase);
    if (d.phase === "body" && outcome.kind === "broken_stream") outcome = new Outcome("broken_stream", d.status, "stream broken before its first byte");
    a.end(outcome, d.headers ?? undefined);
    return { attempt: a, outcome, message: "", keyRejected: false };
  }
  const outcome = classifyStatus(d.status, d.headers, Date.now(), target, d.kind === "error_body" ? d.text : "");
  if (d.kind === "answer") return { attempt: a, outcome, status: d.status, headers: d.headers, first: d.first };
  a.end(outcome, d.headers, d.text);
  return { attempt: a, outcome, message: errorMessage(d.text, target), keyRejected: outcome.kind === "client_error" };
}

function firstByteTimeout(a: Attempt): void {
  a.firstByteTimedOut = true;
  a.call.abort(FIRST_BYTE_ERROR);
}

/** Statuses relayed to the client as they come: successes and plain client errors. */
function relayed(status: number): boolean {
  return status < 400 || (status < 500 && status !== 408 && status !== 429);
}
/** With key auto-disable on, 401/402/403 are read too: they take the key out, the request moves on. */
function relayedWithKeyDisable(status: number): boolean {
  return relayed(status) && !KEY_STATUSES.has(status);
}

const KEY_STATUSES = new Set([401, 402, 403]);

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
