import type { OutgoingHttpHeaders } from "node:http";
import type { CacheStoreConfig, RouteCacheConfig } from "../config/cache-schema.js";
import type { Config } from "../config/schema.js";
import type { RequestContext } from "../core/request-context.js";
import { ReadyAnswer, type AnsweredBy, type CacheResult } from "../core/ready-answer.js";
import type { Route } from "../engine/route.js";
import type { Admitted, AdmissionStep } from "../pipeline/admission.js";
import type { Dialect } from "../providers/canonical.js";
import { replayJson, replayStream } from "./answer-replay.js";
import type { CacheEntry } from "./cache-entry.js";
import { CacheFill, type FillOwner, type MadeEntry } from "./cache-fill.js";
import { cacheKey } from "./cache-key.js";
import { type CacheStore, MemoryCacheStore } from "./cache-store.js";
import { RedisCacheStore } from "./redis-cache-store.js";

/** Counts of one route's cache results since start. */
export interface RouteCacheStats {
  hit: number;
  miss: number;
  bypass: number;
  stale: number;
  coalesced: number;
  /** Entries written (complete 200 answers). */
  stored: number;
}

export interface CacheLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Identical requests waiting on one upstream call (coalescing): told the entry it made, or null. */
class Flight {
  private readonly waiters: ((made: CacheEntry | null) => void)[] = [];

  wait(): Promise<CacheEntry | null> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get waiting(): number {
    return this.waiters.length;
  }

  land(entry: CacheEntry | null): void {
    for (const w of this.waiters) w(entry);
  }
}

const SSE_TYPE = "text/event-stream; charset=utf-8";

interface RawRender {
  body: Buffer;
  headers: string[];
}
const JSON_TYPE = "application/json";
const STALE_WARNING = '111 - "Revalidation Failed"';

/**
 * The response cache and request coalescing, as one admission step, for the routes with a
 * `cache` block (no such route: the step is not installed, a request pays nothing):
 *
 *   Cache-Control: no-store   → straight through, nothing kept                     bypass
 *   Cache-Control: no-cache   → straight through, its answer replaces the entry     bypass
 *   fresh entry               → answered from it, in the client's dialect and mode  hit
 *   identical request running → waits for its answer (non-streamed requests)        coalesced
 *   otherwise                 → upstream; a complete 200 becomes the entry         miss
 *   every target fails        → the entry within stale_ttl, with a Warning header   stale
 *
 * A leader whose answer did not become an entry (an error, a broken stream, a client that left)
 * releases its followers to go on by themselves: the first becomes the next leader, so a client
 * that leaves never cancels the others.
 */
export class ResponseCache implements AdmissionStep, FillOwner {
  readonly name = "cache";
  private store: CacheStore;
  private storeConfig: CacheStoreConfig;
  private readonly flights = new Map<string, Flight>();
  private readonly stats = new Map<string, RouteCacheStats>();
  /** Rendered answers of an entry, by client dialect and mode (a hot entry is rendered once). */
  private readonly rendered = new WeakMap<CacheEntry, Map<string, string>>();
  private readonly rawRendered = new WeakMap<CacheEntry, RawRender>();

  constructor(
    private readonly source: { readonly config: Config },
    private readonly log?: CacheLogger,
  ) {
    this.storeConfig = source.config.cache;
    this.store = this.open(this.storeConfig);
  }

  /** Whether any route of this config caches (the step is worth installing). */
  static wanted(config: Config): boolean {
    return config.routes.some((r) => r.cache?.enabled === true);
  }

  admit(ctx: RequestContext, route: Route): Admitted | Promise<Admitted> {
    const rc = route.config.cache;
    if (rc === undefined || !rc.enabled) return;
    if (this.source.config.cache !== this.storeConfig) this.reopen();
    let key: string | null;
    try {
      key = cacheKey(ctx, rc.namespace ?? route.name);
    } catch {
      // A body its dialect refuses: the engine answers the client's mistake as it would uncached.
      return;
    }
    if (key === null) return;
    const directive = requestDirective(ctx.headers["cache-control"]);
    if (directive !== "") {
      this.count(ctx, route.name, "bypass");
      if (directive === "no-cache") this.lead(ctx, route, rc, key, null);
      return;
    }
    const flight = rc.coalesce && !ctx.stream ? this.flights.get(key) : undefined;
    if (flight !== undefined) return this.follow(flight, ctx, route);
    const got = this.store.get(key);
    if (got instanceof Promise) return got.then((entry) => this.decide(ctx, route, rc, key, entry));
    return this.decide(ctx, route, rc, key, got);
  }

