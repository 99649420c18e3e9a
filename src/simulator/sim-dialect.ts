/**
 * A dialect is one provider's wire format: where the key travels, which headers every answer
 * carries, what an error looks like, and the routes it serves. The provider (sim-provider.ts)
 * runs the misbehaviour script (auth, quotas, 429s, errors, latency…) and hands each surviving
 * request to its dialect.
 */
import type { IncomingMessage } from "node:http";
import type { ExchangeDialect, SimExchange } from "./sim-exchange.js";
import type { SimDialect } from "./sim-options.js";

/** The answer-shaping part (headers, error bodies, stream errors) is ExchangeDialect, declared next to the exchange that calls it. */
export interface Dialect extends ExchangeDialect {
  readonly kind: SimDialect;
  /** Path the base URL a gateway target uses ends with ("" or "/v1"). */
  readonly basePath: string;
  /** The API key of a request, "" when none. */
  key(req: IncomingMessage, query: URLSearchParams): string;
  /** Answers a key whose credits / billing quota are used up (exhausted_keys). */
  exhausted(ex: SimExchange): void;
  /** Answers a request that passed the misbehaviour script. */
  handle(ex: SimExchange): void;
}

/** `Authorization: Bearer <key>` → key ("" when absent). */
export function bearer(req: IncomingMessage): string {
  const h = req.headers.authorization;
  if (h === undefined) return "";
  return h.startsWith("Bearer ") || h.startsWith("bearer ") ? h.slice(7).trim() : "";
}

/** A single header's value as a string ("" when absent). */
export function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return v === undefined ? "" : Array.isArray(v) ? (v[0] ?? "") : v;
}

/** The request body as a plain object, or undefined when it is not one. */
export function bodyObject(body: unknown): Record<string, unknown> | undefined {
  return body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}
