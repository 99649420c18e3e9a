import type { ProviderKind, TargetConfig, Timeouts } from "../config/schema.js";
import { maskSecret } from "../config/mask.js";
import { TargetStats } from "./target-stats.js";

/** Resolved per-attempt timeouts in ms (0 = off). */
export interface ResolvedTimeouts {
  readonly connect_ms: number;
  readonly first_byte_ms: number;
  readonly idle_ms: number;
  readonly total_ms: number;
}

export const DEFAULT_TIMEOUTS: ResolvedTimeouts = { connect_ms: 5_000, first_byte_ms: 60_000, idle_ms: 60_000, total_ms: 600_000 };

export function resolveTimeouts(...layers: (Timeouts | undefined)[]): ResolvedTimeouts {
  const out = { ...DEFAULT_TIMEOUTS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const k of Object.keys(out) as (keyof ResolvedTimeouts)[]) if (layer[k] !== undefined) out[k] = layer[k]!;
  }
  return out;
}

/**
 * One upstream a call can go to: provider × base URL × one API key. Everything a request needs
 * from it (origin, path prefix, auth header) is computed once here, at setup.
 */
export class Target {
  readonly id: string;
  readonly routeName: string;
  readonly provider: ProviderKind;
  readonly origin: string;
  /** Path of base_url without trailing slash, e.g. "/v1" ("" for a bare origin). */
  readonly basePath: string;
  readonly model: string | undefined;
  readonly weight: number;
  readonly tier: number;
  readonly costInputPer1k: number;
  readonly costOutputPer1k: number;
  readonly quality: number;
  readonly maxConcurrent: number;
  readonly timeouts: ResolvedTimeouts;
  readonly keyMasked: string | null;
  /** Header carrying the key upstream (lower-case name), or "" when the key goes in the query or nowhere. */
  readonly authHeaderName: string;
  readonly authHeaderValue: string;
  /** For query auth: "name=value" to append to the upstream query string. */
  readonly authQuery: string;
  readonly extraHeaders: Readonly<Record<string, string>>;
  readonly stats = new TargetStats();

  constructor(
    readonly config: TargetConfig,
    routeName: string,
    /** Position in the route's pool; strategies may index arrays by it. */
    readonly index: number,
    routeTimeouts: ResolvedTimeouts,
  ) {
    this.id = config.id;
    this.routeName = routeName;
    this.provider = config.provider;
    const url = new URL(config.base_url);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.model = config.model;
    this.weight = config.weight;
    this.tier = config.tier;
    this.costInputPer1k = config.cost.input_per_1k;
    this.costOutputPer1k = config.cost.output_per_1k;
    this.quality = config.quality;
    this.maxConcurrent = config.limits.max_concurrent ?? 0;
    this.timeouts = resolveTimeouts(routeTimeouts, config.timeouts);
    this.keyMasked = maskSecret(config.key);
    const auth = config.auth ?? defaultAuth(config.provider);
    const key = config.key ?? "";
    this.authHeaderName = "";
    this.authHeaderValue = "";
    this.authQuery = "";
    if (key && auth.type === "bearer") {
      this.authHeaderName = "authorization";
      this.authHeaderValue = `Bearer ${key}`;
    } else if (key && auth.type === "header") {
      this.authHeaderName = auth.name!.toLowerCase();
      this.authHeaderValue = key;
    } else if (key && auth.type === "query") {
      this.authQuery = `${encodeURIComponent(auth.name!)}=${encodeURIComponent(key)}`;
    }
    this.extraHeaders = Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v]));
  }

  /** Text from the upstream with this target's key masked, should the provider echo it back. */
  maskKeyIn(text: string): string {
    const key = this.config.key;
    if (key && key.length >= 4 && text.includes(key)) return text.split(key).join(this.keyMasked ?? "****");
    return text;
  }

  toJSON() {
    return {
      id: this.id,
      provider: this.provider,
      base_url: this.config.base_url,
      model: this.model ?? null,
      key: this.keyMasked,
      weight: this.weight,
      tier: this.tier,
      cost: this.config.cost,
      quality: this.quality,
      limits: this.config.limits,
      timeouts: this.timeouts,
      stats: this.stats.toJSON(),
    };
  }
}

/** Where each provider expects its key when the config does not say. */
export function defaultAuth(provider: ProviderKind): { type: "bearer" | "header" | "query" | "none"; name?: string } {
  switch (provider) {
    case "anthropic":
      return { type: "header", name: "x-api-key" };
    case "gemini":
      return { type: "header", name: "x-goog-api-key" };
    default:
      return { type: "bearer" };
  }
}
