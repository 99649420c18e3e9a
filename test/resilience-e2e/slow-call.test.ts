import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { until } from "../helpers/wait.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "slowing", latency_ms: 20 },
    { dialect: "openai", name: "steady", latency_ms: 20 },
  ],
  route: { breaker: { slow_call_ms: 500, slow_call_rate: 0.5, min_calls: 6, window: "count", window_calls: 10, open_s: 30 } },
  target: [
    { id: "slowing", key: "sk-slow-0001" },
    { id: "steady", key: "sk-steady-0002" },
  ],
});
const {
  gw,
  sims: [slowing],
} = f;
after(() => f.close());

test("a target whose latency jumps from 20 ms to 2 s is opened by the slow-call rule before any error", async () => {
  const reasons: string[] = [];
  gw.gateway.events.onPolicy((e) => {
    if (e.target === "slowing" && e.policy === "breaker" && e.to === "open") reasons.push(e.reason);
  });
  const fast = await fire(gw.url, 20, 2);
  assert.ok(fast.every((s) => s.status === 200));
  await slowing.set({ latency_ms: 2000 });
  // Keep traffic going until the breaker opens on slowness.
  const load = fire(gw.url, 40, 8);
  assert.ok(await until(() => reasons.length > 0, 15_000, 50), "the breaker opened");
  const shots = await load;
  assert.deepEqual(reasons, ["slow_call_rate"]);
  assert.ok(
    shots.every((s) => s.status === 200),
    "no client saw an error",
  );
  const status = await gw.status();
  const t = status.routes[0].targets[0];
  assert.equal(t.breaker.state, "open");
  assert.equal(t.stats.failures, 0, "no attempt to the slowed target failed: it was opened on slowness alone");
  assert.deepEqual(t.excluded_by, ["breaker"]);
});
