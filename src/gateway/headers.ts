import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { Target } from "./target.js";

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross the gateway, nor any header named in Connection. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization"]);

/** Client headers never sent upstream: credentials (the gateway injects the target's), host, length. */
const CLIENT_ONLY = new Set([...HOP_BY_HOP, "host", "authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "content-length", "expect", "accept-encoding"]);

/** Upstream headers never returned to the client. */
const UPSTREAM_ONLY = new Set([...HOP_BY_HOP, "set-cookie", "x-request-id", "date", "server", "content-length"]);

function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const s = Array.isArray(value) ? value.join(",") : value;
  return s.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t && t !== "close" && t !== "keep-alive");
}

export function upstreamRequestHeaders(client: IncomingHttpHeaders, target: Target, requestId: string, body: Buffer | null): Record<string, string> {
  const out: Record<string, string> = {};
  const named = connectionTokens(client.connection);
  for (const name in client) {
    if (CLIENT_ONLY.has(name) || (named.length > 0 && named.includes(name))) continue;
    const v = client[name];
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.join(", ") : v;
  }
  for (const name in target.extraHeaders) out[name] = target.extraHeaders[name]!;
  if (target.authHeaderName !== "") out[target.authHeaderName] = target.authHeaderValue;
  out["x-request-id"] = requestId;
  if (body !== null) out["content-length"] = String(body.length);
  return out;
}

export function clientResponseHeaders(upstream: IncomingHttpHeaders, target: Target, requestId: string, attempts: number, keepLength: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionTokens(upstream.connection);
  for (const name in upstream) {
    if (UPSTREAM_ONLY.has(name) || (named.length > 0 && named.includes(name))) continue;
    out[name] = upstream[name];
  }
  if (keepLength && upstream["content-length"] !== undefined) out["content-length"] = upstream["content-length"];
  out["x-request-id"] = requestId;
  out["x-switchyard-target"] = target.id;
  out["x-switchyard-attempts"] = String(attempts);
  return out;
}
