import type { Surface } from "../config/schema.js";
import type { Usage } from "../providers/canonical.js";
import type { AttemptRecord } from "./attempt-record.js";
import type { AnsweredBy, CacheResult } from "./ready-answer.js";
import type { RequestContext } from "./request-context.js";

export type { AttemptRecord };
export type AttemptListener = (attempt: AttemptRecord, ctx: RequestContext) => void;

/** One served client request, as logs, metrics, the usage ledger and alerts see it. */
export interface RequestRecord {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly surface: Surface;
  readonly route: string | null;
  /** The name of the client key ("" when client keys are off or the request was refused before). */
  readonly clientKey: string;
  /** Id of the target that answered (null: none did). */
  readonly target: string | null;
  readonly status: number;
  /** Attempts made, hedges included. */
  readonly attempts: number;
  /** Who answered when not an upstream call of the request's own: "cache", "stale", "coalesced", "batch"; "" otherwise. */
  readonly answeredBy: AnsweredBy;
  /** What the response cache did: "hit", "miss", "bypass", "stale", "coalesced"; "" when the route has none. */
  readonly cache: CacheResult;
  readonly durationMs: number;
  readonly errorCode: string | null;
  readonly stream: boolean;
  /** The model the client asked for ("" for REST). A client's string: bound it before using it as a label. */
  readonly model: string;
  /** The model sent to the answering target (its `model`, else the client's); "" when none answered or REST. */
  readonly upstreamModel: string;
  /** Token usage of the answer when the answer said it (JSON body, or a stream's final events). */
  readonly usage: Usage | null;
  /** What the answer cost in USD (usage × the target's price); 0 when usage or price is unknown. */
  readonly costUsd: number;
  /** From arrival to the answer's status and headers going to the client (the upstream's first byte), ms; -1 when none went. */
  readonly ttfbMs: number;
  /** Waiting in the route's queue, ms. */
  readonly queueMs: number;
  /** Time spent in the gateway itself: the duration less upstream calls, queue and backoff waits, ms. */
  readonly overheadMs: number;
  /** Every attempt, in the order they ended. */
  readonly tries: readonly AttemptRecord[];
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

/** The routes were replaced (a reload, an admin change): what changed, by `route/target`. */
export interface TopologyEvent {
  readonly version: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
  readonly updated: readonly string[];
  readonly routesAdded: readonly string[];
  readonly routesRemoved: readonly string[];
}
export type TopologyListener = (event: TopologyEvent) => void;

/** A config change was tried (a reload, an admin change): applied, or refused with its errors (nothing changed). */
export interface ConfigEvent {
  readonly trigger: string;
  readonly ok: boolean;
  /** The route generation running after it. */
  readonly version: number;
  readonly errors: readonly string[];
}
export type ConfigListener = (event: ConfigEvent) => void;

/**
 * What the data plane tells observers. Costs one length check when nobody listens; the core
 * never imports a logger or metrics library, they subscribe here.
 */
export class GatewayEvents {
  private readonly attemptListeners: AttemptListener[] = [];
  private readonly requestListeners: RequestListener[] = [];
  private readonly policyListeners: PolicyListener[] = [];
  private readonly internalErrorListeners: InternalErrorListener[] = [];
  private readonly topologyListeners: TopologyListener[] = [];
  private readonly configListeners: ConfigListener[] = [];

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

  onTopology(fn: TopologyListener): void {
    this.topologyListeners.push(fn);
  }

  onConfig(fn: ConfigListener): void {
    this.configListeners.push(fn);
  }

  attempt(attempt: AttemptRecord, ctx: RequestContext): void {
    for (const fn of this.attemptListeners) fn(attempt, ctx);
  }
  request(record: RequestRecord): void {
    for (const fn of this.requestListeners) fn(record);
  }
  policy(event: PolicyEvent): void {
    for (const fn of this.policyListeners) fn(event);
  }
  topology(event: TopologyEvent): void {
    for (const fn of this.topologyListeners) fn(event);
  }
  config(event: ConfigEvent): void {
    for (const fn of this.configListeners) fn(event);
  }
  internalError(err: unknown, requestId: string): void {
    for (const fn of this.internalErrorListeners) fn(err, requestId);
  }
}
