import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createTimeWindow } from "../../src/balancer/time-window.js";
import { parseConfig } from "../../src/config/load.js";
import { createGateway } from "../../src/index.js";
import { FakeClock, finish, makeCtx, makePool } from "./fixtures.js";
import type { Target } from "../../src/core/target.js";

const MINUTE = 60_000;

/** One instant call on `t` at the clock's time. */
function use(s: ReturnType<typeof createTimeWindow<Target>>, t: Target, clock: FakeClock): void {
  t.stats.onStart(clock.t);
  finish(s, t, "ok", 1, clock.t);
}

test("time-window takes a key not used within the window while there is one, else the one idle longest", () => {
  const pool = makePool([{}, {}, {}]);
  const clock = new FakeClock();
  const s = createTimeWindow(pool, { window_minutes: 5 }, clock);
  const picked: string[] = [];
  for (let i = 0; i < 3; i++) {
    const t = s.pick(pool, makeCtx())!;
    use(s, t, clock);
    picked.push(t.id);
    clock.t += MINUTE;
  }
  assert.deepEqual(picked, ["t0", "t1", "t2"], "unused keys first");
  // Minute 3: every key was used within the last 5 minutes; t0 has rested longest.
  const t = s.pick(pool, makeCtx())!;
  assert.equal(t.id, "t0");
  use(s, t, clock);
  // Minute 9: t1 (used at minute 1) and t2 (minute 2) are outside the window, t0 (minute 3) is not.
  clock.t += 6 * MINUTE;
  const eligible = [pool[0]!, pool[2]!];
  assert.equal(s.pick(eligible, makeCtx())!.id, "t2", "among the eligible, the one outside the window");
});

test("time-window never takes a key used within the window while an eligible key was not", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 5 }),
      fc.array(fc.record({ gapS: fc.integer({ min: 0, max: 200 }), mask: fc.integer({ min: 1, max: 31 }) }), {
        minLength: 1,
        maxLength: 60,
      }),
      (size, steps) => {
        const pool = makePool(Array.from({ length: size }, () => ({})));
        const clock = new FakeClock();
        const s = createTimeWindow(pool, { window_minutes: 1 }, clock);
        const lastUse = new Map<Target, number>();
        for (const step of steps) {
          clock.t += step.gapS * 1000;
          let eligible = pool.filter((_, i) => step.mask & (1 << i));
          if (eligible.length === 0) eligible = pool;
          const outside = (t: Target) => clock.t - (lastUse.get(t) ?? -Infinity) >= MINUTE;
          const t = s.pick(eligible, makeCtx())!;
          assert.ok(eligible.includes(t));
          if (eligible.some(outside)) assert.ok(outside(t), `picked ${t.id} used ${clock.t - lastUse.get(t)!} ms ago`);
          use(s, t, clock);
          lastUse.set(t, clock.t);
        }
      },
    ),
    { numRuns: 200, seed: 7 },
  );
});

test("time-window's window is in minutes (default 5), shown in status; bad options are named", () => {
  const pool = makePool([{}]);
  assert.deepEqual(createTimeWindow(pool, {}).status?.(), { window_minutes: 5 });
  assert.deepEqual(createTimeWindow(pool, { window_minutes: 0.5 }).status?.(), { window_minutes: 0.5 });
  assert.throws(() => createTimeWindow(pool, { window_minutes: 0 }), {
    message: "strategy_options.time-window.window_minutes: must be > 0",
  });
  assert.throws(() => createTimeWindow(pool, { window_s: 60 }), { message: "strategy_options.time-window.window_s: unknown option" });
});

test("a route takes strategy time-window (or time_window) with window_minutes", async () => {
  const cfg = parseConfig(
    {
      routes: [
        {
          name: "keys",
          surface: "anthropic",
          models: ["*"],
          strategy: "time_window",
          strategy_options: { "time-window": { window_minutes: 2 } },
          targets: [{ id: "a", provider: "anthropic", base_url: "http://127.0.0.1:1", key: "sk-ant-aaaa" }],
        },
      ],
    },
    "test",
  );
  assert.equal(cfg.routes[0]!.strategy, "time-window");
  const gw = createGateway(cfg);
  try {
    const route = gw.route("keys")!;
    assert.equal(route.strategy.name, "time-window");
    assert.deepEqual(route.strategy.status?.(), { window_minutes: 2 });
  } finally {
    await gw.close();
  }
});
