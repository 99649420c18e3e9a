import type { StateCell, StateOp, StateStore } from "./state-store.js";
import type { StateTransport } from "./state-transport.js";

/**
 * How long before a lost link was noticed a local change may have been lost with it, ms: changes
 * this recent are published again when the link comes back (a publish in flight when Redis died).
 */
const LOST_IN_FLIGHT_MS = 5000;

/** Where the shared state stands, for status and metrics. */
export interface SharedStateInfo {
  /** This instance's name. */
  readonly instance: string;
  /** Whether the link to the others is up now (false: serving on local state). */
  readonly healthy: boolean;
  /** The instances seen lately, this one included. */
  readonly instances: readonly string[];
  /** What carries the state ("redis", "cluster"). */
  readonly store: string;
}

export interface ReplicatedStoreOptions {
  /** What carries the state, for status ("redis", "cluster"). */
  kind: string;
  /**
   * Whether per-instance limits are divided by the live instances (`sharers`): true across
   * machines (Redis); false for `--workers`, whose configs are split before they start.
   */
  splitsLimits?: boolean;
  /** Told once when the link goes down and once when it is back (after it went down). */
  onHealth?: (up: boolean) => void;
  /** Told of a shared state that is not JSON (ignored) or of a resync that failed (tried again later). */
  onError?: (err: Error, key?: string) => void;
}

class ReplicatedCell<S> implements StateCell<S> {
  /** The policy's initial state and its JSON, once a policy asked for the cell (a remote-only key has none yet). */
  initial: S | undefined = undefined;
  initialJson: string | undefined = undefined;
  /** The store's change counter at this cell's last change, local or remote. */
  seq = 0;
  /** Epoch ms of this instance's last change of the cell; 0 when the last change came from elsewhere. */
  localAt = 0;
  constructor(
    readonly key: string,
    public value: S,
  ) {}
}

/**
 * The policies' state held in memory exactly as MemoryStore holds it (a read is a field read, an
 * operation runs here at once), with every change sent to the other instances through a transport:
 *
 *   apply ── state changed ──► cell.value set ──► transport.publish(key, json)     fire and forget
 *   transport.onChange(key, json) ──► cell.value = parsed ──► onRemoteChange listeners
 *   link up (start, and every reconnect) ──► publish what changed here while it was down
 *                                        ──► snapshot() adopted (resync)
 *   link down ──► nothing stops: the cells go on changing here, and are published when it is back
 *
 * A remote state equal to a cell's initial state puts back the policy's own initial object, so a
 * policy comparing with its constant (`s === FREE`) still sees "nothing learnt". A remote null (the
 * target was forgotten elsewhere) puts the cell back to its initial state.
 */
export class ReplicatedStore implements StateStore {
  private readonly cells = new Map<string, ReplicatedCell<unknown>>();
  private readonly listeners: ((key: string) => void)[] = [];
  private seq = 0;
  /** Epoch ms the link went down; 0 while it is up (or has not been up yet). */
  private downAt = 0;
  /** The link as last told: undefined before the first word (starting up). */
  private up: boolean | undefined = undefined;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  private closed = false;

  constructor(
    /** What carries the changes (read by status and metrics). */
    readonly transport: StateTransport,
    private readonly options: ReplicatedStoreOptions,
  ) {
    transport.onChange((key, json) => this.remote(key, json));
    transport.onHealth((up) => this.health(up));
    if (transport.healthy) this.health(true);
  }

  cell<S>(key: string, initial: S): StateCell<S> {
    let c = this.cells.get(key) as ReplicatedCell<S> | undefined;
    if (c === undefined) this.cells.set(key, (c = new ReplicatedCell<S>(key, initial)));
    if (c.initialJson === undefined) {
      c.initial = initial;
      c.initialJson = JSON.stringify(initial);
      // A state learnt before the policy asked that equals its initial state: the policy's own object.
      if (c.value !== initial && JSON.stringify(c.value) === c.initialJson) c.value = initial;
    }
    return c;
  }

  apply<S, A>(cell: StateCell<S>, op: StateOp<S, A>, arg: A, now: number): S {
    const c = cell as ReplicatedCell<S>;
    const next = op.run(c.value, arg, now);
    if (next === c.value) return next;
    c.value = next;
    c.seq = ++this.seq;
    c.localAt = Date.now();
    // A cell of a forgotten target, still held by a retiring generation's policy: not published.
    if (this.cells.get(c.key) === c) this.transport.publish(c.key, JSON.stringify(next));
    return next;
  }

