/**
 * Distribution through the real gateway against simulated providers: the strategies that learn
 * from results — latency (Peak-EWMA) and adaptive (Thompson sampling) — find the fastest
 * provider and follow it when providers change speed.
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

async function setup(strategy: StrategyName, latencies: number[], options: Record<string, unknown> = {}): Promise<SimRoute> {
  const f = await simRoute({
    sims: latencies.map((latency_ms, i) => ({ dialect: "openai" as const, name: `s${i}`, latency_ms })),
    route: { strategy, strategy_options: { [strategy]: options } },
    target: distTarget(),
  });
  open.push(f);
  return f;
}

const share = (counts: Record<string, number>, id: string, total: number) => (counts[id] ?? 0) / total;

test("latency sends at least 80% of 2,000 calls to the fastest of 10/50/200 ms and leaves it within 200 calls once it turns slow", async () => {
  // Time is compressed here (10 ms providers, ~1,000 calls a second), so the memory is too: a
  // 1 s half-life forgets the gateway's own warm-up hiccups within the run, as 7 s would at LLM pace.
  const { gw, sims } = await setup("latency", [200, 10, 50], { half_life_s: 1 });
  const first = await drive(gw.url, { requests: 2000, concurrency: 8 });
  assert.ok(first.every((r) => r.status === 200));
  const counts = countTargets(first);
  assert.ok(share(counts, "t1", 2000) >= 0.8, `fastest got ${JSON.stringify(counts)}`);

  const status = await gw.status();
  const ewma = status.routes[0].targets.map((t: { strategy_state: { ewma_ms: number } }) => t.strategy_state.ewma_ms);
  assert.ok(ewma[1] < ewma[2] && ewma[2] < ewma[0], `status shows the EWMA cost per target: ${ewma}`);

  await sims[1]!.set({ latency_ms: 400 }); // the fast one turns slow: t2 (50 ms) is now the fastest
  const second = await drive(gw.url, { requests: 600, concurrency: 16 });
  assert.ok(second.every((r) => r.status === 200));
  const late = countTargets(second.slice(200));
  assert.ok(share(late, "t2", 400) >= 0.8, `after the first 200 calls: ${JSON.stringify(late)}`);
  assert.ok(share(late, "t1", 400) <= 0.1, `the now slow target kept ${JSON.stringify(late)}`);
});

test("adaptive converges to the best of three providers and re-converges after they swap", async () => {
  const { gw, sims } = await setup("adaptive", [120, 5, 30], { seed: 11 });
  const first = await drive(gw.url, { requests: 1500, concurrency: 8 });
  assert.ok(first.every((r) => r.status === 200));
  const settled = countTargets(first.slice(1000));
  assert.ok(share(settled, "t1", 500) >= 0.8, `before the swap, last 500: ${JSON.stringify(settled)}`);

  // Swap: the best becomes the worst and the worst the best.
  await sims[0]!.set({ latency_ms: 5 });
  await sims[1]!.set({ latency_ms: 120 });
  const second = await drive(gw.url, { requests: 1500, concurrency: 8 });
  assert.ok(second.every((r) => r.status === 200));
  const resettled = countTargets(second.slice(1000));
  assert.ok(share(resettled, "t0", 500) >= 0.8, `after the swap, last 500: ${JSON.stringify(resettled)}`);

  const status = await gw.status();
  assert.equal(status.routes[0].strategy_state.method, "thompson");
  const t0 = status.routes[0].targets[0].strategy_state;
  assert.ok(t0.samples > 10 && t0.mean_latency_ms < 60, `status shows what adaptive learned: ${JSON.stringify(t0)}`);
});
