import { GatewayError, internalError } from "../errors.js";
import { armTimeout, cancelTimeout, type TimeoutToken } from "../core/coarse-timers.js";
import type { RequestContext } from "../core/request-context.js";
import type { RequestRecord } from "../core/events.js";
import { endRequestSpan, startRequestSpan } from "../core/tracing.js";
import type { Committed } from "../engine/committed.js";
import type { Engine } from "../engine/engine.js";
import type { Route } from "../engine/route.js";
import { retryAfterHeader } from "../engine/attempt-loop.js";
import type { Admitted, AdmissionStep } from "./admission.js";
import { ReadyAnswer } from "../core/ready-answer.js";
import type { ClientSink } from "./client-sink.js";
import { deliver, type DeliveryListener } from "./delivery.js";
import { type Destination, prepare } from "./prepare.js";
import { costOf } from "../providers/prices.js";

/**
 * The one request pipeline. The HTTP server and the library are two thin fronts that build a
 * RequestContext and a ClientSink and hand them here; every request goes through the same
 * stages, under one deadline, and is counted and published the same way:
 *
 *   gate       the client's key, from headers and query only (GateStep, below)
 *   prepare    body size, JSON and fields or REST path safety, route, priority  (prepare.ts)
 *   admission  client keys, limits, cache (empty by default)                    (admission.ts)
 *   attempts   the engine's attempt loop: pick, call, fail over                  (engine/)
 *   answer     headers, translation, delivery into the sink                      (delivery.ts)
 *   events     counters and the request event (the access log subscribes)
 *
 * Never throws: every failure becomes the client's error through the sink. Admission steps may
 * be async; the rest of the common path is callbacks, no async function per request.
 */
export class Pipeline {
  private readonly admission: AdmissionStep[] = [];
  private readonly gates: GateStep[] = [];

  constructor(readonly engine: Engine) {}

  /** Adds a gate step (after those already there): it sees every request before its body is read. */
  useGate(step: GateStep): void {
    this.gates.push(step);
  }

  /** Runs the gate steps in order; throws the first refusal. A front's own answers (model lists) may call it too. */
  checkGates(ctx: RequestContext): void {
    for (const step of this.gates) step.check(ctx);
  }

  /** Adds an admission step (after those already there). */
  use(step: AdmissionStep): void {
    this.admission.push(step);
  }

  /**
   * Serves one request from its front: calls `done` (if given) once the answer ended, whatever
   * happened. A RequestJob walks the stages; its steps call one another (no async function per
   * request: the common path costs one promise reaction for the attempt and none for delivery).
   */
  serve(ctx: RequestContext, to: Destination, body: Buffer | Promise<Buffer>, sink: ClientSink, done?: () => void): void {
    new RequestJob(this, ctx, sink, done).start(to, body);
  }

  /**
   * Runs the admission steps in order, from the `from`th (only called when there are some): the
   * route to serve (a step may change it) or a step's own answer, at once while every step decides
   * at once, or a promise of it from the first step that decides with one. Throws (or rejects
   * with) a step's refusal.
   */
  admit(ctx: RequestContext, route: Route, from = 0): Route | ReadyAnswer | Promise<Route | ReadyAnswer> {
    const steps = this.admission;
    for (let i = from; i < steps.length; i++) {
      const r = (steps[i] as AdmissionStep).admit(ctx, route);
      if (r === undefined) continue;
      if (r instanceof Promise)
        return r.then((next: Admitted) => (next instanceof ReadyAnswer ? next : this.admit(ctx, next ?? route, i + 1)));
      if (r instanceof ReadyAnswer) return r;
      route = r;
    }
    return route;
  }

  /** The admission step of this name, if installed (status, tests). */
  step(name: string): AdmissionStep | undefined {
    return this.admission.find((s) => s.name === name);
  }

