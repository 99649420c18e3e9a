import { GatewayError } from "../errors.js";

/**
 * The words of `GET /admin/usage`: what a query may ask (`from`, `to`, `group_by`), how those are
 * read (with a precise 400 for each mistake), and the shape of the answer.
 */

/** What a grouped row can be split by, in `group_by`. */
export const USAGE_DIMENSIONS = ["route", "target", "model", "hour", "day", "client_key"] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

export interface UsageSums {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  /** Anthropic cache writes (inside input_tokens, charged apart). */
  cache_write_tokens: number;
  cost_usd: number;
}
/** One answer row: the dimensions grouped by (hour and day as ISO strings), then the sums. */
export type UsageRow = Partial<Record<UsageDimension, string>> & UsageSums;

export interface UsageQuery {
  /** ISO date/time (UTC when it names no zone) or epoch ms; default: `to` less 24 h. */
  from?: string | number;
  /** As `from`; default: now. */
  to?: string | number;
  /** A comma list (or array) of dimensions; default route,target,model. */
  group_by?: string | readonly string[];
}

export interface UsageAnswer {
  /** The hours the rows cover: `from` down to its hour, `to` up to its hour. */
  from: string;
  to: string;
  group_by: UsageDimension[];
  rows: UsageRow[];
  totals: UsageSums;
}

export function parseGroupBy(value: string | readonly string[] | undefined): UsageDimension[] {
  const items = typeof value === "string" ? value.split(",") : (value ?? []);
  if (items.length === 0 || (items.length === 1 && items[0] === "")) return ["route", "target", "model"];
  const out: UsageDimension[] = [];
  for (const raw of items) {
    const item = raw.trim();
    if (!(USAGE_DIMENSIONS as readonly string[]).includes(item))
      throw new GatewayError("invalid_request", `group_by: "${item}" is not one of ${USAGE_DIMENSIONS.join(", ")}`, { param: "group_by" });
    if (!out.includes(item as UsageDimension)) out.push(item as UsageDimension);
  }
  return out;
}

/** Epoch ms (a number, or a string of digits) or an ISO date/time; one without a zone is UTC. */
export function parseTime(value: string | number, param: "from" | "to"): number {
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (/^\d+$/.test(value)) ms = Number(value);
  else if (/^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?$/.test(value))
    ms = Date.parse(/T[^Z+-]*$/.test(value) ? `${value}Z` : value);
  else ms = NaN;
  if (!Number.isFinite(ms) || ms < 0 || !Number.isFinite(new Date(ms).getTime()))
    throw new GatewayError("invalid_request", `${param}: ${JSON.stringify(value)} is not an ISO date/time or epoch milliseconds`, {
      param,
    });
  return ms;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
