/**
 * The config blocks of answers the gateway keeps or shares: the response cache (the store at the
 * top level, `cache`; what a route caches, `routes[].cache`) and the batching of embedding
 * requests (`routes[].batching`). Off unless a route says so.
 */
import { z } from "zod";

const positiveInt = () => z.number({ error: "must be a number" }).int({ error: "must be an integer" }).positive({ error: "must be > 0" });
const nonNegative = () => z.number({ error: "must be a number" }).nonnegative({ error: "must be >= 0" });

/**
 * Where cache entries live: `memory` (an LRU capped in bytes, this process only; the default) or
 * `redis` (shared by every gateway process using the same Redis and prefix; entries expire by
 * Redis TTL). A Redis that is down or slow never fails a request: the cache answers "miss".
 */
export const cacheStoreSchema = z
  .object({
    store: z.enum(["memory", "redis"], { error: "must be memory or redis" }).default("memory"),
    /** memory: the most bytes entries may take together (least recently used go first). */
    max_bytes: positiveInt().default(100 * 1024 * 1024),
    /** The largest answer cached (bytes of its body); a larger one is served, not kept. */
    max_entry_bytes: positiveInt().default(1024 * 1024),
    redis: z
      .object({
        url: z.string({ error: "must be a redis:// URL" }).default("redis://127.0.0.1:6379"),
        /** Every key the cache writes starts with this (several gateways share entries under one prefix). */
        prefix: z.string({ error: "must be a string" }).default("switchyard:cache:"),
        /** A Redis call slower than this counts as a miss (the request goes upstream). */
        timeout_ms: positiveInt().default(200),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type CacheStoreConfig = z.output<typeof cacheStoreSchema>;

/**
 * A route's response cache: an exact match on the normalised request (the canonical form, so the
 * same question from any SDK hits the same entry; the stream flag left out), for `ttl_s`. An
 * entry up to `stale_ttl_s` past its TTL is served, with a Warning header, when every target
 * fails (stale-if-error). `coalesce`: identical non-streamed requests in flight at once share one
 * upstream call. REST routes cache GETs by URL; embeddings are cached as their answer's bytes.
 */
export const routeCacheSchema = z
  .object({
    enabled: z.boolean({ error: "must be true or false" }).default(true),
    /**
     * Routes with the same namespace share their entries (default: the route's name): an OpenAI-
     * and an Anthropic-surface route over the same models, so both SDKs' same question meets one entry.
     */
    namespace: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(200).optional(),
    /** How long an entry is served (0: none kept, identical requests in flight are still coalesced). */
    ttl_s: nonNegative().default(300),
    stale_ttl_s: nonNegative().default(0),
    coalesce: z.boolean({ error: "must be true or false" }).default(true),
  })
  .strict();
export type RouteCacheConfig = z.output<typeof routeCacheSchema>;

/**
 * Embedding requests to the route that arrive within `window_ms` of the first one (up to
 * `max_size` inputs) are sent as one upstream call with an array input, then split back.
 */
export const batchingSchema = z
  .object({
    window_ms: positiveInt().max(1000, { error: "must be <= 1000 (ms)" }).default(20),
    max_size: positiveInt().min(2, { error: "must be >= 2" }).max(2048, { error: "must be <= 2048" }).default(64),
  })
  .strict();
export type BatchingConfig = z.output<typeof batchingSchema>;
