import type { StateTransport } from "./state-transport.js";

/**
 * The policies' state shared by the workers of `switchyard start --workers N` without Redis: a
 * worker's change goes up to the primary (state/cluster-hub.ts), which keeps the latest JSON of
 * every key and sends the change down to the other workers.
 *
 *   worker A ── pub(key, json) ──► primary (hub: key → json) ── chg(key, json) ──► workers B, C …
 *   worker   ── snap(id) ────────► primary ── snap(id, entries) ──► that worker   (start, resync)
 *   primary  ── members(names) ──► every worker, whenever one joins or leaves
 *
 * IPC is a pipe to the parent: it does not fail on its own, it only closes (the primary exited,
 * and then cluster ends the worker too). Every message carries `sy`, so the cluster's own
 * messages and the workers' control messages (drain, reload) share the channel without confusion.
 */

/** The state messages between a worker and the primary. */
export type StateMessage =
  | { sy: "hello"; instance: string }
  | { sy: "pub"; key: string; json: string | null }
  | { sy: "chg"; key: string; json: string | null }
  | { sy: "snap"; id: number; entries?: [string, string][] }
  | { sy: "members"; instances: string[] };

/** A worker's end of the pipe to the primary: `process` in a worker (see processChannel), a pair in tests. */
export interface WorkerChannel {
  /** Whether the pipe is open. */
  readonly connected: boolean;
  /** Sends a message; never throws (a closed pipe drops it). */
  send(message: StateMessage): void;
  /** Every message that arrives (state ones and others). */
  onMessage(listener: (message: unknown) => void): void;
  offMessage(listener: (message: unknown) => void): void;
  /** Called once, when the pipe closes. */
  onDisconnect(listener: () => void): void;
}

/** How long a snapshot waits for the primary, ms. */
const SNAPSHOT_TIMEOUT_MS = 2000;

/** A send over a closed pipe is told here (not as an 'error' event, which would end the process). */
function ignoreSendError(): void {}

/** The worker's own process as its channel to the primary (cluster workers and forked children have one). */
export function processChannel(): WorkerChannel {
  return {
    get connected() {
      return process.connected === true;
    },
    send(message) {
      if (process.send !== undefined && process.connected) process.send(message, undefined, undefined, ignoreSendError);
    },
    onMessage: (listener) => void process.on("message", listener),
    offMessage: (listener) => void process.off("message", listener),
    onDisconnect: (listener) => void process.once("disconnect", listener),
  };
}

const STATE_KINDS: ReadonlySet<unknown> = new Set(["hello", "pub", "chg", "snap", "members"]);

/** Whether an IPC message is one of the state messages (the workers' control messages are not). */
export function isStateMessage(m: unknown): m is StateMessage {
  return typeof m === "object" && m !== null && STATE_KINDS.has((m as { sy?: unknown }).sy);
}

interface PendingSnapshot {
  resolve(entries: Map<string, string>): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A worker's StateTransport to the primary's hub (see the sketch above). */
export class ClusterTransport implements StateTransport {
  private readonly changeListeners: ((key: string, json: string | null) => void)[] = [];
  private readonly healthListeners: ((up: boolean) => void)[] = [];
  private readonly pending = new Map<number, PendingSnapshot>();
  private members: readonly string[];
  private nextId = 1;
  private up: boolean;
  private closed = false;
  private readonly receive = (m: unknown) => this.onMessage(m);

  constructor(
    readonly instance: string,
    private readonly channel: WorkerChannel = processChannel(),
  ) {
    this.members = [instance];
    this.up = channel.connected;
    channel.onMessage(this.receive);
    channel.onDisconnect(() => this.down());
    channel.send({ sy: "hello", instance });
  }

  get healthy(): boolean {
    return this.up;
  }

  publish(key: string, json: string | null): void {
    if (this.up) this.channel.send({ sy: "pub", key, json });
  }

  snapshot(): Promise<Map<string, string>> {
    if (!this.up) return Promise.reject(new Error("cluster state: the link to the primary is closed"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`cluster state: the primary sent no snapshot in ${SNAPSHOT_TIMEOUT_MS} ms`));
      }, SNAPSHOT_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      this.channel.send({ sy: "snap", id });
    });
  }

  onChange(listener: (key: string, json: string | null) => void): void {
    this.changeListeners.push(listener);
  }

  onHealth(listener: (up: boolean) => void): void {
    this.healthListeners.push(listener);
  }

  instances(): readonly string[] {
    return this.members;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.channel.offMessage(this.receive);
    this.failPending(new Error("cluster state: the transport is closed"));
    return Promise.resolve();
  }

  private onMessage(m: unknown): void {
    if (!isStateMessage(m)) return;
    switch (m.sy) {
      case "chg":
        for (const l of this.changeListeners) l(m.key, m.json);
        return;
      case "snap": {
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(new Map(m.entries ?? []));
        return;
      }
      case "members":
        // Always this instance among them, even in the moment before the hub has seen its hello.
        this.members = m.instances.includes(this.instance) ? m.instances : [...m.instances, this.instance];
        return;
      default:
        return;
    }
  }

  private down(): void {
    if (!this.up) return;
    this.up = false;
    this.members = [this.instance];
    this.failPending(new Error("cluster state: the link to the primary closed"));
    for (const l of this.healthListeners) l(false);
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