  /** Routes' counts since start, and what the store holds (for /admin/status). */
  status(): {
    store: CacheStore["kind"];
    healthy: boolean;
    entries: number | null;
    bytes: number | null;
    routes: Record<string, RouteCacheStats>;
  } {
    const size = this.store.size;
    return {
      store: this.store.kind,
      healthy: this.store.healthy,
      entries: size?.entries ?? null,
      bytes: size?.bytes ?? null,
      routes: Object.fromEntries(this.stats),
    };
  }

  shutdown(): Promise<void> {
    return this.store.close();
  }

  private decide(
    ctx: RequestContext,
    route: Route,
    rc: RouteCacheConfig,
    key: string,
    entry: CacheEntry | undefined,
  ): Admitted | Promise<Admitted> {
    const now = Date.now();
    if (entry !== undefined && entry.freshUntil > now) return this.answer(ctx, route.name, entry, "hit", now);
    // While a shared store answered, an identical request may have become the leader.
    const flight = rc.coalesce && !ctx.stream ? this.flights.get(key) : undefined;
    if (flight !== undefined) return this.follow(flight, ctx, route);
    this.count(ctx, route.name, "miss");
    this.lead(ctx, route, rc, key, entry !== undefined && entry.staleUntil > now ? entry : null);
  }

  private lead(ctx: RequestContext, route: Route, rc: RouteCacheConfig, key: string, stale: CacheEntry | null): void {
    const { max_entry_bytes } = this.source.config.cache;
    ctx.watch = new CacheFill(this, ctx, route.name, key, stale, rc.ttl_s * 1000, rc.stale_ttl_s * 1000, max_entry_bytes);
    if (rc.coalesce && !this.flights.has(key)) this.flights.set(key, new Flight());
  }

  private follow(flight: Flight, ctx: RequestContext, route: Route): Promise<Admitted> {
    return flight.wait().then((entry) => {
      if (entry !== null) return this.answer(ctx, route.name, entry, "coalesced", Date.now());
      // The leader got no answer to share: this one goes on by itself (and may lead the rest).
      return this.admit(ctx, route);
    });
  }

  filled(fill: CacheFill, made: MadeEntry | null): void {
    const flight = this.flights.get(fill.key);
    if (flight !== undefined) {
      this.flights.delete(fill.key);
      flight.land(made?.entry ?? null);
    }
    if (made === null || made.entry.staleUntil <= made.entry.createdAt) return;
    this.store.set(fill.key, made.entry, made.json);
    this.routeStats(fill.route).stored++;
  }

  staleAnswer(fill: CacheFill): ReadyAnswer | null {
    const entry = fill.stale;
    if (entry === null || entry.staleUntil <= Date.now()) return null;
    const ctx = fill.ctx;
    this.routeStats(fill.route).stale++;
    ctx.cache = "stale";
    return this.render(ctx, entry, "stale", Date.now());
  }

  private answer(ctx: RequestContext, route: string, entry: CacheEntry, result: "hit" | "coalesced", now: number): ReadyAnswer {
    this.count(ctx, route, result);
    return this.render(ctx, entry, result === "hit" ? "cache" : "coalesced", now);
  }

