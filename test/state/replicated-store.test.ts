import { test } from "node:test";
import assert from "node:assert/strict";
import { ReplicatedStore, sharedStateOf } from "../../src/state/replicated-store.js";
import { MemoryStore } from "../../src/state/memory-store.js";
import { stateOp } from "../../src/state/state-store.js";
import type { StateTransport } from "../../src/state/state-transport.js";

/**
 * The replicated store's own logic, over a transport of this file: a hub holding the keys (what
 * Redis holds) and delivering each change to the other members at once, with a switch per member
 * that cuts its link. The Redis transport is tested against a real Redis in redis-transport.test.ts.
 */
class Hub {
  readonly keys = new Map<string, string>();
  readonly members: HubTransport[] = [];
  join(name: string): HubTransport {
    const t = new HubTransport(name, this);
    this.members.push(t);
    return t;
  }
}

class HubTransport implements StateTransport {
  healthy = true;
  readonly published: [string, string | null][] = [];
  private readonly changes: ((key: string, json: string | null) => void)[] = [];
  private readonly healths: ((up: boolean) => void)[] = [];
  constructor(
    readonly instance: string,
    private readonly hub: Hub,
  ) {}
  publish(key: string, json: string | null): void {
    if (!this.healthy) return;
    this.published.push([key, json]);
    if (json === null) this.hub.keys.delete(key);
    else this.hub.keys.set(key, json);
    for (const m of this.hub.members) if (m !== this && m.healthy) for (const l of m.changes) l(key, json);
  }
  snapshot(): Promise<Map<string, string>> {
    return this.healthy ? Promise.resolve(new Map(this.hub.keys)) : Promise.reject(new Error("down"));
  }
  onChange(listener: (key: string, json: string | null) => void): void {
    this.changes.push(listener);
  }
  onHealth(listener: (up: boolean) => void): void {
    this.healths.push(listener);
  }
  instances(): readonly string[] {
    return this.hub.members.filter((m) => m.healthy).map((m) => m.instance);
  }
  setHealthy(up: boolean): void {
    this.healthy = up;
    for (const l of this.healths) l(up);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Gate {
  readonly open: boolean;
  readonly until: number;
}
const CLOSED: Gate = Object.freeze({ open: false, until: 0 });
const openUntil = stateOp<Gate, number>("gate.open", (s, until) => (s.open && s.until === until ? s : { open: true, until }));
const reset = stateOp<Gate>("gate.reset", (s) => (s.open ? CLOSED : s));

test("a change made on one instance is read on the others, and their listeners are told", async () => {
  const hub = new Hub();
  const a = new ReplicatedStore(hub.join("a"), { kind: "hub" });
  const b = new ReplicatedStore(hub.join("b"), { kind: "hub" });
  const ca = a.cell("gate/r/t1", CLOSED);
  const cb = b.cell("gate/r/t1", CLOSED);
  const told: string[] = [];
  b.onRemoteChange((k) => told.push(k));
  a.apply(ca, openUntil, 5000, 1);
  assert.deepEqual(cb.value, { open: true, until: 5000 });
  assert.deepEqual(told, ["gate/r/t1"]);
  a.apply(ca, reset, undefined, 2);
  assert.equal(cb.value, CLOSED, "back to the initial state: the policy's own object, so `=== CLOSED` holds");
  // An operation that changes nothing publishes nothing.
  const sent = hub.members[0]!.published.length;
  a.apply(ca, reset, undefined, 3);
  assert.equal(hub.members[0]!.published.length, sent);
  await Promise.all([a.close(), b.close()]);
});

test("an instance started later adopts the states already shared", async () => {
  const hub = new Hub();
  const a = new ReplicatedStore(hub.join("a"), { kind: "hub" });
  a.apply(a.cell("gate/r/t1", CLOSED), openUntil, 9000, 1);
  const c = new ReplicatedStore(hub.join("c"), { kind: "hub" });
  await c.settled();
  assert.deepEqual(c.cell("gate/r/t1", CLOSED).value, { open: true, until: 9000 }, "a key learnt before its policy asked");
  assert.equal(c.cell("gate/r/t2", CLOSED).value, CLOSED);
  await Promise.all([a.close(), c.close()]);
});

test("while the link is down an instance goes on alone; when it is back it publishes its changes, then resyncs", async () => {
  const hub = new Hub();
  const ta = hub.join("a");
  const health: boolean[] = [];
  const a = new ReplicatedStore(ta, { kind: "hub", onHealth: (up) => health.push(up) });
  const b = new ReplicatedStore(hub.join("b"), { kind: "hub" });
  const a1 = a.cell("gate/r/t1", CLOSED);
  const a2 = a.cell("gate/r/t2", CLOSED);
  const b1 = b.cell("gate/r/t1", CLOSED);
  const b2 = b.cell("gate/r/t2", CLOSED);
  ta.setHealthy(false);
  assert.equal(a.info().healthy, false);
  a.apply(a1, openUntil, 7000, 1);
  assert.deepEqual(a1.value, { open: true, until: 7000 }, "the change holds here at once");
  assert.equal(b1.value, CLOSED, "and cannot reach b");
  b.apply(b2, openUntil, 8000, 1);
  assert.equal(a2.value, CLOSED);
  ta.setHealthy(true);
  await a.settled();
  assert.deepEqual(b1.value, { open: true, until: 7000 }, "a's change made during the outage reached b");
  assert.deepEqual(a2.value, { open: true, until: 8000 }, "b's change made during the outage reached a");
  assert.deepEqual(health, [false, true], "told once down, once back");
  await Promise.all([a.close(), b.close()]);
});

test("a state the shared side lost (Redis restarted empty) is published again at resync", async () => {
  const hub = new Hub();
  const ta = hub.join("a");
  const a = new ReplicatedStore(ta, { kind: "hub" });
  a.apply(a.cell("gate/r/t1", CLOSED), openUntil, 7000, 1);
  ta.setHealthy(false);
  hub.keys.clear();
  ta.setHealthy(true);
  await a.settled();
  assert.equal(hub.keys.get("gate/r/t1"), JSON.stringify({ open: true, until: 7000 }));
  await a.close();
});

test("forgetting a target drops its cells here and tells the others, who go back to the initial state", async () => {
  const hub = new Hub();
  const a = new ReplicatedStore(hub.join("a"), { kind: "hub" });
  const b = new ReplicatedStore(hub.join("b"), { kind: "hub" });
  a.apply(a.cell("gate/r/t1", CLOSED), openUntil, 7000, 1);
  const b1 = b.cell("gate/r/t1", CLOSED);
  assert.equal(b1.value.open, true);
  a.forgetTarget("r", "t1");
  assert.equal(b1.value, CLOSED);
  assert.equal(hub.keys.has("gate/r/t1"), false);
  assert.equal(a.cell("gate/r/t1", CLOSED).value, CLOSED, "a new cell on the forgetting instance starts fresh");
  await Promise.all([a.close(), b.close()]);
});

test("a shared state that is not JSON is reported and ignored", async () => {
  const hub = new Hub();
  const errors: string[] = [];
  const ta = hub.join("a");
  const a = new ReplicatedStore(ta, { kind: "hub", onError: (_e, key) => errors.push(String(key)) });
  const tb = hub.join("b");
  const a1 = a.cell("gate/r/t1", CLOSED);
  tb.publish("gate/r/t1", "{not json");
  assert.equal(a1.value, CLOSED);
  assert.deepEqual(errors, ["gate/r/t1"]);
  await a.close();
});

test("sharedStateOf answers for a replicated store only (status and metrics read it)", async () => {
  const hub = new Hub();
  const a = new ReplicatedStore(hub.join("a"), { kind: "hub" });
  hub.join("b");
  assert.deepEqual(sharedStateOf(a), { instance: "a", healthy: true, instances: ["a", "b"], store: "hub" });
  assert.equal(sharedStateOf(new MemoryStore()), undefined);
  await a.close();
});
