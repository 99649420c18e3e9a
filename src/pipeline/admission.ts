import type { RequestContext } from "../core/request-context.js";
import type { ReadyAnswer } from "../core/ready-answer.js";
import type { Route } from "../engine/route.js";

/**
 * One check a request passes between preparation and its first attempt: a client's key, its
 * inbound rate limit, a quota, a budget, a cache hit. It lets the request through by returning
 * (or resolving), may send it to another route by returning that route, may answer it itself by
 * returning a ReadyAnswer (a cache hit: later steps and the engine never see it), and refuses it
 * by throwing a GatewayError, which the client gets in its dialect from either front. None are
 * installed by default; the pipeline skips this stage when empty.
 */
export interface AdmissionStep {
  readonly name: string;
  /**
   * Lets the request through (returns), sends it to another route of the same surface instead
   * (returns that route: a budget's fallback_route; later steps see it), answers it (returns a
   * ReadyAnswer), or refuses it (throws).
   */
  admit(ctx: RequestContext, route: Route): Admitted | Promise<Admitted>;
  /** What the step holds now, for GET /admin/status (`admission.<name>`); absent: nothing to say. */
  status?(): unknown;
  /** Lets go of what the step opened (a Redis connection…); the gateway's close() calls it. */
  shutdown?(): Promise<void>;
}

/** What an admission step decides: through (nothing), through to another route, or answered. */
export type Admitted = void | Route | ReadyAnswer;
