import type { CostConfig, ProviderKind, TargetConfig, Timeouts } from "../config/schema.js";
import { maskSecret } from "../config/mask.js";
import type { ProviderAdapter, WireFormat } from "../providers/adapter.js";
import { listedPrice, type Price, priceOf } from "../providers/prices.js";
import { adapterOf } from "../providers/registry.js";
import { VendorPath } from "../providers/rest/vendor-path.js";
import type { OnUnsupported } from "../providers/unsupported.js";
import { TargetAddress } from "./target-address.js";
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
    for (const k of Object.keys(out) as (keyof ResolvedTimeouts)[]) {
      const v = layer[k];
      if (v !== undefined) out[k] = v;
    }
  }
  return out;
}

/**
 * One upstream a call can go to: provider × base URL × one API key. Everything a call needs from
 * it (address, auth header, fixed headers) is computed once here, at setup, from its config and
 * its provider's adapter.
 */
export class Target {
  readonly id: string;
  readonly routeName: string;
  readonly provider: ProviderKind;
  /** What Switchyard knows about the provider: paths, auth default, health call, rate limits. */
  readonly adapter: ProviderAdapter;
  /** The wire format the target speaks. */
  readonly wire: WireFormat;
  readonly address: TargetAddress;
  readonly model: string | undefined;
  readonly weight: number;
  readonly tier: number;
  readonly costInputPer1k: number;
  readonly costOutputPer1k: number;
  readonly quality: number;
  readonly maxConcurrent: number;
  readonly timeouts: ResolvedTimeouts;
  readonly onUnsupported: OnUnsupported;
  /** Ask an OpenAI-format upstream for usage in streams (stream_usage). */
  readonly streamUsage: boolean;
  readonly keyMasked: string | null;
  /** Header carrying the key upstream (lower-case name), or "" when the key goes in the query or nowhere. */
  readonly authHeaderName: string;
  readonly authHeaderValue: string;
  /** The target's own `headers` (lower-case names): sent on every call, over the client's. */
  readonly headers: Readonly<Record<string, string>>;
  /** The adapter's headers the target does not set (anthropic-version): sent unless the client sent its own. */
  readonly defaultHeaders: Readonly<Record<string, string>>;
  readonly stats: TargetStats;
  /** Removed from the gateway by a reload: takes no new attempts while its calls in flight finish. */
  retired = false;
  /** The target's configured price, else its fixed model's listed one; undefined: it depends on the client's model. */
  private readonly fixedPrice: Price | null | undefined;
  private readonly pricesByModel = new Map<string, Price | null>();

  constructor(
    readonly config: TargetConfig,
    routeName: string,
    /** Position in the route's pool; strategies may index arrays by it. */
    readonly index: number,
    routeTimeouts: ResolvedTimeouts,
    /** The stats of the same target in the previous generation (a reload), to carry on with. */
    stats: TargetStats = new TargetStats(),
  ) {
    this.stats = stats;
    this.id = config.id;
    this.routeName = routeName;
    this.provider = config.provider;
    this.adapter = adapterOf(config.provider);
    this.wire = this.adapter.wire;
    this.model = config.model;
    this.weight = config.weight;
    this.tier = config.tier;
    const configured = configuredPrice(config.cost);
    this.fixedPrice = configured ?? (config.model === undefined ? undefined : (listedPrice(config.model) ?? null));
    this.costInputPer1k = (this.fixedPrice?.input ?? 0) / 1000;
    this.costOutputPer1k = (this.fixedPrice?.output ?? 0) / 1000;
    this.quality = config.quality;
    this.maxConcurrent = config.limits.max_concurrent ?? 0;
    this.timeouts = resolveTimeouts(routeTimeouts, config.timeouts);
    this.onUnsupported = config.on_unsupported;
    this.streamUsage = config.stream_usage;
    this.keyMasked = maskSecret(config.key);
    const auth = config.auth ?? this.adapter.auth;
    const key = config.key ?? "";
    let headerName = "";
    let headerValue = "";
    let keyQuery = "";
    if (key && auth.type === "bearer") {
      headerName = "authorization";
      headerValue = `Bearer ${key}`;
    } else if (key && auth.type === "header" && auth.name) {
      headerName = auth.name.toLowerCase();
      headerValue = key;
    } else if (key && auth.type === "query" && auth.name) {
      keyQuery = `${encodeURIComponent(auth.name)}=${encodeURIComponent(key)}`;
    }
    this.authHeaderName = headerName;
    this.authHeaderValue = headerValue;
    this.headers = lowerCaseKeys(config.headers);
    const defaults: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.adapter.headers)) if (this.headers[k] === undefined) defaults[k] = v;
    this.defaultHeaders = defaults;
    const vendorPath = this.wire === "rest" ? new VendorPath(config.id, config.path, config.params) : null;
    this.address = new TargetAddress(config.base_url, { ...this.adapter.query, ...config.query }, keyQuery, vendorPath);
  }

  /** Text from the upstream with this target's key masked, should the provider echo it back. */
  maskKeyIn(text: string): string {
    const key = this.config.key;
    if (key && key.length >= 4 && text.includes(key)) return text.split(key).join(this.keyMasked ?? "****");
    return text;
  }

  /**
   * What answers of this target cost, for the model it was asked for (the upstream model): its
   * configured prices, else the price table's for the model; null when neither knows it.
   */
  priceFor(model: string): Price | null {
    if (this.fixedPrice !== undefined) return this.fixedPrice;
    let p = this.pricesByModel.get(model);
    if (p === undefined) {
      p = listedPrice(model) ?? null;
      // Client-chosen names: keep the memo bounded.
      if (this.pricesByModel.size < 256) this.pricesByModel.set(model, p);
    }
    return p;
  }

  /** How answers and errors name the target: `target claude (anthropic)`. */
  get label(): string {
    return `target ${this.id} (${this.provider})`;
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
      cost: this.config.cost ?? null,
      price_per_1m: this.fixedPrice === undefined ? "by model, from the price table" : priceJSON(this.fixedPrice),
      quality: this.quality,
      limits: this.config.limits,
      timeouts: this.timeouts,
      stats: this.stats.toJSON(),
      windows: this.stats.window.toJSON(Date.now(), this.maxConcurrent),
    };
  }
}

function priceJSON(p: Price | null) {
  return p === null ? null : { input: p.input, output: p.output, cached_input: p.cachedInput, cache_write: p.cacheWrite };
}

/** A target's cost block as per-1M prices; null when it sets none. */
function configuredPrice(cost: CostConfig | undefined): Price | null {
  if (cost === undefined || Object.values(cost).every((v) => v === undefined)) return null;
  const per1m = (part: "input" | "output" | "cached_input" | "cache_write"): number | undefined => {
    const k = cost[`${part}_per_1k`];
    return k !== undefined ? k * 1000 : cost[`${part}_per_1m`];
  };
  return priceOf({
    input: per1m("input") ?? 0,
    output: per1m("output") ?? 0,
    cached_input: per1m("cached_input"),
    cache_write: per1m("cache_write"),
  });
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
