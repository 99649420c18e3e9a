import type { Candidate } from "./strategy.js";

/**
 * The estimated price of one request on one target, from its cost per 1k input and output tokens.
 * Shared by the cost and quality strategies (and the adaptive reward).
 */
export function estimatedCost(t: Candidate, inputTokens: number, outputTokens: number): number {
  return (inputTokens * t.costInputPer1k + outputTokens * t.costOutputPer1k) / 1000;
}

/** Two prices closer than this (relative) are a tie: float noise must not decide. */
export function sameCost(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}
