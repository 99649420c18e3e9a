/**
 * How the policies' state travels between the instances of one gateway (src/state/
 * replicated-store.ts keeps the cells; a transport carries their changes):
 *
 *   RedisTransport    (state/redis-transport.ts)    instances anywhere, through one Redis: each key
 *                                                    written through (SET) and its change published
 *   ClusterTransport  (state/cluster-transport.ts)  the workers of `switchyard start --workers N`
 *                                                    without Redis: through the primary process (IPC)
 *
 * States are plain JSON; a key is a cell's key (`breaker/<route>/<target>` …). The last write of a
 * key wins: policy states are verdicts with their own times (open until, benched until), so the
 * newest verdict is the one to follow. A transport never throws at its caller and never blocks a
 * request: publish is fire-and-forget; while the other side is unreachable the instance keeps its
 * own state and tells `onHealth`, and once it is back `snapshot()` resynchronises.
 */
export interface StateTransport {
  /** This instance's name (status, metrics labels). */
  readonly instance: string;
  /** Publishes this instance's new state of a key (its JSON; null: the key was dropped). Best effort. */
  publish(key: string, json: string | null): void;
  /** Every key's current state as the others know it (at start, and after the link came back). */
  snapshot(): Promise<Map<string, string>>;
  /** Called with another instance's change of a key (never with this instance's own). */
  onChange(listener: (key: string, json: string | null) => void): void;
  /** Called when the link goes down (false) or comes back (true). */
  onHealth(listener: (up: boolean) => void): void;
  /** Whether the link is up now. */
  readonly healthy: boolean;
  /** The instances seen lately (this one included), for splitting limits during an outage and for status. */
  instances(): readonly string[];
  close(): Promise<void>;
}
