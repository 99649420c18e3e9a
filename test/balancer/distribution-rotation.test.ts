/**
 * Distribution through the real gateway against simulated providers: round-robin, weighted
 * (smooth WRR) and least-connections, as the strategies issue sets the bar.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute, type SimRoute } from "../helpers/sim-route.js";
import type { StrategyName } from "../../src/config/schema.js";
import { countTargets, distTarget, drive } from "./gateway-load.js";

const open: SimRoute[] = [];
after(async () => {
  for (const x of open.reverse()) await x.close();
});

/** `n` simulated OpenAI providers named s0, s1, … behind one route of `strategy`. */
async function setup(strategy: StrategyName, n: number, latency_ms = 0, extra?: (i: number) => Record<string, unknown>): Promise<SimRoute> {
  const f = await simRoute({
    sims: Array.from({ length: n }, (_, i) => ({ dialect: "openai" as const, name: `s${i}`, latency_ms })),
    route: { strategy },
    target: distTarget(extra),
  });
  open.push(f);
  return f;
}

/** Reference smooth WRR, straight from nginx's ngx_http_upstream_get_peer. */
function nginxSequence(weights: number[], count: number): number[] {
  const current = weights.map(() => 0);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    let best = -1;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (best === -1 || current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    out.push(best);
  }
  return out;
}

test("round-robin through the gateway is exact: equal counts and strict rotation", async () => {
  const { gw, sims: s } = await setup("round-robin", 3);
  const sent = await drive(gw.url, { requests: 3000, concurrency: 32 });
  assert.ok(sent.every((r) => r.status === 200));
  assert.deepEqual(countTargets(sent), { t0: 1000, t1: 1000, t2: 1000 });
  assert.deepEqual(
    s.map((x) => x.stats().requests),
    [1000, 1000, 1000],
  );
  const order = (await drive(gw.url, { requests: 9, concurrency: 1 })).map((r) => r.target);
  assert.deepEqual(order, ["t0", "t1", "t2", "t0", "t1", "t2", "t0", "t1", "t2"]);
});

test("weighted 70/20/10 over 10,000 calls lands within 1 point of each weight and interleaves like smooth WRR", async () => {
  const weights = [70, 20, 10];
  const { gw, sims: s } = await setup("weighted", 3, 0, (i) => ({ weight: weights[i] }));
  const sent = await drive(gw.url, { requests: 10_000, concurrency: 64 });
  assert.ok(sent.every((r) => r.status === 200));
  const counts = countTargets(sent);
  weights.forEach((w, i) => {
    const share = (counts[`t${i}`] ?? 0) / 100;
    assert.ok(Math.abs(share - w) <= 1, `t${i} got ${share}% for weight ${w}`);
  });
  assert.deepEqual(
    s.map((x) => x.stats().requests),
    [7000, 2000, 1000],
    "the providers saw the same split",
  );
  // Pick order, one call at a time: exactly nginx's sequence, so the heavy target never gets two
  // picks in a row where smooth WRR puts a light one between.
  const order = (await drive(gw.url, { requests: 50, concurrency: 1 })).map((r) => Number(r.target.slice(1)));
  assert.deepEqual(order, nginxSequence(weights, 10_050).slice(10_000));
  const status = await gw.status();
  const state = status.routes[0].targets.map((t: { strategy_state: { current_weight: number } }) => t.strategy_state.current_weight);
  assert.deepEqual(state, [0, 0, 0], "status shows the current weights (back to zero after whole cycles)");
});

test("least-connections keeps in-flight counts within 1 of each other under 64 concurrent clients", async () => {
  const { gw, sims: s } = await setup("least-connections", 4, 15);
  const sent = await drive(gw.url, { requests: 2000, concurrency: 64 });
  assert.ok(sent.every((r) => r.status === 200));
  // A target is picked only while it has the fewest calls in flight (≤ 63 / 4 → 15), so no
  // provider can ever see more than 64 / 4 at once; any imbalance would push one above that.
  const stats = s.map((x) => x.stats());
  for (const st of stats) assert.ok(st.max_in_flight <= 16, `${st.name} saw ${st.max_in_flight} calls at once`);
  assert.ok(
    stats.every((st) => st.max_in_flight >= 15),
    `all were kept busy: ${stats.map((st) => st.max_in_flight).join(", ")}`,
  );
  const counts = Object.values(countTargets(sent));
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 40, `counts ${counts.join(", ")}`);
});
