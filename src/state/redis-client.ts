import { Redis, type RedisOptions } from "ioredis";

/**
 * A Redis connection that is a helper, never a dependency of an answer — how every Redis user in
 * the gateway connects (the cache store, the shared state, the shared limits): commands are never
 * queued while Redis is unreachable (they fail at once), each is bounded by `timeoutMs`,
 * reconnecting goes on in the background (200 ms more per try, at most 2 s apart), and the socket
 * never keeps the process alive by itself (a library gateway that is never closed). `extra`
 * adds a user's own options (autoResubscribe…).
 */
export function helperRedis(url: string, timeoutMs: number, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(1000, timeoutMs),
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
  redis.on("connect", () => redis.stream.unref());
  return redis;
}
