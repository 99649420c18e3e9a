import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { until } from "../helpers/wait.js";

const f = await simRoute({
  sims: [
    { dialect: "rest", name: "vendor-a" },
    { dialect: "rest", name: "vendor-b" },
  ],
  route: {
    name: "quotes",
    surface: "rest",
    service: "quotes",
    health_check: { interval_s: 0.1, jitter: 0, timeout_ms: 500, healthy_threshold: 2, unhealthy_threshold: 2 },
    slow_start: { window_s: 2 },
    queue: { size: 10 },
    hedge: { enabled: true, delay_ms: 250 },
  },
  target: [
    { id: "a", key: "rest-a-0001" },
    { id: "b", key: "rest-b-0002" },
  ],
});
const {
  gw,
  sims: [a],
} = f;
after(() => f.close());

async function served(n: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${gw.url}/rest/quotes/q?i=${i}`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const t = res.headers.get("x-switchyard-target")!;
    out[t] = (out[t] ?? 0) + 1;
  }
  return out;
}

test("active health checks take an unhealthy target out and bring it back with a slow start", async () => {
  assert.ok(await until(async () => (await gw.status()).routes[0].targets[0].health_check?.state === "healthy", 3000));
  await a.set({ health_status: 500 });
  assert.ok(await until(async () => (await gw.status()).routes[0].targets[0].health_check.state === "unhealthy", 3000), "marked unhealthy");
  const out = await served(20);
  assert.deepEqual(out, { b: 20 }, "the unhealthy target gets nothing");
  await a.set({ health_status: 200 });
  assert.ok(await until(async () => (await gw.status()).routes[0].targets[0].health_check.state === "healthy", 3000), "healthy again");
  const ramp = (await gw.status()).routes[0].targets[0].slow_start;
  assert.ok(ramp && ramp.factor < 1, "it comes back through slow start");
  assert.ok(await until(async () => ((await served(10)).a ?? 0) > 0, 5000), "and gets traffic again");
});

test("the status output shows every policy's state per target", async () => {
  const s = await gw.status();
  const route = s.routes[0];
  assert.ok(route.retry.budget, "retry budget");
  assert.equal(route.queue.capacity, 10);
  assert.equal(route.hedge.enabled, true);
  for (const t of route.targets) {
    assert.equal(typeof t.eligible, "boolean");
    assert.ok(Array.isArray(t.excluded_by));
    assert.equal(t.breaker.state, "closed", "breaker state, window and openings");
    assert.equal(typeof t.breaker.window_calls, "number");
    assert.ok(t.health_check.state, "health check state");
    assert.equal(typeof t.stats.in_flight, "number");
    assert.equal(typeof t.stats.latency_ewma_ms, "number");
  }
});
