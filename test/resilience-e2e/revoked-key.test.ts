import { test, after } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { countBy } from "../helpers/count.js";
import { sleep } from "../helpers/wait.js";

const f = await simRoute({
  sims: [{ dialect: "openai", name: "shared", latency_ms: 2, revoked_keys: ["sk-revoked-0002"] }],
  // Three keys of one provider: three targets on the one sim.
  routes: ([sim]) => [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      slow_start: { enabled: false }, // a re-enabled key would otherwise ramp up from 10 % of its share
      targets: [
        { id: "good-1", provider: "openai", base_url: sim.url, key: "sk-good-0001" },
        { id: "revoked", provider: "openai", base_url: sim.url, key: "sk-revoked-0002" },
        { id: "good-2", provider: "openai", base_url: sim.url, key: "sk-good-0003" },
      ],
    },
  ],
});
const {
  gw,
  sims: [sim],
} = f;
after(() => f.close());

test("a revoked key (401) is disabled, never called again until re-enabled, and clients never see its 401", async () => {
  const shots = await fire(gw.url, 300, 8);
  assert.deepEqual(
    countBy(shots, (s) => String(s.status)),
    { "200": 300 },
  );
  const calls = sim.stats().by_key["sk-revoked-0002"]!;
  assert.ok(calls >= 1 && calls <= 8, `only the calls already under way when the first 401 came back reached it (${calls})`);
  const status = await gw.status();
  const t = status.routes[0].targets[1];
  assert.equal(t.eligible, false);
  assert.deepEqual(t.excluded_by, ["key_disabled"]);
  assert.equal(t.key_disabled.reason, "auth");
  assert.doesNotMatch(JSON.stringify(status), /sk-revoked-0002/);
  // Time alone does not bring it back: no probes of an auth-disabled key.
  await sleep(1500);
  await fire(gw.url, 50, 4);
  assert.equal(sim.stats().by_key["sk-revoked-0002"], calls, "never called again");
  // An operator re-enables it through the admin API.
  const res = await fetch(`${gw.url}/admin/routes/chat/targets/revoked/enable`, { method: "POST" });
  assert.equal(res.status, 200);
  await fire(gw.url, 30, 3);
  const again = sim.stats().by_key["sk-revoked-0002"]!;
  assert.ok(again > calls && again <= calls + 3, `called again after re-enabling (and disabled again on its 401): ${calls} then ${again}`);
});
