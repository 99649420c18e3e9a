import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { CorsConfig } from "../config/access-schema.js";

/**
 * CORS for browser clients, from `config.cors`; off (null, no header at all) while `origins` is empty.
 *
 *   preflight  OPTIONS + Origin + Access-Control-Request-Method on a path the gateway serves:
 *              204 with Allow-Origin, -Methods, -Headers, -Max-Age (-Credentials), Vary: Origin;
 *              an origin not allowed: 204 with Vary: Origin only (the browser then blocks the call)
 *   answers    every answer (JSON, errors, streams, operator endpoints) gets Vary: Origin, and for
 *              an allowed Origin: Allow-Origin, Expose-Headers (and Allow-Credentials)
 *
 * Allow-Origin is `*` only for `origins: ["*"]` without credentials; otherwise the request's own
 * origin is echoed (browsers refuse `*` with credentials). The header values are built once per
 * config object; a request costs a set lookup and a few setHeader calls.
 */
export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;
  /** `*` is among the origins: any origin is allowed. */
  private readonly anyOrigin: boolean;
  /** Allow-Origin may be `*` itself (any origin, no credentials). */
  private readonly star: boolean;
  private readonly credentials: boolean;
  private readonly expose: string;
  /** A preflight's headers but Allow-Origin (the same object for every preflight: copied, never written to). */
  private readonly preflightHeaders: Readonly<OutgoingHttpHeaders>;

  private constructor(config: CorsConfig) {
    this.origins = new Set(config.origins.map(normalOrigin));
    this.anyOrigin = this.origins.has("*");
    this.credentials = config.credentials;
    this.star = this.anyOrigin && !config.credentials;
    this.expose = config.expose_headers.join(", ");
    const h: OutgoingHttpHeaders = { vary: "Origin" };
    if (config.methods.length > 0) h["access-control-allow-methods"] = config.methods.map((m) => m.toUpperCase()).join(", ");
    if (config.headers.length > 0) h["access-control-allow-headers"] = config.headers.join(", ");
    h["access-control-max-age"] = String(Math.floor(config.max_age_s));
    if (config.credentials) h["access-control-allow-credentials"] = "true";
    this.preflightHeaders = Object.freeze(h);
  }

  /** The policy of a `cors` block; null when CORS is off (no origins). */
  static from(config: CorsConfig): CorsPolicy | null {
    return config.origins.length === 0 ? null : new CorsPolicy(config);
  }

  /**
   * The Allow-Origin value for a request's Origin, or null when it is not allowed. With
   * credentials and `*`, origin `null` (sandboxed frames, files) is not echoed unless listed.
   */
  allowOrigin(origin: string | undefined): string | null {
    if (origin === undefined) return null;
    if (this.star) return "*";
    if (this.origins.has(origin)) return origin;
    return this.anyOrigin && origin !== "null" ? origin : null;
  }

  /** Sets the CORS headers of an answer before it is written (the answer's own headers merge over them). */
  decorate(res: ServerResponse, origin: string | undefined): void {
    res.setHeader("vary", "Origin");
    const allow = this.allowOrigin(origin);
    if (allow === null) return;
    res.setHeader("access-control-allow-origin", allow);
    if (this.credentials) res.setHeader("access-control-allow-credentials", "true");
    if (this.expose !== "") res.setHeader("access-control-expose-headers", this.expose);
  }

  /** Answers a preflight: 204, with the allow headers when the origin is allowed. */
  preflight(res: ServerResponse, origin: string, requestId: string): void {
    const allow = this.allowOrigin(origin);
    res.writeHead(
      204,
      allow === null
        ? { vary: "Origin", "x-request-id": requestId }
        : { ...this.preflightHeaders, "access-control-allow-origin": allow, "x-request-id": requestId },
    );
    res.end();
  }
}

/** The policy of the running config, rebuilt only when the `cors` block is another object (a reload). */
export class CorsGate {
  private config: CorsConfig | undefined = undefined;
  private policy: CorsPolicy | null = null;

  for(config: CorsConfig): CorsPolicy | null {
    if (config !== this.config) {
      this.config = config;
      this.policy = CorsPolicy.from(config);
    }
    return this.policy;
  }
}

/**
 * An upstream's own CORS headers speak for the upstream, not for the gateway: with CORS on they
 * are dropped from a relayed answer (they would override the gateway's), and its Vary keeps Origin.
 */
export function withoutUpstreamCors(headers: OutgoingHttpHeaders): void {
  for (const name in headers) if (name.startsWith("access-control-")) delete headers[name];
  const vary = headers.vary;
  if (vary === undefined) return;
  const v = Array.isArray(vary) ? vary.join(", ") : String(vary);
  headers.vary = /(^|,)\s*(origin|\*)\s*(,|$)/i.test(v) ? v : `${v}, Origin`;
}

/** Origins compare as browsers send them: lower case, no trailing slash. */
function normalOrigin(origin: string): string {
  const o = origin.trim().toLowerCase();
  return o.endsWith("/") ? o.slice(0, -1) : o;
}
