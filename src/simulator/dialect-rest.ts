/**
 * A plain JSON REST API (market data, search…): any method and path answers 200 with
 * `rest_response(req)` (by default an echo of the request); key in `Authorization: Bearer`,
 * `x-api-key` or `?api_key=`; rate limits as `x-ratelimit-*` (reset in seconds) and the IETF
 * `RateLimit-Policy` / `RateLimit` headers; errors as {"error":{status,message}}.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { bearer, header, type Dialect } from "./sim-dialect.js";
import type { SimExchange } from "./sim-exchange.js";
import type { RestRequestInfo } from "./sim-options.js";

const KEY_PARAM = /key|token|secret|sig/i;

function maskKeys(query: Record<string, string>): Record<string, string> {
  let out: Record<string, string> | null = null;
  for (const k in query) {
    if (!KEY_PARAM.test(k)) continue;
    out ??= { ...query };
    const v = query[k];
    if (v === undefined) continue;
    out[k] = v.length <= 4 ? "****" : `****${v.slice(-4)}`;
  }
  return out ?? query;
}

export const restDialect: Dialect = {
  kind: "rest",
  basePath: "",
  retryAfterHeader: true,

  key(req: IncomingMessage, query: URLSearchParams): string {
    return bearer(req) || header(req, "x-api-key") || (query.get("api_key") ?? query.get("apikey") ?? "");
  },

  headers(ex: SimExchange, out: OutgoingHttpHeaders): void {
    const l = ex.limits;
    const resetS = Math.ceil(l.requestsResetMs / 1000);
    out["x-ratelimit-limit"] = String(l.requestsLimit);
    out["x-ratelimit-remaining"] = String(l.requestsRemaining);
    out["x-ratelimit-reset"] = String(resetS);
    const windowS = ex.opts.key_quota?.window_s ?? 60;
    out["ratelimit-policy"] = `"default";q=${l.requestsLimit};w=${Math.ceil(windowS)}`;
    out["ratelimit"] = `"default";r=${l.requestsRemaining};t=${resetS}`;
  },

  errorBody(_ex: SimExchange, status: number, message: string): unknown {
    return { error: { status, message } };
  },

  streamError(): string {
    return "";
  },

  exhausted(ex: SimExchange): void {
    ex.error(402, "Payment required: the plan's quota for this key is used up.");
  },

  handle(ex: SimExchange): void {
    const info: RestRequestInfo = {
      method: ex.method,
      path: ex.path,
      query: Object.fromEntries(ex.query),
      body: ex.body,
      key: ex.key,
    };
    const fn = ex.opts.rest_response;
    if (fn === undefined) {
      const name = ex.opts.name;
      // The echo masks key-like parameters: what a client sees must never carry the gateway's key.
      return ex.json(200, {
        source: name,
        name,
        method: info.method,
        path: info.path,
        query: maskKeys(info.query),
        body: info.body ?? null,
      });
    }
    let out: unknown;
    try {
      out = fn(info);
    } catch (err) {
      return ex.error(500, `rest_response threw: ${(err as Error).message}`);
    }
    if (out instanceof Promise) {
      out.then(
        (v) => ex.json(200, v ?? null),
        (err: unknown) => ex.error(500, `rest_response failed: ${(err as Error).message}`),
      );
      return;
    }
    ex.json(200, out ?? null);
  },
};
