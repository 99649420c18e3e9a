import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { countBy } from "../helpers/count.js";
import { sleep } from "../helpers/wait.js";

const f = await simRoute({
  sims: ["a", "b", "c"].map((name) => ({ dialect: "openai" as const, name, latency_ms: 5 })),
  route: {
    retry: { attempts: 3, budget: { percent: 20, min_per_sec: 1, ttl_s: 10 } },
    breaker: { open_s: 1, max_open_s: 2 },
    key_disable: { probe_interval_s: 1 },
  },
  target: (_, i) => ({ id: `t${i}`, key: `sk-outage-000${i}` }),
});
const { sims, gw } = f;
after(() => f.close());

test("a 10 s outage of every target under steady load: bounded upstream calls, 503 + Retry-After, recovery without restart", async () => {
  await fire(gw.url, 60, 6); // healthy warm-up
  for (const s of sims) s.resetStats();
  await Promise.all(sims.map((s) => s.set({ error_rate: 1, error_status: 500 })));
  const outageEnds = Date.now() + 10_000;
  const shots: Awaited<ReturnType<typeof fire>> = [];
  while (Date.now() < outageEnds) {
    shots.push(...(await fire(gw.url, 40, 8)));
    await sleep(50);
  }
  const upstream = sims.reduce((n, s) => n + s.stats().requests, 0);
  const clientRequests = shots.length;
  const statuses = countBy(shots, (s) => String(s.status));
  // Retries are limited to 20 % of requests (plus 1/s × 10 s), and open breakers stop the rest.
  assert.ok(upstream <= 1.2 * clientRequests + 10, `upstream saw ${upstream} calls for ${clientRequests} client requests`);
  assert.equal(statuses["200"], undefined, "nothing succeeded during the outage");
  assert.ok((statuses["503"] ?? 0) > clientRequests * 0.8, `mostly 503s: ${JSON.stringify(statuses)}`);
  const unavailable = shots.filter((s) => s.status === 503);
  assert.ok(
    unavailable.every((s) => Number(s.headers["retry-after"]) >= 1),
    "every 503 carries Retry-After",
  );
  assert.equal(JSON.parse(unavailable[0]!.body).error.code, "no_target_available");
  // Recovery: the upstreams heal, traffic resumes by itself.
  await Promise.all(sims.map((s) => s.set({ error_rate: 0 })));
  let recovered = 0;
  const deadline = Date.now() + 8_000;
  while (Date.now() < deadline && recovered < 30) {
    const r = await fire(gw.url, 10, 2);
    recovered += r.filter((s) => s.status === 200).length;
    await sleep(100);
  }
  assert.ok(recovered >= 30, `traffic resumed (${recovered} successes)`);
});