  forgetTarget(route: string, target: string): void {
    const suffix = `/${route}/${target}`;
    for (const key of this.cells.keys())
      if (key.endsWith(suffix) && key.indexOf("/") === key.length - suffix.length) {
        this.cells.delete(key);
        this.transport.publish(key, null);
      }
  }

  onRemoteChange(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  sharers(): number {
    return this.options.splitsLimits === true ? Math.max(1, this.transport.instances().length) : 1;
  }

  /** The instance, the link's health and the instances seen (status, metrics). */
  info(): SharedStateInfo {
    const t = this.transport;
    return { instance: t.instance, healthy: t.healthy, instances: t.instances(), store: this.options.kind };
  }

  /** Every key and its state (tests, diagnostics). */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.cells].map(([k, c]) => [k, c.value]));
  }

  /** Resolves once the resync in progress (if any) is over (tests). */
  async settled(): Promise<void> {
    while (this.resyncing !== undefined) await this.resyncing;
  }

  /** Stops listening and closes the transport; cells keep answering reads (calls still finishing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settled();
    await this.transport.close();
  }

  /** A change made by another instance. */
  private remote(key: string, json: string | null): void {
    if (this.closed) return;
    const c = this.cells.get(key);
    if (json === null) {
      if (c === undefined) return;
      if (c.initialJson === undefined) this.cells.delete(key);
      else this.set(c, c.initial);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (err) {
      this.options.onError?.(err as Error, key);
      return;
    }
    if (c === undefined) {
      const made = new ReplicatedCell<unknown>(key, value);
      made.seq = ++this.seq;
      this.cells.set(key, made);
      return this.told(key);
    }
    this.set(c, json === c.initialJson ? c.initial : value);
  }

  private set(c: ReplicatedCell<unknown>, value: unknown): void {
    c.value = value;
    c.seq = ++this.seq;
    c.localAt = 0;
    this.told(c.key);
  }

  private told(key: string): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]?.(key);
  }

  private health(up: boolean): void {
    if (this.closed || up === this.up) return;
    if (!up) {
      if (this.downAt === 0) this.downAt = Date.now();
      this.up = false;
      this.options.onHealth?.(false);
      return;
    }
    if (this.up === false) this.options.onHealth?.(true);
    this.up = true;
    void this.resync();
  }

  /**
   * Publishes what changed here while the link was down (and just before it was noticed), then
   * adopts the others' states. A cell changed here or remotely while the snapshot was on its way
   * keeps its newer state; a state of ours the snapshot lacks (Redis restarted empty) is published.
   */
  private resync(): Promise<void> {
    if (this.resyncing !== undefined) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    const run = async () => {
      do {
        this.resyncAgain = false;
        await this.resyncOnce();
      } while (this.resyncAgain && !this.closed && this.transport.healthy);
    };
    this.resyncing = run().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private async resyncOnce(): Promise<void> {
    const since = this.downAt === 0 ? 0 : this.downAt - LOST_IN_FLIGHT_MS;
    for (const c of this.cells.values())
      if (c.localAt !== 0 && c.localAt >= since && since !== 0) this.transport.publish(c.key, JSON.stringify(c.value));
    const start = this.seq;
    let remote: Map<string, string>;
    try {
      remote = await this.transport.snapshot();
    } catch (err) {
      // Still down in practice: the next "up" tries again; keep downAt so our changes are published then.
      this.options.onError?.(err as Error);
      return;
    }
    if (this.closed) return;
    this.downAt = 0;
    for (const [key, json] of remote) {
      const c = this.cells.get(key);
      if (c !== undefined && c.seq > start) continue;
      if (c !== undefined && json === JSON.stringify(c.value)) continue;
      this.remote(key, json);
    }
    for (const c of this.cells.values())
      if (c.seq <= start && !remote.has(c.key) && c.initialJson !== undefined && JSON.stringify(c.value) !== c.initialJson)
        this.transport.publish(c.key, JSON.stringify(c.value));
  }
}

/** The shared state's standing when the store is a replicated one; undefined for a store of this process alone. */
export function sharedStateOf(store: unknown): SharedStateInfo | undefined {
  return store instanceof ReplicatedStore ? store.info() : undefined;
}
