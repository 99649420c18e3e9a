import { test } from "node:test";
import assert from "node:assert/strict";
import { createLeastConnections } from "../../src/balancer/least-connections.js";
import { FakeClock, makeCtx, makePool, sequence, simulate } from "./fixtures.js";

test("least-connections picks the target with the fewest calls in flight", () => {
  const pool = makePool([{}, {}, {}]);
  const s = createLeastConnections(pool, {});
  pool[0]!.stats.inFlight = 3;
  pool[1]!.stats.inFlight = 1;
  pool[2]!.stats.inFlight = 2;
  for (let i = 0; i < 5; i++) assert.equal(s.pick(pool, makeCtx())!.id, "t1");
});

test("least-connections breaks ties by weight, then by rotation", () => {
  const pool = makePool([{ weight: 1 }, { weight: 3 }, { weight: 3 }, { weight: 1 }]);
  const s = createLeastConnections(pool, {});
  const picks = sequence(s, pool, 6);
  assert.ok(
    picks.every((id) => id === "t1" || id === "t2"),
    picks.join(),
  );
  assert.equal(picks.filter((id) => id === "t1").length, 3);
  const equal = makePool([{}, {}, {}]);
  assert.deepEqual(sequence(createLeastConnections(equal, {}), equal, 6), ["t0", "t1", "t2", "t0", "t1", "t2"]);
});

test("least-connections keeps in-flight counts within 1 of each other under 64 concurrent clients", () => {
  const pool = makePool([{}, {}, {}, {}, {}]);
  const s = createLeastConnections(pool, {});
  let widest = 0;
  simulate(s, pool, new FakeClock(), {
    requests: 5000,
    concurrency: 64,
    latencyOf: (_t, n) => 20 + ((n * 7919) % 13), // equal on average, not in lock step
    onPick: () => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const t of pool) {
        lo = Math.min(lo, t.stats.inFlight);
        hi = Math.max(hi, t.stats.inFlight);
      }
      widest = Math.max(widest, hi - lo);
    },
  });
  assert.ok(widest <= 1, `in-flight spread reached ${widest}`);
});
