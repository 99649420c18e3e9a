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

/**
 * A helper connection subscribed to one channel, subscribing again by hand on every connection
 * (ioredis's own resubscribe is off) so that whether it is subscribed now is known: `ready` is
 * the connection up AND subscribed. `changed` is told when that may have changed; `onError` gets
 * the connection's errors (default: `changed` too). A subscribe that fails drops the connection,
 * and the reconnect subscribes again.
 */
export class RedisSubscriber {
  private readonly redis: Redis;
  private subscribed = false;
  private closed = false;

  constructor(
    url: string,
    timeoutMs: number,
    channel: string,
    onMessage: (channel: string, message: string) => void,
    changed: () => void,
    onError: (err: unknown) => void = changed,
  ) {
    const redis = (this.redis = helperRedis(url, timeoutMs, { autoResubscribe: false }));
    redis.on("ready", () =>
      redis.subscribe(channel).then(
        () => {
          this.subscribed = true;
          changed();
        },
        () => {
          if (!this.closed) redis.disconnect(true);
        },
      ),
    );
    redis.on("close", () => {
      this.subscribed = false;
      changed();
    });
    redis.on("end", changed);
    redis.on("error", onError);
    redis.on("message", onMessage);
  }

  get ready(): boolean {
    return this.subscribed && this.redis.status === "ready";
  }

  close(): Promise<void> {
    this.closed = true;
    return quitRedis(this.redis);
  }
}

/** Closes a connection politely when it is up (QUIT), at once otherwise; never throws. */
export async function quitRedis(r: Redis): Promise<void> {
  try {
    if (r.status === "ready") await r.quit();
    else r.disconnect();
  } catch {
    r.disconnect();
  }
}
