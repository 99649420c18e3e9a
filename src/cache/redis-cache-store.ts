import type { Redis } from "ioredis";
import { helperRedis, quitRedis } from "../state/redis-client.js";
import { type CacheEntry, parseEntry } from "./cache-entry.js";
import type { CacheStore } from "./cache-store.js";

export interface RedisCacheOptions {
  url: string;
  /** Every key starts with it. */
  prefix: string;
  /** A call slower than this is a miss (get) or given up (set). */
  timeoutMs: number;
  /** Told once when Redis stops answering, and once when it answers again. */
  onHealth?: (healthy: boolean, detail: string) => void;
}

/**
 * Cache entries in Redis, shared by every gateway using the same server and prefix: a key per
 * entry (`<prefix><sha256>`), its JSON as the value, expiring by Redis's own TTL at the entry's
 * stale limit. Redis is a helper here, never a dependency of an answer: no offline queue, every
 * call bounded by `timeoutMs`, and any failure a miss; the client reconnects in the background.
 */
export class RedisCacheStore implements CacheStore {
  readonly kind = "redis";
  readonly size = null;
  private readonly redis: Redis;
  private up = true;

  constructor(private readonly options: RedisCacheOptions) {
    this.redis = helperRedis(options.url, options.timeoutMs);
    this.redis.on("error", (err: Error) => this.health(false, err.message));
    this.redis.on("ready", () => this.health(true, "connected"));
  }

  get healthy(): boolean {
    return this.up && this.redis.status === "ready";
  }

  get(key: string): Promise<CacheEntry | undefined> | undefined {
    if (this.redis.status !== "ready") return undefined;
    return this.redis.get(this.options.prefix + key).then(
      (text) => (text === null ? undefined : parseEntry(text)),
      (err: Error) => {
        this.health(false, err.message);
        return undefined;
      },
    );
  }

  set(key: string, entry: CacheEntry, json: string): void {
    const ttl = Math.ceil(entry.staleUntil - Date.now());
    if (ttl <= 0 || this.redis.status !== "ready") return;
    this.redis.set(this.options.prefix + key, json, "PX", ttl).then(
      () => this.health(true, "answering"),
      (err: Error) => this.health(false, err.message),
    );
  }

  close(): Promise<void> {
    return quitRedis(this.redis);
  }

  private health(up: boolean, detail: string): void {
    if (up === this.up) return;
    this.up = up;
    this.options.onHealth?.(up, detail);
  }
}
