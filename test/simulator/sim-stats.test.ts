import { test } from "node:test";
import assert from "node:assert/strict";
import { SimStats } from "../../src/simulator/sim-stats.js";

test("the log is a bounded ring keeping the newest entries in order", () => {
  const s = new SimStats("x", 5);
  const tickets = [];
  for (let i = 0; i < 12; i++) tickets.push(s.begin(1000 + i, `k${i}`, "GET", "/p"));
  for (const t of tickets) s.end(t, 200, "completed");
  const snap = s.snapshot();
  assert.equal(snap.requests, 12);
  assert.deepEqual(
    snap.log.map((e) => e.key),
    ["k7", "k8", "k9", "k10", "k11"],
  );
  assert.ok(snap.log.every((e) => e.status === 200));
  assert.equal(snap.completed, 12);
  assert.equal(snap.in_flight, 0);
});

test("an entry recycled by the ring is not overwritten by the old request's end", () => {
  const s = new SimStats("x", 2);
  const old = s.begin(1, "old", "GET", "/");
  s.begin(2, "b", "GET", "/");
  s.begin(3, "c", "GET", "/"); // reuses old's slot
  s.end(old, 504, "aborted");
  const snap = s.snapshot();
  assert.deepEqual(
    snap.log.map((e) => [e.key, e.status, e.aborted]),
    [
      ["b", 0, false],
      ["c", 0, false],
    ],
  );
  assert.equal(snap.aborted, 1);
  assert.deepEqual(snap.by_status, { "504": 1 });
});

test("reset keeps in-flight requests counted", () => {
  const s = new SimStats("x");
  const t = s.begin(1, "k", "POST", "/a");
  s.begin(2, "k", "POST", "/a");
  s.reset();
  const snap = s.snapshot();
  assert.equal(snap.requests, 0);
  assert.equal(snap.in_flight, 2);
  assert.deepEqual(snap.log, []);
  s.end(t, 200, "completed");
  assert.equal(s.snapshot().in_flight, 1);
});
