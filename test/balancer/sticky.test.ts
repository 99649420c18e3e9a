import { test } from "node:test";
import assert from "node:assert/strict";
import { createSticky } from "../../src/balancer/sticky.js";
import { makeCtx, makePool } from "./fixtures.js";
import type { Strategy } from "../../src/balancer/strategy.js";
import type { Target } from "../../src/core/target.js";

const SESSIONS = Array.from({ length: 5000 }, (_, i) => `session-${i}-${(i * 2654435761) >>> 0}`);

function assign(s: Strategy, eligible: readonly Target[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of SESSIONS) out.set(key, s.pick(eligible, makeCtx({ headers: { "x-session-id": key } }))!.id);
  return out;
}

test("sticky keeps every session on one target and spreads sessions evenly", () => {
  const pool = makePool([{}, {}, {}, {}, {}]);
  const s = createSticky(pool, {});
  const first = assign(s, pool);
  const again = assign(s, pool);
  assert.deepEqual(again, first);
  const counts = new Map<string, number>();
  for (const id of first.values()) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const t of pool) {
    const share = (counts.get(t.id) ?? 0) / SESSIONS.length;
    assert.ok(share > 0.15 && share < 0.25, `${t.id} holds ${share}`);
    const ring = s.targetStatus!(t).ring_share as number;
    assert.ok(Math.abs(ring - share) < 0.02, `${t.id}: ring share ${ring} vs observed ${share}`);
  }
});

test("sticky moves only the removed target's sessions (about 1/N) and moves them back when it returns", () => {
  const pool = makePool([{}, {}, {}, {}, {}]);
  const s = createSticky(pool, {});
  const before = assign(s, pool);
  const removed = pool[2]!;
  const after = assign(
    s,
    pool.filter((t) => t !== removed),
  );
  let moved = 0;
  for (const [key, id] of before) {
    if (id === removed.id) {
      assert.notEqual(after.get(key), removed.id);
      moved++;
    } else assert.equal(after.get(key), id, `session ${key} moved although its target stayed`);
  }
  assert.ok(Math.abs(moved / SESSIONS.length - 1 / 5) < 0.05, `moved ${moved}`);
  // The removed target's sessions spread over the others instead of piling onto one.
  const heirs = new Set([...before].filter(([, id]) => id === removed.id).map(([key]) => after.get(key)));
  assert.ok(heirs.size >= 3, `heirs ${[...heirs].join()}`);
  assert.deepEqual(assign(s, pool), before);
});

test("sticky keeps sessions on their targets when the pool is rebuilt without one target (ids, not positions, place the points)", () => {
  const full = makePool([{ id: "a" }, { id: "b" }, { id: "c" }, { id: "d" }]);
  const before = assign(createSticky(full, {}), full);
  const smaller = makePool([{ id: "a" }, { id: "c" }, { id: "d" }]); // new indices
  const after = assign(createSticky(smaller, {}), smaller);
  let stayed = 0;
  let kept = 0;
  for (const [key, id] of before) {
    if (id === "b") continue;
    kept++;
    if (after.get(key) === id) stayed++;
  }
  assert.equal(stayed, kept);
});

test("sticky reads the key from a header, the body, or the client credential, in the configured order", () => {
  const pool = makePool([{}, {}, {}, {}, {}, {}, {}, {}]);
  const byUser = createSticky(pool, {});
  const viaBody = byUser.pick(pool, makeCtx({ json: { user: "alice", messages: [] } }))!;
  const viaHeader = byUser.pick(pool, makeCtx({ headers: { "x-session-id": "alice" } }))!;
  assert.equal(viaBody, viaHeader, "the same key places the same way whatever its source");
  assert.equal(byUser.pick(pool, makeCtx()), undefined, "no key: undecided, the fallback strategy picks");
  assert.equal(byUser.status!().keyless_requests, 1);

  const custom = createSticky(pool, { key: ["header:X-Conversation", "client"] });
  const conv = custom.pick(pool, makeCtx({ headers: { "x-conversation": "alice", authorization: "Bearer k1" } }));
  assert.equal(conv, viaHeader);
  const clients = new Set<string>();
  for (let i = 0; i < 40; i++) clients.add(custom.pick(pool, makeCtx({ headers: { authorization: `Bearer key-${i}` } }))!.id);
  assert.ok(clients.size >= 5, "client keys spread");
  assert.equal(
    custom.pick(pool, makeCtx({ headers: { authorization: "Bearer key-3" } })),
    custom.pick(pool, makeCtx({ headers: { authorization: "Bearer key-3" } })),
  );
});

test("sticky honours weights and names bad options", () => {
  const pool = makePool([{ weight: 3 }, { weight: 1 }]);
  const s = createSticky(pool, {});
  assert.ok(Math.abs((s.targetStatus!(pool[0]!).ring_share as number) - 0.75) < 0.05);
  assert.throws(() => createSticky(pool, { key: ["cookie:sid"] }), {
    message: 'strategy_options.sticky.key.0: must be "header:<name>", "body:<field>" or "client"',
  });
  assert.throws(() => createSticky(pool, { vnodes: 0 }), { message: "strategy_options.sticky.vnodes: must be > 0" });
});
