import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { until } from "../helpers/wait.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "slow", latency_ms: 1000 },
    { dialect: "openai", name: "fast", latency_ms: 10 },
  ],
  route: { hedge: { enabled: true, delay_ms: 100 }, retry: { budget: { percent: 100, min_per_sec: 100 } } },
  target: [
    { id: "slow", key: "sk-hedge-0001" },
    { id: "fast", key: "sk-hedge-0002" },
  ],
});
const {
  gw,
  sims: [slow],
} = f;
after(() => f.close());

test("hedging: a call stuck on the 1 s target is answered by a hedge after 100 ms and the loser is cancelled", async () => {
  const shots = await fire(gw.url, 40, 4);
  assert.ok(shots.every((s) => s.status === 200));
  const hedged = shots.filter((s) => s.headers["x-switchyard-attempts"] === "2");
  assert.ok(hedged.length >= 10, `about half the requests started on the slow target and were hedged (${hedged.length})`);
  assert.ok(hedged.every((s) => s.target === "fast"));
  assert.ok(
    shots.every((s) => s.ms < 900),
    "no request waited for the slow target",
  );
  // The losers' upstream calls were aborted: the slow simulator saw them closed before answering.
  assert.ok(await until(() => slow.stats().in_flight === 0, 3000));
  assert.equal(slow.stats().aborted, slow.stats().requests, "every call to the slow target was cancelled");
  assert.equal(slow.stats().completed, 0);
});
