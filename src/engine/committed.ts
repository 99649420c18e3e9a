import type { IncomingHttpHeaders } from "node:http";
import { Outcome, type OutcomeKind } from "../core/outcome.js";
import type { RequestContext } from "../core/request-context.js";
import type { Target } from "../core/target.js";
import type { Answer } from "./attempt.js";
import type { Route } from "./route.js";
import type { UpstreamCall } from "./upstream-call.js";

/**
 * The upstream answer the gateway committed to: the client gets this status, these headers and
 * this body (its first chunk already read). The attempt stays in flight until finish().
 */
export class Committed {
  readonly target: Target;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly first: Buffer | null;
  readonly outcome: Outcome;
  /** The upstream call: attach() streams the rest of the body into a sink. */
  readonly call: UpstreamCall;

  constructor(
    private readonly answer: Answer,
    readonly route: Route,
    readonly ctx: RequestContext,
    /** Attempts this request made, hedges included. */
    readonly attempts: number,
  ) {
    this.target = answer.attempt.target;
    this.status = answer.status;
    this.headers = answer.headers;
    this.first = answer.first;
    this.outcome = answer.outcome;
    this.call = answer.attempt.call;
  }

  /** Ends the attempt once the body was relayed (or broke). Idempotent. */
  finish(kind: OutcomeKind = this.outcome.kind, detail = this.outcome.detail): void {
    const outcome =
      kind === this.outcome.kind
        ? this.outcome
        : new Outcome(kind, kind === "client_error" && this.ctx.clientGone ? 499 : this.status, detail);
    this.answer.attempt.end(outcome, this.headers);
  }
}
