import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { STRATEGY_FACTORIES } from "../../src/balancer/index.js";
import { STRATEGIES } from "../../src/config/schema.js";
import { FakeClock, finish, makeCtx, makePool } from "./fixtures.js";

test("every strategy named in the config schema has a factory", () => {
  assert.deepEqual(Object.keys(STRATEGY_FACTORIES).sort(), [...STRATEGIES].sort());
});

test("every strategy rejects an unknown option by its name", () => {
  const pool = makePool([{}]);
  for (const name of STRATEGIES)
    assert.throws(() => STRATEGY_FACTORIES[name](pool, { bogus: 1 }), { message: `strategy_options.${name}.bogus: unknown option` });
});

test("every strategy returns an eligible target or no decision, whatever the eligible subset", () => {
  const specs = [
    { weight: 3, tier: 1, quality: 0.5, cost: { input_per_1k: 1, output_per_1k: 2 } },
    { weight: 1, tier: 2, quality: 0.9, cost: { input_per_1k: 0.5, output_per_1k: 1 } },
    { weight: 2, tier: 1, quality: 0.7, cost: { input_per_1k: 2, output_per_1k: 1 } },
    { weight: 1, tier: 3, quality: 0.1, cost: { input_per_1k: 0.1, output_per_1k: 0.1 } },
    { weight: 5, tier: 2, quality: 0.9, cost: { input_per_1k: 3, output_per_1k: 3 } },
  ];
  for (const name of STRATEGIES) {
    const pool = makePool(specs);
    const clock = new FakeClock();
    const s = STRATEGY_FACTORIES[name](pool, name === "tiered" ? { within: "weighted" } : {}, clock);
    const ctx = makeCtx({ headers: { "x-session-id": "s1" }, json: { model: "m", messages: [], max_tokens: 50 } });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 4 }), fc.boolean()), { maxLength: 30 }),
        (steps) => {
          for (const [mask, inFlight, fail] of steps) {
            const eligible = pool.filter((_, i) => mask & (1 << i));
            pool.forEach((t) => (t.stats.inFlight = 0));
            const t = s.pick(eligible, ctx);
            if (eligible.length === 0) assert.equal(t, undefined, name);
            if (t === undefined) continue;
            assert.ok(eligible.includes(t), `${name} picked ineligible ${t.id}`);
            clock.t += 5;
            t.stats.onStart(clock.t);
            t.stats.inFlight += inFlight;
            finish(s, t, fail ? "server_error" : "ok", 5 + inFlight, clock.t);
          }
        },
      ),
      { numRuns: 100, seed: 3 },
    );
    assert.equal(typeof s.name, "string");
    assert.doesNotThrow(() => JSON.stringify([s.status?.(), pool.map((t) => s.targetStatus?.(t))]), name);
  }
});
