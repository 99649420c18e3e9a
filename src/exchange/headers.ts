import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { Target } from "../core/target.js";
import { injectTraceContext, type Span } from "../core/tracing.js";

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross the gateway, nor any header named in Connection. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
]);

/**
 * Client headers never sent upstream: credentials (the gateway injects the target's), host,
 * length, and the proxy headers that name another host, scheme or path (a server behind its own
 * proxy may route on them: X-Original-URL would pick the upstream's path for the client).
 */
const CLIENT_ONLY = new Set([
  ...HOP_BY_HOP,
  "host",
  "forwarded",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-original-url",
  "x-rewrite-url",
  "authorization",
  "x-api-key",
  "x-goog-api-key",
  "api-key",
  "cookie",
  "content-length",
  "expect",
  "accept-encoding",
]);

/** Upstream headers never returned to the client. */
const UPSTREAM_ONLY = new Set([...HOP_BY_HOP, "set-cookie", "x-request-id", "date", "server", "content-length"]);

const NONE: string[] = [];

function connectionTokens(value: string | string[] | undefined): string[] {
  // The common values name no other header: no split, no allocation.
  if (value === undefined || value === "keep-alive" || value === "close" || value === "Keep-Alive" || value === "Close") return NONE;
  const s = Array.isArray(value) ? value.join(",") : value;
  return s
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t && t !== "close" && t !== "keep-alive");
}

/**
 * A provider's own request headers (`anthropic-version`, `anthropic-beta`, `openai-organization`,
 * `x-goog-api-client`…) mean something only to that provider: a client's SDK sends them, and
 * they must not reach a target of another kind, where they are noise at best and a rejected
 * request at worst. Returns the vendor prefix a header carries, or "" for a neutral header.
 */
function vendorPrefixOf(name: string): string {
  switch (name.charCodeAt(0)) {
    case 97 /* a */:
      return name.startsWith("anthropic-") ? "anthropic-" : "";
    case 111 /* o */:
      return name.startsWith("openai-") ? "openai-" : "";
    case 120 /* x */:
      return name.startsWith("x-goog-") ? "x-goog-" : "";
    default:
      return "";
  }
}

/**
 * The headers of one upstream call: the client's (minus credentials, hop-by-hop headers and
 * other vendors' own), the adapter's defaults the client did not send (anthropic-version), the
 * target's own headers over both, then the target's key and the request id. With tracing on,
 * the attempt's span replaces the client's traceparent (and tracestate); off, the client's go
 * upstream as they came.
 */
export function upstreamRequestHeaders(
  client: IncomingHttpHeaders,
  target: Target,
  requestId: string,
  body: Buffer | null,
  span?: Span,
): Record<string, string> {
  const out: Record<string, string> = {};
  const named = connectionTokens(client.connection);
  const own = target.adapter.vendorHeaderPrefix;
  for (const name in client) {
    if (CLIENT_ONLY.has(name) || (named.length > 0 && named.includes(name))) continue;
    const vendor = vendorPrefixOf(name);
    if (vendor !== "" && vendor !== own) continue;
    const v = client[name];
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.join(", ") : v;
  }
  const defaults = target.defaultHeaders;
  for (const name in defaults) if (out[name] === undefined) out[name] = defaults[name] as string;
  const fixed = target.headers;
  for (const name in fixed) out[name] = fixed[name] as string;
  if (target.authHeaderName !== "") out[target.authHeaderName] = target.authHeaderValue;
  out["x-request-id"] = requestId;
  if (body !== null) out["content-length"] = String(body.length);
  if (span !== undefined) injectTraceContext(span, out);
  return out;
}

export function clientResponseHeaders(
  upstream: IncomingHttpHeaders,
  target: Target,
  requestId: string,
  attempts: number,
  keepLength: boolean,
): OutgoingHttpHeaders {
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
