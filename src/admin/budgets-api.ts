import { jsonAnswer, type OperatorEndpoint } from "../core/operator-endpoint.js";
import type { Budgets } from "../front/budgets.js";

/**
 * `GET /admin/budgets`: every client key and route with a budget, its spend this UTC day and month,
 * its caps, what remains and which cap is reached; and when the day and the month reset. Names
 * only: a client key's secret never appears.
 */
export function budgetsEndpoint(budgets: Budgets): OperatorEndpoint {
  return {
    method: "GET",
    path: "/admin/budgets",
    admin: true,
    summary: "Spend caps of client keys and routes: spent today and this month (UTC), caps, remaining, which cap is reached",
    handle: () => jsonAnswer(budgets.report()),
  };
}
