import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { countBy } from "../helpers/count.js";
import { sleep } from "../helpers/wait.js";

const f = await simRoute({
  sims: ["a", "b", "c"].map((name) => ({ dialect: "openai" as const, name, latency_ms: 2 })),
  target: (_, i) => ({ id: `k${i}`, key: `sk-ratelimit-000${i}` }),
});
const { sims, gw } = f;
after(() => f.close());

test("a key answering 429 with Retry-After: 2 gets no call for 2 s, others take the load, then it is used again", async () => {
  const limited = sims[1]!;
  await limited.set({ rate_limit_rate: 1, retry_after_s: 2 });
  // Load until the limited key has answered its 429.
  const before = await fire(gw.url, 30, 3);
  assert.deepEqual(
    countBy(before, (s) => String(s.status)),
    { "200": 30 },
  );
  const log429 = limited.stats().log.filter((e) => e.status === 429);
  assert.equal(log429.length, 1, "exactly one call reached the limited key before it was benched");
  const benchedAt = log429[0]!.at;
  await limited.set({ rate_limit_rate: 0 });
  // Steady load for the next ~1.8 s: everything served by the other keys.
  const during: string[] = [];
  while (Date.now() < benchedAt + 1800) {
    const shots = await fire(gw.url, 20, 4);
    for (const s of shots) {
      assert.equal(s.status, 200);
      during.push(s.target);
    }
  }
  assert.ok(during.length > 40);
  assert.ok(!during.includes("k1"), "no answer came from the benched key");
  const callsInBench = limited.stats().log.filter((e) => e.at > benchedAt && e.at < benchedAt + 2000);
  assert.equal(callsInBench.length, 0, "the simulator saw zero calls to that key during its 2 s");
  const status = await gw.status();
  assert.ok(status.routes[0].targets[1].rate_limit.benched_until, "status shows the bench");
  assert.deepEqual(status.routes[0].targets[1].excluded_by, ["rate_limit"]);
  await sleep(Math.max(0, benchedAt + 2100 - Date.now()));
  const afterwards = await fire(gw.url, 30, 3);
  assert.ok(countBy(afterwards, (s) => s.target)["k1"]! > 0, "the key is used again after its reset");
});
