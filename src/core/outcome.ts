/**
 * How one attempt ended. The classifier (classify.ts) maps upstream answers and errors to a kind;
 * every policy (breaker, retry, strategy stats) reads the kind, never raw statuses.
 */
import { OUTCOME_KINDS } from "../config/resilience-schema.js";

export { OUTCOME_KINDS };
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

/** Kinds that say the target (not the request) is at fault. */
export function isTargetFailure(kind: OutcomeKind): boolean {
  return kind !== "ok" && kind !== "client_error";
}

export class Outcome {
  constructor(
    readonly kind: OutcomeKind,
    /** Upstream HTTP status, 0 when no response arrived. */
    readonly status: number,
    /** Short human detail: "connect ECONNREFUSED", "first byte timeout after 1000 ms", "503 from upstream". */
    readonly detail: string,
    /** For rate_limited: epoch ms when the key may be used again (0 = unknown). */
    readonly retryAtMs = 0,
  ) {}
}

export const OK = new Outcome("ok", 200, "ok");