  /** Closes every admission step that holds something open (the gateway's close). */
  async close(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const step of this.admission) if (step.shutdown !== undefined) closing.push(step.shutdown());
    await Promise.all(closing);
  }

  /** Each admission step's status, by name (those that have one). */
  statuses(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const step of this.admission) if (step.status !== undefined) out[step.name] = step.status();
    return out;
  }

  get admits(): boolean {
    return this.admission.length > 0;
  }

  /**
   * What the client is told: a GatewayError as it is (a 502/503/504 from a route always with a
   * Retry-After: the soonest a target may be eligible, at least 1 s), anything else as an
   * internal error (published, so the log has it with the request id).
   */
  clientError(err: unknown, ctx: RequestContext, route: Route | undefined): GatewayError {
    if (!(err instanceof GatewayError)) {
      this.engine.events.internalError(err, ctx.requestId);
      return internalError(ctx.requestId);
    }
    const s = err.status;
    if (route === undefined || (s !== 502 && s !== 503 && s !== 504) || err.headers?.["retry-after"] !== undefined) return err;
    const now = Date.now();
    const headers = { ...err.headers, ...retryAfterHeader(route.policies.list.soonestEligibleAt(route.targets, now), now) };
    return new GatewayError(err.code, err.message, { cause: err.cause, param: err.param ?? undefined, headers, status: err.status });
  }
}

