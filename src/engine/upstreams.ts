import { Pool } from "undici";
import type { Target } from "../core/target.js";

export interface UpstreamOptions {
  /** Max connections per origin. */
  readonly connections: number;
  readonly keepAliveMs: number;
}

/**
 * One undici Pool per (origin, connect timeout), shared by every target on that origin: keys differ,
 * connections don't. Pools are made at setup (never per request) and closed at shutdown.
 */
export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  /** The hot path's lookup: no key string built per call. */
  private readonly byTarget = new WeakMap<Target, Pool>();

  constructor(private readonly options: UpstreamOptions) {}

  /** The pool for a target, created on first use of its origin. */
  poolFor(target: Target): Pool {
    const cached = this.byTarget.get(target);
    if (cached !== undefined && !cached.closed && !cached.destroyed) return cached;
    const key = `${target.address.origin}|${target.timeouts.connect_ms}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(target.address.origin, {
        connections: this.options.connections,
        pipelining: 1,
        keepAliveTimeout: this.options.keepAliveMs,
        keepAliveMaxTimeout: Math.max(this.options.keepAliveMs, 600_000),
        connect: { timeout: target.timeouts.connect_ms || undefined },
        // Per-request timeouts are passed on each request (first byte / idle); these are the pool's ceilings.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.pools.set(key, pool);
    }
    this.byTarget.set(target, pool);
    return pool;
  }

  /** Closes every pool: waits for running requests up to `graceMs`, then destroys what is left. */
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