  private render(ctx: RequestContext, entry: CacheEntry, by: AnsweredBy, now: number): ReadyAnswer {
    const age = String(Math.max(0, Math.floor((now - entry.createdAt) / 1000)));
    const result = by === "cache" ? "hit" : by;
    if (entry.kind === "raw") {
      const raw = this.raw(entry);
      const headers: OutgoingHttpHeaders = { "x-switchyard-cache": result, age };
      const kept = raw.headers;
      for (let i = 0; i < kept.length; i += 2) headers[kept[i] as string] = kept[i + 1];
      if (by === "stale") headers["warning"] = STALE_WARNING;
      return new ReadyAnswer(entry.status ?? 200, headers, raw.body, by);
    }
    const dialect = ctx.surface as Dialect;
    const stream = ctx.stream;
    const includeUsage = stream && dialect === "openai" && includesUsage(ctx.json);
    const mode = `${dialect}:${stream ? (includeUsage ? "su" : "s") : "j"}`;
    let bodies = this.rendered.get(entry);
    if (bodies === undefined) this.rendered.set(entry, (bodies = new Map<string, string>()));
    let body = bodies.get(mode);
    if (body === undefined) {
      const completion = entry.completion as NonNullable<CacheEntry["completion"]>;
      const model = ctx.model || completion.model;
      const origin = entry.origin;
      if (stream) body = replayStream(dialect, completion, model, includeUsage);
      else body = origin !== undefined && origin.dialect === dialect ? origin.body : replayJson(dialect, completion, model);
      bodies.set(mode, body);
    }
    const headers: OutgoingHttpHeaders = stream
      ? { "content-type": SSE_TYPE, "cache-control": "no-cache", "x-switchyard-cache": result, age }
      : { "content-type": JSON_TYPE, "x-switchyard-cache": result, age };
    if (by === "stale") headers["warning"] = STALE_WARNING;
    return new ReadyAnswer(200, headers, body, by);
  }

  /** A raw entry's bytes and kept headers (name, value, name, value…), decoded once per entry object. */
  private raw(entry: CacheEntry): RawRender {
    let r = this.rawRendered.get(entry);
    if (r === undefined) {
      const headers = Object.entries(entry.headers ?? {}).flat();
      this.rawRendered.set(entry, (r = { body: Buffer.from(entry.body ?? "", "base64"), headers }));
    }
    return r;
  }

  private count(ctx: RequestContext, route: string, result: Exclude<CacheResult, "">): void {
    ctx.cache = result;
    this.routeStats(route)[result]++;
    if (result === "miss" || result === "bypass") (ctx.responseHeaders ??= {})["x-switchyard-cache"] = result;
  }

  private routeStats(route: string): RouteCacheStats {
    let s = this.stats.get(route);
    if (s === undefined) this.stats.set(route, (s = { hit: 0, miss: 0, bypass: 0, stale: 0, coalesced: 0, stored: 0 }));
    return s;
  }

  private reopen(): void {
    const next = this.source.config.cache;
    const before = this.storeConfig;
    this.storeConfig = next;
    if (JSON.stringify(before) === JSON.stringify(next)) return;
    const old = this.store;
    this.store = this.open(next);
    void old.close();
  }

  private open(c: CacheStoreConfig): CacheStore {
    if (c.store === "memory") return new MemoryCacheStore(c.max_bytes);
    return new RedisCacheStore({
      url: c.redis.url,
      prefix: c.redis.prefix,
      timeoutMs: c.redis.timeout_ms,
      onHealth: (healthy, detail) =>
        healthy
          ? this.log?.info({ store: "redis" }, "cache: Redis answers again")
          : this.log?.warn({ store: "redis", detail }, "cache: Redis does not answer; requests go upstream (cache misses) until it does"),
    });
  }
}

/** The request's own cache directive: "no-store", "no-cache" or "". */
function requestDirective(v: string | string[] | undefined): "no-store" | "no-cache" | "" {
  if (v === undefined) return "";
  const s = (Array.isArray(v) ? v.join(",") : v).toLowerCase();
  if (s.includes("no-store")) return "no-store";
  if (s.includes("no-cache") || s.includes("max-age=0")) return "no-cache";
  return "";
}

/** OpenAI's stream_options.include_usage. */
function includesUsage(json: Record<string, unknown> | undefined): boolean {
  const o = json?.["stream_options"];
  return o !== null && typeof o === "object" && (o as Record<string, unknown>)["include_usage"] === true;
}
