import { LRUCache } from "lru-cache";
import type { CacheEntry } from "./cache-entry.js";

/**
 * Where cache entries live. `get` answers at once when it can (memory) and with a promise when
 * it cannot (Redis); a store that cannot answer (down, slow) answers undefined: a miss, never an
 * error. `set` is fire-and-forget for the same reason.
 */
export interface CacheStore {
  readonly kind: "memory" | "redis";
  get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry, json: string): void;
  /** Entries and bytes held (memory), or what is known of them (Redis: null). */
  readonly size: { entries: number; bytes: number } | null;
  /** Whether the store answers now (Redis connected). */
  readonly healthy: boolean;
  close(): Promise<void>;
}

/** The default store: an LRU of this process, capped in bytes; entries leave at their stale limit. */
export class MemoryCacheStore implements CacheStore {
  readonly kind = "memory";
  readonly healthy = true;
  private readonly lru: LRUCache<string, CacheEntry>;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, CacheEntry>({ maxSize: maxBytes, sizeCalculation: (e) => Math.max(1, e.bytes) });
  }

  get(key: string): CacheEntry | undefined {
    const e = this.lru.get(key);
    if (e !== undefined && e.staleUntil <= Date.now()) {
      this.lru.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, entry: CacheEntry): void {
    // An entry larger than the whole cache is not kept (lru-cache refuses it too, silently).
    const ttl = entry.staleUntil - Date.now();
    if (ttl > 0) this.lru.set(key, entry, { ttl });
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  close(): Promise<void> {
    this.lru.clear();
    return Promise.resolve();
  }
}
