import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { countBy } from "../helpers/count.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "limited", key_quota: { requests: 100, window_s: 60 } },
    { dialect: "openai", name: "roomy" },
  ],
  route: { strategy: "round-robin" },
  target: [
    { id: "limited", key: "sk-quota-0001" },
    { id: "roomy", key: "sk-roomy-0002" },
  ],
});
const {
  gw,
  sims: [limited],
} = f;
after(() => f.close());

test("a key whose provider says its quota is nearly spent gets a smaller share until the reset, before any 429", async () => {
  // Round-robin would give the limited key 94 of 188 calls; its share starts shrinking once fewer
  // than 10 % of its 100 remain, so it ends a little under that, with a handful left.
  const first = await fire(gw.url, 188, 1);
  assert.deepEqual(
    countBy(first, (s) => String(s.status)),
    { "200": 188 },
  );
  const used = limited.stats().requests;
  assert.ok(used >= 85 && used <= 94, `limited key used ${used} of its 100`);
  const status = await gw.status();
  const share = status.routes[0].targets[0].rate_limit?.share;
  assert.ok(share !== undefined && share < 1, `the limited key's share is lowered (${share})`);
  // From now on it takes much less than half, and no client sees its quota run out.
  const next = await fire(gw.url, 40, 1);
  assert.deepEqual(
    countBy(next, (s) => String(s.status)),
    { "200": 40 },
  );
  const byTarget = countBy(next, (s) => s.target);
  assert.ok((byTarget.limited ?? 0) < 12, `the limited key took ${byTarget.limited ?? 0} of 40 (round-robin alone: 20)`);
  assert.equal(limited.stats().by_status["429"], undefined, "it never reached a 429");
});
