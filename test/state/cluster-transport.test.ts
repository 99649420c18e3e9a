import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusterHub } from "../../src/state/cluster-hub.js";
import { ClusterTransport, type StateMessage, type WorkerChannel } from "../../src/state/cluster-transport.js";
import { ReplicatedStore } from "../../src/state/replicated-store.js";
import { stateOp } from "../../src/state/state-store.js";
import { eventually } from "../helpers/wait.js";

/**
 * A worker's pipe to the hub, in this process: messages go through structuredClone (as IPC
 * serialises them) and arrive on a later turn of the event loop, in order, like a real pipe.
 */
class Pipe implements WorkerChannel {
  connected = true;
  private readonly listeners = new Set<(m: unknown) => void>();
  private readonly disconnects: (() => void)[] = [];

  constructor(
    private readonly hub: ClusterHub,
    readonly id: number,
  ) {
    hub.join(id, { send: (m) => this.deliver(m) });
  }

  send(message: StateMessage): void {
    if (!this.connected) return;
    const copy = structuredClone(message);
    setImmediate(() => this.hub.receive(this.id, copy));
  }
  onMessage(l: (m: unknown) => void): void {
    this.listeners.add(l);
  }
  offMessage(l: (m: unknown) => void): void {
    this.listeners.delete(l);
  }
  onDisconnect(l: () => void): void {
    this.disconnects.push(l);
  }

  /** The primary went away. */
  disconnect(): void {
    this.connected = false;
    this.hub.leave(this.id);
    for (const l of this.disconnects) l();
  }

  private deliver(m: StateMessage): void {
    if (!this.connected) return;
    const copy = structuredClone(m);
    setImmediate(() => {
      for (const l of this.listeners) l(copy);
    });
  }
}

function worker(hub: ClusterHub, id: number, name: string) {
  const pipe = new Pipe(hub, id);
  const transport = new ClusterTransport(name, pipe);
  const changes: [string, string | null][] = [];
  transport.onChange((k, j) => changes.push([k, j]));
  return { pipe, transport, changes };
}

test("a worker's change reaches every other worker (never itself) and the hub keeps the latest", async () => {
  const hub = new ClusterHub();
  const a = worker(hub, 1, "a");
  const b = worker(hub, 2, "b");
  const c = worker(hub, 3, "c");
  a.transport.publish("breaker/chat/x", '{"state":"open"}');
  await eventually(() => b.changes.length === 1 && c.changes.length === 1, 2000, "the change at b and c");
  assert.deepEqual(b.changes, [["breaker/chat/x", '{"state":"open"}']]);
  assert.deepEqual(c.changes, [["breaker/chat/x", '{"state":"open"}']]);
  assert.deepEqual(a.changes, []);
  // Last write wins; null drops the key.
  b.transport.publish("breaker/chat/x", '{"state":"closed"}');
  b.transport.publish("bench/chat/y", '{"until":5}');
  await eventually(() => a.changes.length === 2, 2000, "b's changes at a");
  assert.deepEqual(Object.fromEntries(await c.transport.snapshot()), {
    "breaker/chat/x": '{"state":"closed"}',
    "bench/chat/y": '{"until":5}',
  });
  c.transport.publish("bench/chat/y", null);
  await eventually(() => a.changes.length === 3, 2000, "the drop at a");
  assert.deepEqual(a.changes[2], ["bench/chat/y", null]);
  assert.equal(hub.size, 1);
  for (const w of [a, b, c]) await w.transport.close();
});

test("a worker started later (a restarted one) finds what the others learnt in its snapshot", async () => {
  const hub = new ClusterHub();
  const a = worker(hub, 1, "a");
  a.transport.publish("disabled/chat/k1", '{"disabled":true}');
  await eventually(() => hub.size === 1, 2000, "the hub to hold the key");
  a.pipe.disconnect(); // a died; the hub keeps what it learnt
  const b = worker(hub, 2, "b");
  assert.deepEqual([...(await b.transport.snapshot())], [["disabled/chat/k1", '{"disabled":true}']]);
  await b.transport.close();
});

test("instances() is the live workers: each one's hello adds it, a worker that leaves is dropped", async () => {
  const hub = new ClusterHub();
  const a = worker(hub, 1, "host-1");
  assert.deepEqual(a.transport.instances(), ["host-1"]);
  const b = worker(hub, 2, "host-2");
  await eventually(() => a.transport.instances().length === 2 && b.transport.instances().length === 2, 2000, "both to see both");
  assert.deepEqual([...a.transport.instances()].sort(), ["host-1", "host-2"]);
  b.pipe.disconnect();
  await eventually(() => a.transport.instances().length === 1, 2000, "a to see b leave");
  assert.deepEqual(hub.instances(), ["host-1"]);
  await a.transport.close();
});

test("a closed pipe: unhealthy, told once, a snapshot in flight and later ones rejected, publish dropped", async () => {
  const hub = new ClusterHub();
  const a = worker(hub, 1, "a");
  const health: boolean[] = [];
  a.transport.onHealth((up) => health.push(up));
  assert.equal(a.transport.healthy, true);
  // The hub never answers this one: the pipe closes first.
  const inFlight = a.transport.snapshot();
  a.pipe.disconnect();
  await assert.rejects(inFlight, /closed/);
  assert.equal(a.transport.healthy, false);
  assert.deepEqual(health, [false]);
  await assert.rejects(a.transport.snapshot(), /closed/);
  a.transport.publish("k", "1");
  assert.equal(hub.size, 0);
  assert.deepEqual(a.transport.instances(), ["a"]);
  await a.transport.close();
});

test("two ReplicatedStores over the hub: an open breaker applied in one worker is the state in the other", async () => {
  const hub = new ClusterHub();
  const a = new ReplicatedStore(worker(hub, 1, "a").transport, { kind: "cluster" });
  const b = new ReplicatedStore(worker(hub, 2, "b").transport, { kind: "cluster" });
  type Breaker = { state: "closed" | "open"; until: number };
  const CLOSED: Breaker = { state: "closed", until: 0 };
  const open = stateOp<Breaker, number>("breaker.open", (_s, until) => ({ state: "open", until }));
  const ca = a.cell("breaker/chat/x", CLOSED);
  const cb = b.cell("breaker/chat/x", CLOSED);
  const changed: string[] = [];
  b.onRemoteChange((k) => changed.push(k));
  a.apply(ca, open, 12345, 0);
  await eventually(() => cb.value.state === "open", 2000, "b's cell to open");
  assert.deepEqual(cb.value, { state: "open", until: 12345 });
  assert.deepEqual(changed, ["breaker/chat/x"]);
  assert.deepEqual(b.info(), { instance: "b", healthy: true, instances: b.info().instances, store: "cluster" });
  await a.close();
  await b.close();
});
