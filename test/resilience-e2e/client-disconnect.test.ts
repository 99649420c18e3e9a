import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { chatBody } from "../helpers/harness.js";
import { simRoute } from "../helpers/sim-route.js";
import { until } from "../helpers/wait.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "slow", latency_ms: 3000 },
    { dialect: "openai", name: "streaming", stream_chunks: 200, chunk_interval_ms: 20 },
  ],
  routes: ([slow, streaming]) => [
    {
      name: "slow",
      surface: "openai",
      models: ["slow"],
      targets: [{ id: "slow", provider: "openai", base_url: slow.url, key: "sk-slow-0001" }],
    },
    {
      name: "streaming",
      surface: "openai",
      models: ["streaming"],
      targets: [{ id: "streaming", provider: "openai", base_url: streaming.url, key: "sk-stream-0002" }],
    },
  ],
});
const {
  gw,
  sims: [slow, streaming],
} = f;
after(() => f.close());

test("a client that disconnects before the answer cancels the upstream call", async () => {
  const ac = new AbortController();
  const pending = request(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(chatBody("slow")),
    signal: ac.signal,
  });
  assert.ok(await until(() => slow.stats().in_flight === 1, 2000));
  ac.abort();
  await assert.rejects(pending);
  assert.ok(await until(() => slow.stats().aborted === 1, 2000), "the upstream call was aborted");
  assert.ok(await until(async () => (await gw.status()).totals.in_flight === 0, 2000));
});

test("a client that disconnects mid-stream cancels the upstream stream", async () => {
  const ac = new AbortController();
  const res = await request(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(chatBody("streaming", { stream: true })),
    signal: ac.signal,
  });
  let chunks = 0;
  await assert.rejects(
    (async () => {
      for await (const _ of res.body) if (++chunks === 5) ac.abort();
    })(),
  );
  assert.ok(await until(() => streaming.stats().aborted === 1, 2000), "the upstream stream was aborted");
  assert.equal(streaming.stats().completed, 0);
  const status = await gw.status();
  assert.equal(status.routes[1].targets[0].stats.in_flight, 0);
  assert.equal(status.routes[1].targets[0].stats.failures, 0, "a client leaving is not the target's failure");
});
