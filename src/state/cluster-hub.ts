import { isStateMessage, type StateMessage } from "./cluster-transport.js";

/** One worker as the hub sees it: how to send it a message (a cluster Worker's `send`, guarded). */
export interface HubPeer {
  send(message: StateMessage): void;
}

/**
 * The primary's side of the workers' shared state (state/cluster-transport.ts is the workers'):
 * the latest JSON of every key, last write wins, and the set of workers with their instance names.
 * A worker's change is kept and sent on to every other worker; a snapshot is the whole map; a
 * worker that joins or leaves changes everyone's member list. Holds no policy logic: states are
 * opaque JSON, so the primary stays small and runs no gateway.
 *
 * The map outlives the workers: a worker restarted after a crash asks for the snapshot and
 * starts with what the others learnt (an open breaker, a benched key) instead of from nothing.
 */
export class ClusterHub {
  private readonly states = new Map<string, string>();
  private readonly peers = new Map<number, { peer: HubPeer; instance: string | undefined }>();

  /** A worker that was just forked. */
  join(id: number, peer: HubPeer): void {
    this.peers.set(id, { peer, instance: undefined });
  }

  /** A worker that exited or disconnected: its name leaves the member list. */
  leave(id: number): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    this.peers.delete(id);
    if (p.instance !== undefined) this.announceMembers();
  }

  /** A message from a worker; anything not a state message is left to the caller (returns false). */
  receive(id: number, message: unknown): boolean {
    if (!isStateMessage(message)) return false;
    const from = this.peers.get(id);
    if (from === undefined) return true;
    switch (message.sy) {
      case "hello":
        from.instance = message.instance;
        this.announceMembers();
        return true;
      case "pub": {
        const { key, json } = message;
        if (json === null) this.states.delete(key);
        else this.states.set(key, json);
        const change: StateMessage = { sy: "chg", key, json };
        for (const [other, p] of this.peers) if (other !== id) p.peer.send(change);
        return true;
      }
      case "snap":
        from.peer.send({ sy: "snap", id: message.id, entries: [...this.states] });
        return true;
      default:
        return true;
    }
  }

  /** The instance names of the workers that said hello. */
  instances(): string[] {
    const out: string[] = [];
    for (const p of this.peers.values()) if (p.instance !== undefined) out.push(p.instance);
    return out;
  }

  /** How many keys the hub holds (status, tests). */
  get size(): number {
    return this.states.size;
  }

  private announceMembers(): void {
    const m: StateMessage = { sy: "members", instances: this.instances() };
    for (const p of this.peers.values()) p.peer.send(m);
  }
}
