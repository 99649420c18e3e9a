import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "undici";
import { simRoute } from "../helpers/sim-route.js";
import { until } from "../helpers/wait.js";

const f = await simRoute({
  sims: [{ dialect: "openai", name: "busy", latency_ms: 30 }],
  routes: ([sim]) => [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      queue: { size: 100, timeout_ms: 20_000 },
      targets: [{ id: "busy", provider: "openai", base_url: sim.url, key: "sk-queue-0001", limits: { max_concurrent: 1 } }],
    },
    {
      name: "tiny",
      surface: "openai",
      models: ["tiny"],
      queue: { size: 2, timeout_ms: 300 },
      targets: [{ id: "tiny", provider: "openai", base_url: sim.url, key: "sk-queue-0002", limits: { max_concurrent: 1 } }],
    },
  ],
});
const {
  gw,
  sims: [sim],
} = f;
const client = new Pool(gw.url, { connections: 128 });
after(async () => {
  await client.close();
  await f.close();
});

async function send(model: string, priority?: string) {
  const res = await client.request({
    path: "/v1/chat/completions",
    method: "POST",
    headers: { "content-type": "application/json", ...(priority ? { "x-switchyard-priority": priority } : {}) },
    body: JSON.stringify({ model, messages: [{ role: "user", content: priority ?? "none" }] }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: JSON.parse(text) };
}

test("with the target at its max in-flight, 100 queued requests of mixed priority are served critical first", async () => {
  // The blocker holds the only slot for 500 ms, long enough for all 100 to queue behind it.
  await sim.set({ latency_ms: 500 });
  const blocker = send("demo", "low");
  await until(() => sim.stats().in_flight === 1);
  await sim.set({ latency_ms: 5 });
  const order: string[] = [];
  const priorities = ["low", "normal", "high", "critical"];
  const queued = Array.from({ length: 100 }, (_, i) => {
    const p = priorities[(i * 7) % 4]!;
    return send("demo", p).then((r) => {
      assert.equal(r.status, 200);
      order.push(p);
    });
  });
  assert.ok(await until(async () => (await gw.status()).routes[0].queue.waiting === 100, 400), "all 100 wait in the queue");
  await blocker;
  await Promise.all(queued);
  const rank = (p: string) => ["critical", "high", "normal", "low"].indexOf(p);
  for (let i = 1; i < order.length; i++) assert.ok(rank(order[i - 1]!) <= rank(order[i]!), `served in priority order: ${order.join(",")}`);
  assert.equal(sim.stats().max_in_flight, 1, "the bulkhead held");
  const q = (await gw.status()).routes[0].queue;
  assert.equal(q.waited, 100);
  assert.ok(q.wait_ms_max > 0);
});

test("queue overflow answers 503 queue_full and a queue timeout 503 queue_timeout, both with Retry-After", async () => {
  await sim.set({ latency_ms: 1500 });
  const results = await Promise.all(Array.from({ length: 5 }, () => send("tiny")));
  const codes = results.map((r) => (r.status === 200 ? "ok" : r.json.error.code)).sort();
  // one in flight, two queued (they time out after 300 ms), two overflow at once
  assert.deepEqual(codes, ["ok", "queue_full", "queue_full", "queue_timeout", "queue_timeout"]);
  for (const r of results.filter((r) => r.status !== 200)) {
    assert.equal(r.status, 503);
    assert.equal(r.headers["retry-after"], "1");
  }
  await sim.set({ latency_ms: 30 });
});

test("an unknown priority is refused with a clear 400", async () => {
  const r = await send("demo", "urgent");
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /x-switchyard-priority: must be one of critical, high, normal, low/);
});
