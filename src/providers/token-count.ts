/**
 * A token count read from a provider's answer: a finite number >= 0, else 0. The counts price
 * the request (cost, budgets): a negative count from a broken or hostile upstream would credit a
 * budget, a string or an object would make the cost NaN.
 */
export function tokenCount(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0;
}
