import type { Outcome } from "./outcome.js";
import type { Target } from "./target.js";

/** One ended attempt of a request, as observers (logs, metrics, traces) see it. */
export interface AttemptRecord {
  readonly target: Target;
  readonly outcome: Outcome;
  /** From the call's start to its end (the whole body relayed, or the failure), ms. */
  readonly latencyMs: number;
  /** From the call's start to the body's first byte (or to the failure), ms. */
  readonly ttfbMs: number;
  /** 1-based: the request's first attempt is 1, hedges included in the count. */
  readonly number: number;
  /** Started by the hedge policy, racing another attempt. */
  readonly hedge: boolean;
}
