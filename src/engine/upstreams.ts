import { type Dispatcher, Pool } from "undici";
import type { Target } from "../core/target.js";

export interface UpstreamOptions {
  /** Max connections per origin. */
  readonly connections: number;
  readonly keepAliveMs: number;
}

/**
 * Makes the dispatcher of one upstream origin. The default is an undici Pool with keep-alive;
 * engine tests give a MockAgent's (the engine never knows which).
 */
export type DispatcherFactory = (origin: string, connectTimeoutMs: number, options: UpstreamOptions) => Dispatcher;

export const poolDispatcher: DispatcherFactory = (origin, connectTimeoutMs, o) =>
  new Pool(origin, {
    connections: o.connections,
    pipelining: 1,
    keepAliveTimeout: o.keepAliveMs,
    keepAliveMaxTimeout: Math.max(o.keepAliveMs, 600_000),
    connect: { timeout: connectTimeoutMs || undefined },
    // Per-request timeouts are passed on each request (first byte / idle); these are the pool's ceilings.
    headersTimeout: 0,
    bodyTimeout: 0,
  });

/**
 * One dispatcher per (origin, connect timeout), shared by every target on that origin: keys
 * differ, connections don't. Made on first use (never per request) and closed at shutdown.
 */
export class Upstreams {
  private readonly pools = new Map<string, Dispatcher>();
  /** The hot path's lookup: no key string built per call. */
  private readonly byTarget = new WeakMap<Target, Dispatcher>();

  constructor(
    private readonly options: UpstreamOptions,
    private readonly make: DispatcherFactory = poolDispatcher,
  ) {}

  /** The dispatcher for a target, created on first use of its origin. */
  poolFor(target: Target): Dispatcher {
    const cached = this.byTarget.get(target);
    if (cached !== undefined) return cached;
    const origin = target.address.origin;
    const key = `${origin}|${target.timeouts.connect_ms}`;
    let pool = this.pools.get(key);
    if (pool === undefined) this.pools.set(key, (pool = this.make(origin, target.timeouts.connect_ms, this.options)));
    this.byTarget.set(target, pool);
    return pool;
  }

  /**
   * Closes the pools of origins no target calls any more (a reload removed them): undici's close
   * lets their requests in flight finish first.
   */
  retain(origins: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      if (origins.has(key.slice(0, key.lastIndexOf("|")))) continue;
      this.pools.delete(key);
      pool.close().catch(() => {});
    }
  }

  /** Closes every dispatcher: waits for running requests up to `graceMs`, then destroys what is left. */
  async close(graceMs = 0): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map(async (p) => {
        let timer: NodeJS.Timeout | undefined;
        let closed = false;
        try {
          await Promise.race([p.close().then(() => (closed = true)), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
        } finally {
          clearTimeout(timer);
        }
        if (!closed) await p.destroy().catch(() => {});
      }),
    );
  }
}
