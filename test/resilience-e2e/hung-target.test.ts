import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chatBody } from "../helpers/harness.js";
import { simRoute } from "../helpers/sim-route.js";
import { postJson } from "../helpers/http.js";
import { until } from "../helpers/wait.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "hung", hang: true },
    { dialect: "openai", name: "ok", latency_ms: 5 },
  ],
  route: { timeouts: { first_byte_ms: 1000 } },
  target: [
    { id: "hung", key: "sk-hung-0001" },
    { id: "ok", key: "sk-ok-0002" },
  ],
});
const {
  gw,
  sims: [hung],
} = f;
after(() => f.close());

test("a hung target: the 1 s first-byte timeout fails over, the request completes in < 1.5 s, the hung connection is closed", async () => {
  const t0 = performance.now();
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody("demo"));
  const ms = performance.now() - t0;
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("x-switchyard-target"), "ok");
  assert.equal(r.headers.get("x-switchyard-attempts"), "2");
  assert.ok(ms >= 990 && ms < 1500, `took ${ms.toFixed(0)} ms`);
  assert.ok(await until(() => hung.stats().aborted === 1, 2000), "the simulator saw the hung call cancelled (socket closed)");
  assert.equal(hung.stats().in_flight, 0);
  const status = await gw.status();
  assert.equal(status.routes[0].targets[0].stats.by_outcome.timeout, 1);
});
