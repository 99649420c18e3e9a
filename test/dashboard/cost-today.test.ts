import { test } from "node:test";
import assert from "node:assert/strict";
import { CostToday } from "../../src/admin/cost-today.js";
import type { RequestRecord } from "../../src/core/events.js";

const DAY = 86_400_000;

function record(route: string | null, target: string | null, costUsd: number): RequestRecord {
  return { route, target, costUsd } as RequestRecord;
}

test("cost today sums each target's answers since midnight UTC and starts again the next day", () => {
  let now = 20_000 * DAY + 23 * 3_600_000; // 23:00 UTC
  const costs = new CostToday(() => now);
  costs.record(record("chat", "a", 0.25));
  costs.record(record("chat", "a", 0.5));
  costs.record(record("chat", "b", 1));
  costs.record(record("other", "a", 2));
  costs.record(record("chat", null, 9)); // no target answered: nothing to charge
  costs.record(record("chat", "a", 0));
  assert.equal(costs.of("chat", "a"), 0.75);
  assert.equal(costs.ofRoute("chat"), 1.75);
  assert.equal(costs.of("chat", "zzz"), 0);
  assert.equal(costs.since(), 20_000 * DAY);

  now += 2 * 3_600_000; // 01:00 the next day
  assert.equal(costs.of("chat", "a"), 0);
  assert.equal(costs.ofRoute("chat"), 0);
  assert.equal(costs.since(), 20_001 * DAY);
  costs.record(record("chat", "a", 0.1));
  assert.equal(costs.of("chat", "a"), 0.1);
});