/** One request on its way through the stages; finishes exactly once. */
class RequestJob implements DeliveryListener {
  private route: Route | undefined = undefined;
  private committed: Committed | undefined = undefined;
  /** The gateway's own answer, when an admission step or a watcher gave one. */
  private ready: ReadyAnswer | undefined = undefined;
  /** The client got the whole answer (delivery said so, or a ready answer was sent). */
  private complete = false;
  private errorCode: string | null = null;
  private timer: TimeoutToken | undefined = undefined;
  private finished = false;
  private readonly startedAt = performance.now();
  /** When the committed answer's status went to the client, ms after the start; -1 before. */
  private ttfbMs = -1;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly ctx: RequestContext,
    private readonly sink: ClientSink,
    private readonly done: (() => void) | undefined,
  ) {}

  start(to: Destination, body: Buffer | Promise<Buffer>): void {
    const engine = this.pipeline.engine;
    engine.requestStarted();
    if (engine.draining)
      return this.refused(body, new GatewayError("shutting_down", "the gateway is shutting down; retry on another instance"));
    try {
      this.pipeline.checkGates(this.ctx);
    } catch (err) {
      return this.refused(body, err);
    }
    if (Buffer.isBuffer(body)) return this.prepared(to, body);
    body.then(
      (b) => this.prepared(to, b),
      (err: unknown) => this.failed(err),
    );
  }

  /** Refused before its body was read: the body is left to finish (or fail) unheard. */
  private refused(body: Buffer | Promise<Buffer>, err: unknown): void {
    if (!Buffer.isBuffer(body)) body.then(undefined, ignore);
    this.failed(err);
  }

  private prepared(to: Destination, body: Buffer): void {
    const { pipeline, ctx } = this;
    const engine = pipeline.engine;
    let route: Route;
    try {
      route = prepare(ctx, to, body, engine.table, engine.config);
    } catch (err) {
      return this.failed(err);
    }
    this.route = route;
    startRequestSpan(ctx, route.config);
    const totalMs = route.timeouts.total_ms;
    if (totalMs > 0) {
      ctx.deadlineAt = Date.now() + totalMs;
      this.timer = armTimeout(totalMs, onDeadline, ctx);
    }
    if (!pipeline.admits) return this.attempt(route);
    let admitted: Route | ReadyAnswer | Promise<Route | ReadyAnswer>;
    try {
      admitted = pipeline.admit(ctx, route);
    } catch (err) {
      return this.failed(err);
    }
    if (!(admitted instanceof Promise)) return this.admitted(admitted);
    admitted.then(
      (a) => this.admitted(a),
      (err: unknown) => this.failed(err),
    );
  }

  private admitted(a: Route | ReadyAnswer): void {
    if (a instanceof ReadyAnswer) return this.answered(a);
    this.route = a;
    this.attempt(a);
  }

  /** An answer of the gateway's own (a cache hit, a batch's share): sent whole, with what admission added. */
  private answered(a: ReadyAnswer): void {
    if (this.finished) return;
    const { ctx, sink } = this;
    this.ready = a;
    ctx.answeredBy = a.answeredBy;
    if (a.usage !== null) ctx.usage = a.usage;
    this.ttfbMs = performance.now() - this.startedAt;
    this.complete = true;
    if (!sink.gone) {
      // The answer's own headers win over what admission added (its x-switchyard-cache over a "miss").
      const h = a.headers;
      const added = ctx.responseHeaders;
      if (added !== null) for (const k in added) h[k] ??= added[k];
      h["x-request-id"] = ctx.requestId;
      sink.send(a.status, h, a.body);
    }
    this.finish();
  }

  private attempt(route: Route): void {
    let committed: Promise<Committed>;
    try {
      committed = this.pipeline.engine.serve(route, this.ctx);
    } catch (err) {
      return this.failed(err);
    }
    committed.then(this.onCommitted, this.failed);
  }

  private readonly onCommitted = (c: Committed): void => {
    this.committed = c;
    this.ttfbMs = performance.now() - this.startedAt;
    const watch = this.ctx.watch;
    if (watch !== null) {
      const rescue = c.status >= 500 ? watch.rescue(c.status) : null;
      if (rescue !== null) {
        // The last target's 5xx is not what the client gets: a watcher had something better.
        c.call.abort();
        c.finish();
        this.committed = undefined;
        return this.answered(rescue);
      }
      watch.committed(c.target, c.status, c.headers);
    }
    try {
      deliver(c, this.sink, this);
    } catch (err) {
      this.failed(err);
    }
  };

  delivered(complete: boolean): void {
    this.complete = complete;
    this.finish();
  }

  readonly failed = (err: unknown): void => {
    if (this.finished) return;
    const e = this.pipeline.clientError(err, this.ctx, this.route);
    const watch = this.ctx.watch;
    if (watch !== null && this.committed === undefined && e.status >= 500) {
      // Every target failed: a watcher may have an answer to give instead (stale-if-error).
      const rescue = watch.rescue(e.status);
      if (rescue !== null) return this.answered(rescue);
    }
    this.errorCode = e.code;
    if (!(e.code === "client_closed" && this.sink.gone)) this.sink.fail(e, this.ctx.surface);
    this.finish();
  };

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const { ctx, committed } = this;
    cancelTimeout(this.timer);
    if (ctx.watch !== null) ctx.watch.ended(this.complete && this.errorCode === null && this.ready === undefined);
    const engine = this.pipeline.engine;
    engine.requestEnded(this.errorCode !== null);
    const events = engine.events;
    const durationMs = performance.now() - this.startedAt;
    const first = ctx.tries[0];
    this.route?.window.record(
      Date.now(),
      durationMs,
      this.sink.status >= 500 || (this.errorCode !== null && this.sink.status === 429),
      committed !== undefined && first !== undefined && first.target !== committed.target,
      committed === undefined || first === undefined ? 0 : this.ttfbMs - first.latencyMs,
      ctx.queueMs,
    );
    if (events.hasRequestListeners || ctx.span !== undefined) {
      const target = committed?.target ?? this.ready?.target ?? undefined;
      const upstreamModel = target === undefined || ctx.surface === "rest" ? "" : (target.model ?? ctx.model);
      const usage = ctx.usage;
      const price = usage === null || target === undefined ? null : target.priceFor(upstreamModel);
      const record: RequestRecord = {
        requestId: ctx.requestId,
        method: ctx.method,
        path: ctx.path,
        surface: ctx.surface,
        route: this.route?.name ?? null,
        clientKey: ctx.clientKey,
        target: target?.id ?? null,
        status: this.sink.status,
        attempts: committed?.attempts ?? ctx.tried.size,
        answeredBy: ctx.answeredBy,
        cache: ctx.cache,
        durationMs,
        errorCode: this.errorCode,
        stream: ctx.stream,
        model: ctx.model,
        upstreamModel,
        usage,
        costUsd: price === null || usage === null ? 0 : costOf(price, usage),
        ttfbMs: this.ttfbMs,
        queueMs: ctx.queueMs,
        overheadMs: Math.max(0, durationMs - ctx.upstreamMs - ctx.queueMs - ctx.backoffMs),
        tries: ctx.tries,
      };
      endRequestSpan(ctx, record);
      events.request(record);
    }
    this.done?.();
  }
}

/**
 * A check on a request as it arrives, before its body is read and its route found: it sees only
 * the headers, the query and the path's surface, so a client it refuses learns nothing of the
 * routes and models behind (no 404 for a model, no error about its body). Synchronous: it
 * refuses by throwing a GatewayError, answered in the client's dialect by both fronts.
 */
export interface GateStep {
  readonly name: string;
  check(ctx: RequestContext): void;
}

function ignore(): void {
  // A refused request's body: nobody waits for it, its failure is no one's error.
}

/** The request's total deadline passed: every attempt and wait of it is cut short. */
function onDeadline(ctx: RequestContext): void {
  ctx.timedOut = true;
  ctx.abort();
}
