import { test } from "node:test";
import assert from "node:assert/strict";
import { createCost } from "../../src/balancer/cost.js";
import { makeCtx, makePool } from "./fixtures.js";

// in-heavy: cheap output, dear input; out-heavy: the reverse.
const specs = [
  { id: "in-heavy", cost: { input_per_1k: 10, output_per_1k: 1 } },
  { id: "out-heavy", cost: { input_per_1k: 1, output_per_1k: 10 } },
  { id: "dear", cost: { input_per_1k: 20, output_per_1k: 20 } },
];

test("cost picks the cheapest target for the request's estimated tokens", () => {
  const pool = makePool(specs);
  const s = createCost(pool, {});
  // Long prompt, short answer: input dominates → out-heavy (cheap input) wins.
  const longPrompt = makeCtx({ json: { model: "m", messages: [{ role: "user", content: "x".repeat(40_000) }], max_tokens: 10 } });
  assert.equal(s.pick(pool, longPrompt)!.id, "out-heavy");
  // Short prompt, long answer: output dominates → in-heavy (cheap output) wins.
  const longAnswer = makeCtx({ json: { model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 4000 } });
  assert.equal(s.pick(pool, longAnswer)!.id, "in-heavy");
  // max_completion_tokens counts like max_tokens.
  const modern = makeCtx({ json: { model: "m", messages: [{ role: "user", content: "hi" }], max_completion_tokens: 4000 } });
  assert.equal(s.pick(pool, modern)!.id, "in-heavy");
});

test("cost uses default_output_tokens when the request sets no max_tokens", () => {
  const pool = makePool(specs);
  const prompt = "x".repeat(4000); // ≈ 1,000+ input tokens
  const ctx = makeCtx({ json: { model: "m", messages: [{ role: "user", content: prompt }] } });
  assert.equal(createCost(pool, { default_output_tokens: 10 }).pick(pool, ctx)!.id, "out-heavy");
  assert.equal(createCost(pool, { default_output_tokens: 100_000 }).pick(pool, ctx)!.id, "in-heavy");
});

test("cost breaks ties by latency (untried first), then rotates", () => {
  const pool = makePool([
    { cost: { input_per_1k: 1, output_per_1k: 2 } },
    { cost: { input_per_1k: 1, output_per_1k: 2 } },
    { cost: { input_per_1k: 3, output_per_1k: 3 } },
  ]);
  const s = createCost(pool, {});
  pool[0]!.stats.latencyEwmaMs = 120;
  pool[1]!.stats.latencyEwmaMs = 80;
  for (let i = 0; i < 5; i++) assert.equal(s.pick(pool, makeCtx())!.id, "t1");
  pool[1]!.stats.latencyEwmaMs = 120;
  const ids = [0, 1, 2, 3].map(() => s.pick(pool, makeCtx())!.id);
  assert.deepEqual(new Set(ids), new Set(["t0", "t1"]), "equal price and latency rotate");
});

test("cost is undecided when no eligible target has a price, and skips ineligible ones", () => {
  const free = makePool([{}, {}]);
  assert.equal(createCost(free, {}).pick(free, makeCtx()), undefined);
  const pool = makePool(specs);
  const ctx = makeCtx({ json: { model: "m", messages: [], max_tokens: 4000 } });
  assert.equal(createCost(pool, {}).pick([pool[1]!, pool[2]!], ctx)!.id, "out-heavy");
  assert.throws(() => createCost(pool, { default_output_tokens: 0 }), {
    message: "strategy_options.cost.default_output_tokens: must be > 0",
  });
});
