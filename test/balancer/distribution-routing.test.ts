/**
 * Distribution through the real gateway against simulated providers: the strategies that route
 * by a rule rather than by load — tiered, sticky, cost, quality, least-recently-used.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute, type SimRoute } from "../helpers/sim-route.js";
import { sleep } from "../helpers/wait.js";
import type { StrategyName } from "../../src/config/schema.js";
import { countTargets, distTarget, drive } from "./gateway-load.js";

const open: SimRoute[] = [];
after(async () => {
  for (const x of open.reverse()) await x.close();
});

async function setup(
  strategy: StrategyName,
  count: number,
  extra: (i: number) => Record<string, unknown> = () => ({}),
  options: Record<string, unknown> = {},
  latencies: number[] = [],
): Promise<SimRoute> {
  const f = await simRoute({
    sims: Array.from({ length: count }, (_, i) => ({ dialect: "openai" as const, name: `s${i}`, latency_ms: latencies[i] ?? 0 })),
    route: { strategy, strategy_options: { [strategy]: options }, retry: { attempts: count } },
    target: distTarget(extra),
  });
  open.push(f);
  return f;
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: "demo", messages: [{ role: "user", content }], ...extra });

test("tiered sends nothing to tier 2 while tier 1 is eligible, and everything once tier 1 is down", async () => {
  const { gw, sims } = await setup("tiered", 4, (i) => ({ tier: i < 2 ? 1 : 2 }));
  const healthy = await drive(gw.url, { requests: 400, concurrency: 16 });
  assert.ok(healthy.every((r) => r.status === 200));
  assert.deepEqual(countTargets(healthy), { t0: 200, t1: 200 });
  assert.deepEqual(
    sims.map((s) => s.stats().requests),
    [200, 200, 0, 0],
    "tier 2 providers saw no call",
  );

  await sims[0]!.set({ down: true });
  const half = await drive(gw.url, { requests: 200, concurrency: 16 });
  assert.deepEqual(countTargets(half), { t1: 200 }, "one tier 1 target left: still no tier 2");

  await sims[1]!.set({ down: true });
  const down = await drive(gw.url, { requests: 400, concurrency: 16 });
  assert.ok(
    down.every((r) => r.status === 200),
    "every call still answered",
  );
  assert.deepEqual(countTargets(down), { t2: 200, t3: 200 }, "all of it served by tier 2");
  const status = await gw.status();
  assert.equal(status.routes[0].strategy_state.active_tier, 2);
});

test("sticky keeps every session on one target and moves only the removed target's sessions", async () => {
  const { gw, sims } = await setup("sticky", 5);
  const sessions = 1000;
  const session = (i: number) => `conv-${i % sessions}-${((i % sessions) * 2654435761) >>> 0}`;
  const before = await drive(gw.url, { requests: 3 * sessions, concurrency: 32, headers: (i) => ({ "x-session-id": session(i) }) });
  assert.ok(before.every((r) => r.status === 200));
  const home = new Map<string, Set<string>>();
  for (const r of before) {
    const key = session(r.index);
    if (!home.has(key)) home.set(key, new Set());
    home.get(key)!.add(r.target);
  }
  const steady = [...home.values()].filter((targets) => targets.size === 1).length;
  assert.ok(steady / sessions >= 0.99, `${steady} of ${sessions} sessions stayed on one target`);
  const homeOf = new Map([...home].map(([k, v]) => [k, [...v][0]!]));
  const counts = Object.values(countTargets(before));
  assert.ok(Math.min(...counts) > 0.6 * 600, `sessions spread over the targets: ${counts.join(", ")}`);

  await sims[3]!.set({ down: true }); // t3 goes away
  const after = await drive(gw.url, { requests: sessions, concurrency: 32, headers: (i) => ({ "x-session-id": session(i) }) });
  assert.ok(after.every((r) => r.status === 200));
  let moved = 0;
  for (const r of after) {
    const was = homeOf.get(session(r.index))!;
    if (was === "t3") moved++;
    else assert.equal(r.target, was, `session ${session(r.index)} moved from ${was} although ${was} stayed`);
  }
  assert.ok(Math.abs(moved / sessions - 1 / 5) < 0.07, `${moved} of ${sessions} sessions moved (about 1/5 expected)`);

  const keyless = await drive(gw.url, { requests: 10, concurrency: 2 });
  assert.ok(
    keyless.every((r) => r.status === 200),
    "calls without a session key still go somewhere (fallback)",
  );
});

test("cost picks the cheapest target for each request's estimated tokens", async () => {
  const prices = [
    { input_per_1k: 10, output_per_1k: 1 }, // cheap to answer at length
    { input_per_1k: 1, output_per_1k: 10 }, // cheap to read a long prompt
    { input_per_1k: 20, output_per_1k: 20 },
  ];
  const { gw } = await setup("cost", 3, (i) => ({ cost: prices[i] }));
  const longPrompt = await drive(gw.url, { requests: 20, concurrency: 4, body: () => chat("x".repeat(20_000), { max_tokens: 16 }) });
  assert.deepEqual(countTargets(longPrompt), { t1: 20 });
  const longAnswer = await drive(gw.url, { requests: 20, concurrency: 4, body: () => chat("hi", { max_tokens: 2000 }) });
  assert.deepEqual(countTargets(longAnswer), { t0: 20 });
  const defaults = await drive(gw.url, { requests: 10, concurrency: 1, body: () => chat("x".repeat(2000)) });
  assert.deepEqual(countTargets(defaults), { t1: 10 }, "no max_tokens: the 256-token default estimate");
});

test("cost breaks a price tie by latency: once both are measured, the faster one takes the calls", async () => {
  const same = { input_per_1k: 1, output_per_1k: 1 };
  const { gw } = await setup("cost", 3, (i) => ({ cost: i < 2 ? same : { input_per_1k: 5, output_per_1k: 5 } }), {}, [40, 0, 0]);
  const warm = await drive(gw.url, { requests: 2, concurrency: 1 });
  assert.deepEqual(countTargets(warm), { t0: 1, t1: 1 }, "each tied target is tried once (no latency yet sorts first)");
  const sent = await drive(gw.url, { requests: 30, concurrency: 1 });
  assert.deepEqual(countTargets(sent), { t1: 30 });
});

test("quality picks the highest quality target, ties by cost", async () => {
  const { gw } = await setup("quality", 3, (i) => ({
    quality: [0.8, 0.9, 0.9][i],
    cost: { input_per_1k: [0.1, 3, 2][i], output_per_1k: [0.1, 3, 2][i] },
  }));
  const sent = await drive(gw.url, { requests: 50, concurrency: 8 });
  assert.deepEqual(countTargets(sent), { t2: 50 }, "t1 and t2 tie on quality; t2 is cheaper");
});

test("least-recently-used never reuses a key inside its window while another key has rested", async () => {
  const windowMs = 150;
  const keys = ["t0", "t1", "t2", "t3"];
  const { gw } = await setup("least-recently-used", keys.length, () => ({}), { window_s: windowMs / 1000 });
  const lastEnd = new Map<string, number>();
  const margin = 20; // the client sees a call a little before and after the gateway does
  const gaps = [40, 90, 20, 120, 60, 0, 75];
  let checked = 0;
  for (let i = 0; i < 40; i++) {
    const [r] = await drive(gw.url, { requests: 1, concurrency: 1 });
    assert.equal(r!.status, 200);
    const restOf = (k: string) => r!.sentAt - (lastEnd.get(k) ?? -Infinity);
    if (keys.some((k) => k !== r!.target && restOf(k) >= windowMs + margin)) {
      assert.ok(
        restOf(r!.target) >= windowMs - margin,
        `call ${i}: ${r!.target} reused after ${restOf(r!.target).toFixed(0)} ms while another key had rested`,
      );
      checked++;
    }
    lastEnd.set(r!.target, r!.doneAt);
    await sleep(gaps[i % gaps.length]!);
  }
  assert.ok(checked >= 20, `the property was exercised (${checked} calls had a rested alternative)`);
  const status = await gw.status();
  assert.equal(status.routes[0].strategy_state.window_s, 0.15);
});
