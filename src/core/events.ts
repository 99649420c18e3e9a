import type { Target } from "./target.js";
import type { Outcome } from "./outcome.js";
import type { RequestContext } from "./request-context.js";

export type AttemptListener = (target: Target, outcome: Outcome, latencyMs: number, ctx: RequestContext) => void;

/** One served client request, as logs and metrics see it. */
export interface RequestRecord {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly route: string | null;
  readonly target: string | null;
  readonly status: number;
  readonly attempts: number;
  readonly durationMs: number;
  readonly errorCode: string | null;
  readonly stream: boolean;
}
export type RequestListener = (record: RequestRecord) => void;

/** A policy changed a target's state: a breaker opened, a key was benched or disabled, a health check flipped. */
export interface PolicyEvent {
  readonly route: string;
  readonly target: string;
  readonly policy: "breaker" | "rate_limit" | "key" | "health";
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}
export type PolicyListener = (event: PolicyEvent) => void;

/** A bug met while serving a request: the client got 500 internal_error with this request id. */
export type InternalErrorListener = (err: unknown, requestId: string) => void;

/**
 * What the data plane tells observers. Costs one length check when nobody listens; the core
 * never imports a logger or metrics library, they subscribe here.
 */
export class GatewayEvents {
  private readonly attemptListeners: AttemptListener[] = [];
  private readonly requestListeners: RequestListener[] = [];
  private readonly policyListeners: PolicyListener[] = [];
  private readonly internalErrorListeners: InternalErrorListener[] = [];

  get hasAttemptListeners(): boolean {
    return this.attemptListeners.length > 0;
  }
  get hasRequestListeners(): boolean {
    return this.requestListeners.length > 0;
  }

  onAttempt(fn: AttemptListener): void {
    this.attemptListeners.push(fn);
  }
  onRequest(fn: RequestListener): void {
    this.requestListeners.push(fn);
  }
  onPolicy(fn: PolicyListener): void {
    this.policyListeners.push(fn);
  }
  onInternalError(fn: InternalErrorListener): void {
    this.internalErrorListeners.push(fn);
  }

  attempt(target: Target, outcome: Outcome, latencyMs: number, ctx: RequestContext): void {
    for (const fn of this.attemptListeners) fn(target, outcome, latencyMs, ctx);
  }
  request(record: RequestRecord): void {
    for (const fn of this.requestListeners) fn(record);
  }
  policy(event: PolicyEvent): void {
    for (const fn of this.policyListeners) fn(event);
  }
  internalError(err: unknown, requestId: string): void {
    for (const fn of this.internalErrorListeners) fn(err, requestId);
  }
}
