/**
 * Every error answered during an outage says when to come back: in a 10 s outage where every
 * target answers 503, each 502 (all attempts failed), 503 (no target available) and 504 carries
 * Retry-After ≥ 1 s — the soonest time a target may be eligible again. (Measured from outside
 * before the fix: 11 of 499 client errors had none.)
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway } from "../helpers/harness.js";
import { fire } from "../helpers/load.js";
import { countBy } from "../helpers/count.js";

const sims = await Promise.all(["a", "b", "c"].map((name) => startSimProvider({ dialect: "openai", name, latency_ms: 2 })));
const gw = await startGateway({
  routes: [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      breaker: { open_s: 2, min_calls: 10, window_s: 10 },
      targets: sims.map((s, i) => ({ id: `t${i}`, provider: "openai" as const, base_url: s.url, key: `sk-outage-ra-000${i}` })),
    },
  ],
});
after(async () => {
  await gw.close();
  await Promise.all(sims.map((s) => s.close()));
});

test("a 10 s outage of every target (503): every 502/503/504 the clients get carries Retry-After", { timeout: 60_000 }, async () => {
  await fire(gw.url, 30, 3);
  await Promise.all(sims.map((s) => s.set({ error_rate: 1, error_status: 503 })));
  const shots: Awaited<ReturnType<typeof fire>> = [];
  const ends = Date.now() + 10_000;
  while (Date.now() < ends) shots.push(...(await fire(gw.url, 20, 4)));
  const errors = shots.filter((s) => s.status !== 200);
  const byStatus = countBy(errors, (s) => String(s.status));
  assert.ok(errors.length > 200, `enough errors to judge (${errors.length}: ${JSON.stringify(byStatus)})`);
  assert.ok((byStatus["502"] ?? 0) > 0, `some 502s after every attempt failed: ${JSON.stringify(byStatus)}`);
  const missing = errors.filter((s) => !(Number(s.headers["retry-after"]) >= 1));
  assert.deepEqual(
    missing.map((s) => `${s.status} ${String(s.headers["x-switchyard-error"])}`),
    [],
    `every error carries Retry-After ≥ 1 (${errors.length} errors: ${JSON.stringify(byStatus)})`,
  );
  for (const s of errors) assert.ok([502, 503, 504].includes(s.status), `only outage statuses (${s.status})`);
});
