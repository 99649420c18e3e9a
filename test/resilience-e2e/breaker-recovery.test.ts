import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { countBy } from "../helpers/count.js";
import { until } from "../helpers/wait.js";

const f = await simRoute({
  sims: ["a", "b", "c"].map((name) => ({ dialect: "openai" as const, name, latency_ms: 2 })),
  route: { breaker: { failure_threshold: 5, open_s: 0.5, max_open_s: 1, success_threshold: 2, half_open_calls: 1 } },
  target: (_, i) => ({ id: `t${i}`, key: `sk-breaker-000${i}` }),
});
const { sims, gw } = f;
after(() => f.close());

test("a target going down mid-load: no client error, its breaker opens, then half-open probes close it and it serves again", async () => {
  const down = sims[1]!;
  const transitions: string[] = [];
  gw.gateway.events.onPolicy((e) => {
    if (e.target === "t1" && e.policy === "breaker") transitions.push(`${e.from}->${e.to}`);
  });
  let wentDown = false;
  let cameBack = false;
  const shots = await fire(gw.url, 2000, 32, {
    onShot: (i) => {
      if (i === 400 && !wentDown) {
        wentDown = true;
        void down.set({ down: true });
      }
      if (i === 1300 && !cameBack) {
        cameBack = true;
        void down.set({ down: false });
      }
    },
  });
  assert.equal(shots.length, 2000);
  assert.deepEqual(
    countBy(shots, (s) => String(s.status)),
    { "200": 2000 },
    "zero client-visible errors",
  );
  assert.ok(transitions.includes("closed->open"), `breaker opened: ${transitions.join(", ")}`);
  // After it is back, probes close the breaker (more traffic may be needed for the probes).
  const closed = await until(
    async () => {
      await fire(gw.url, 20, 4);
      return transitions.includes("half_open->closed");
    },
    10_000,
    100,
  );
  assert.ok(closed, `breaker closed again: ${transitions.join(", ")}`);
  down.resetStats();
  const after = await fire(gw.url, 90, 6);
  assert.ok(countBy(after, (s) => s.target)["t1"]! > 0, "the recovered target gets traffic again");
  assert.ok(down.stats().requests > 0);
  const status = await gw.status();
  const t1 = status.routes[0].targets[1];
  assert.equal(t1.breaker.state, "closed");
  assert.ok(t1.stats.by_outcome.connection_failure > 0);
});
