import { GatewayError } from "../errors.js";
import type { RequestContext } from "../core/request-context.js";
import type { Committed } from "../engine/committed.js";
import type { Engine } from "../engine/engine.js";
import type { Route } from "../engine/route.js";
import { retryAfterHeader } from "../engine/attempt-loop.js";
import type { AdmissionStep } from "./admission.js";
import type { ClientSink } from "./client-sink.js";
import { deliver } from "./delivery.js";
import { type Destination, prepare } from "./prepare.js";

/**
 * The one request pipeline. The HTTP server and the library are two thin fronts that build a
 * RequestContext and a ClientSink and hand them here; every request goes through the same
 * stages, under one deadline, and is counted and published the same way:
 *
 *   prepare    body size, JSON and fields or REST path safety, route, priority  (prepare.ts)
 *   admission  client keys, limits, cache (empty by default)                    (admission.ts)
 *   attempts   the engine's attempt loop: pick, call, fail over                  (engine/)
 *   answer     headers, translation, delivery into the sink                      (delivery.ts)
 *   events     counters and the request event (the access log subscribes)
 *
 * Never throws: every failure becomes the client's error through the sink.
 */
export class Pipeline {
  private readonly admission: AdmissionStep[] = [];

  constructor(readonly engine: Engine) {}

  /** Adds an admission step (after those already there). */
  use(step: AdmissionStep): void {
    this.admission.push(step);
  }

  async serve(ctx: RequestContext, to: Destination, body: Buffer | Promise<Buffer>, sink: ClientSink): Promise<void> {
    const engine = this.engine;
    const started = performance.now();
    engine.requestStarted();
    let route: Route | undefined;
    let committed: Committed | undefined;
    let errorCode: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (engine.draining) throw new GatewayError("shutting_down", "the gateway is shutting down; retry on another instance");
      route = prepare(ctx, to, Buffer.isBuffer(body) ? body : await body, engine.table, engine.config);
      const totalMs = route.timeouts.total_ms;
      if (totalMs > 0) {
        ctx.deadlineAt = Date.now() + totalMs;
        timer = setTimeout(onDeadline, totalMs, ctx);
      }
      if (this.admission.length > 0) for (const step of this.admission) await step.admit(ctx, route);
      committed = await engine.serve(route, ctx);
      await deliver(committed, sink);
    } catch (err) {
      const e = this.clientError(err, ctx, route);
      errorCode = e.code;
      if (!(e.code === "client_closed" && sink.gone)) sink.fail(e, ctx.surface);
    } finally {
      clearTimeout(timer);
      engine.requestEnded(errorCode !== null);
      const events = engine.events;
      if (events.hasRequestListeners)
        events.request({
          requestId: ctx.requestId,
          method: ctx.method,
          path: ctx.path,
          route: route?.name ?? null,
          target: committed?.target.id ?? null,
          status: sink.status,
          attempts: committed?.attempts ?? ctx.tried.size,
          durationMs: performance.now() - started,
          errorCode,
          stream: ctx.stream,
        });
    }
  }

  /**
   * What the client is told: a GatewayError as it is (a 502/503/504 from a route always with a
   * Retry-After: the soonest a target may be eligible, at least 1 s), anything else as an
   * internal error (published, so the log has it with the request id).
   */
  private clientError(err: unknown, ctx: RequestContext, route: Route | undefined): GatewayError {
    if (!(err instanceof GatewayError)) {
      this.engine.events.internalError(err, ctx.requestId);
      return new GatewayError("internal_error", `internal gateway error (request id ${ctx.requestId})`);
    }
    const s = err.status;
    if (route === undefined || (s !== 502 && s !== 503 && s !== 504) || err.headers?.["retry-after"] !== undefined) return err;
    const now = Date.now();
    const headers = { ...err.headers, ...retryAfterHeader(route.policies.list.soonestEligibleAt(route.targets, now), now) };
    return new GatewayError(err.code, err.message, { cause: err.cause, param: err.param ?? undefined, headers, status: err.status });
  }
}

/** The request's total deadline passed: every attempt and wait of it is cut short. */
function onDeadline(ctx: RequestContext): void {
  ctx.timedOut = true;
  ctx.abort();
}
