import type { InboundLimits } from "../config/access-schema.js";
import type { Config, TargetConfig } from "../config/schema.js";

/**
 * A worker's share of the config's limits when N workers run without Redis: each limit divided
 * by N, so what all the workers let through together never exceeds the limit (rps 100 on 2
 * workers: 50 each). Counts are rounded down, at least 1 (a limit of 1 request in parallel on 4
 * workers is 1 per worker: the only case where the sum can pass the limit). Covers the inbound
 * limits (the gateway's, each route's, each client key's in the config) and the targets'
 * outbound ones (max_concurrent, the rpm/tpm quota). The state the workers do share (breakers,
 * benches, disabled keys) goes through the primary instead (state/cluster-transport.ts).
 *
 * Objects the split does not change are kept as they are (a REST target's response mapper is
 * keyed by its target object); the result is frozen like any parsed config.
 */
export function splitLimits(config: Config, n: number): Config {
  if (n <= 1) return config;
  const out: Config = {
    ...config,
    limits: splitInbound(config.limits, n),
    client_keys: config.client_keys.map((k) => (hasInbound(k.limits) ? { ...k, limits: splitInbound(k.limits, n) } : k)),
    routes: config.routes.map((r) => ({
      ...r,
      limits: splitInbound(r.limits, n),
      targets: r.targets.map((t) => (hasOutbound(t.limits) ? { ...t, limits: splitOutbound(t.limits, n) } : t)),
    })),
  };
  return deepFreeze(out);
}

function splitInbound(l: InboundLimits, n: number): InboundLimits {
  if (!hasInbound(l)) return l;
  return {
    ...l,
    rps: l.rps === undefined ? undefined : l.rps / n,
    burst: share(l.burst, n),
    rpm: share(l.rpm, n),
    tpm: share(l.tpm, n),
    max_parallel: share(l.max_parallel, n),
  };
}

function splitOutbound(l: TargetConfig["limits"], n: number): TargetConfig["limits"] {
  return { ...l, max_concurrent: share(l.max_concurrent, n), rpm: share(l.rpm, n), tpm: share(l.tpm, n) };
}

function hasInbound(l: InboundLimits): boolean {
  return l.rps !== undefined || l.rpm !== undefined || l.tpm !== undefined || l.max_parallel !== undefined;
}

function hasOutbound(l: TargetConfig["limits"]): boolean {
  return l.max_concurrent !== undefined || l.rpm !== undefined || l.tpm !== undefined;
}

function share(v: number | undefined, n: number): number | undefined {
  return v === undefined ? undefined : Math.max(1, Math.floor(v / n));
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
