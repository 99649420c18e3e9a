import { test } from "node:test";
import assert from "node:assert/strict";
import { createRoundRobin } from "../../src/balancer/round-robin.js";
import { makePool, sequence } from "./fixtures.js";

test("round-robin rotates strictly over the eligible targets", () => {
  const pool = makePool([{}, {}, {}]);
  const s = createRoundRobin(pool, {});
  assert.deepEqual(sequence(s, pool, 7), ["t0", "t1", "t2", "t0", "t1", "t2", "t0"]);
});

test("round-robin over a shrunken eligible set still rotates and never returns an ineligible target", () => {
  const pool = makePool([{}, {}, {}]);
  const s = createRoundRobin(pool, {});
  const ids = sequence(s, [pool[0]!, pool[2]!], 6);
  assert.ok(!ids.includes("t1"));
  assert.equal(ids.filter((id) => id === "t0").length, 3);
  for (let i = 1; i < ids.length; i++) assert.notEqual(ids[i], ids[i - 1]);
});

test("round-robin rejects unknown options by name", () => {
  assert.throws(() => createRoundRobin(makePool([{}]), { speed: 1 }), /^Error: strategy_options\.round-robin\.speed: unknown option$/);
});
