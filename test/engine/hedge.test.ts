/**
 * Hedged requests (hedge.ts): after hedge.delay_ms without an answer a second attempt goes to
 * another target; the first answer wins and the loser's upstream call is aborted. A failed racer
 * does not end the race while another still runs. Only requests safe to repeat are hedged.
 */
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { test } from "node:test";
import {
  apiError,
  chat,
  chatAt,
  chatRoute,
  completion,
  gatewayWith,
  JSON_HEADERS,
  openaiTarget,
  origin,
  restRoute,
  restTarget,
  unused,
} from "./fake-upstreams.js";

const HEDGE = { enabled: true, delay_ms: 20 } as const;
const SLOW_MS = 1_000;

test("a slow first target is hedged: the second answers long before the first would", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { hedge: HEDGE })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(200, completion("slow"), { headers: JSON_HEADERS }).delay(SLOW_MS);
  chatAt(f.agent, "b").reply(200, completion("fast"), { headers: JSON_HEADERS });

  const started = performance.now();
  const res = await chat(f);
  const elapsed = performance.now() - started;

  assert.equal(res.target, "b");
  assert.equal(res.headers["x-switchyard-target"], "b");
  assert.equal(res.headers["x-switchyard-attempts"], "2");
  assert.deepEqual(res.body, completion("fast"));
  assert.ok(elapsed < SLOW_MS / 2, `answered after ${Math.round(elapsed)} ms`);
  await tick(); // the loser's abort settles on its own
  const loser = f.attempts.find((a) => a.target === "a");
  assert.equal(loser?.status, 499);
  assert.match(loser?.detail ?? "", /cancelled/);
});

test("a fast first target is not hedged", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { hedge: HEDGE })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

  const res = await chat(f);

  assert.equal(res.target, "a");
  assert.equal(res.attempts, 1);
  assert.deepEqual(unused(f.agent), ["http://b.test"]);
});

test("the first racer failing does not end the race: the hedge still answers", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { hedge: HEDGE, retry: { attempts: 1 } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom"), { headers: JSON_HEADERS }).delay(40);
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS }).delay(60);

  const res = await chat(f);

  assert.equal(res.target, "b");
  assert.equal(res.attempts, 2);
});

test("a non-idempotent REST POST is never hedged (it could act twice)", async (t) => {
  const f = gatewayWith({ routes: [restRoute([restTarget("r1"), restTarget("r2")], { hedge: HEDGE })] });
  t.after(() => f.close());
  f.agent
    .get(origin("r1"))
    .intercept({ path: "/api/v1/orders", method: "POST" })
    .reply(200, { id: 1 }, { headers: JSON_HEADERS })
    .delay(60);
  f.agent.get(origin("r2")).intercept({ path: "/api/v1/orders", method: "POST" }).reply(200, { id: 2 }, { headers: JSON_HEADERS });

  const res = await f.gateway.request("orders", { method: "POST", path: "/v1/orders", body: { qty: 1 } });

  assert.equal(res.target, "r1");
  assert.deepEqual(res.body, { id: 1 });
  assert.deepEqual(unused(f.agent), ["http://r2.test"]);
});
