/**
 * The retry budget (retry-budget.ts) bounds retries across a route's requests, so an outage does
 * not multiply the load on it: once spent, a failed request is answered instead of retried, and
 * the client is told why. Hedges draw on the same budget.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  apiError,
  chat,
  chatAt,
  chatRoute,
  completion,
  gatewayError,
  gatewayWith,
  JSON_HEADERS,
  kinds,
  openaiTarget,
  unused,
} from "./fake-upstreams.js";

test("once the retry budget is spent, a failed request is not retried and the 502 says why", async (t) => {
  // percent 0 and min_per_sec × ttl_s = 1: exactly one retry in the window.
  const budget = { percent: 0, min_per_sec: 0.1, ttl_s: 10 };
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 2, budget } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom"), { headers: JSON_HEADERS }).times(2);
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS }).times(2);

  const first = await chat(f);
  assert.equal(first.target, "b", "the budget's one retry");

  const err = await gatewayError(chat(f));
  assert.equal(err.code, "upstream_error");
  assert.match(err.message, /retry budget is spent/);
  assert.deepEqual(kinds(f), [
    ["a", "server_error"],
    ["b", "ok"],
    ["a", "server_error"],
  ]);
  assert.deepEqual(unused(f.agent), ["http://b.test"]);
  assert.equal(f.route().policies.budget?.refused, 1);
});

test("a spent retry budget sends no hedge either: the slow first attempt answers", async (t) => {
  const budget = { percent: 0, min_per_sec: 0, ttl_s: 10 };
  const f = gatewayWith({
    routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { budget }, hedge: { enabled: true, delay_ms: 10 } })],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(200, completion("slow"), { headers: JSON_HEADERS }).delay(60);
  chatAt(f.agent, "b").reply(200, completion("fast"), { headers: JSON_HEADERS });

  const res = await chat(f);

  assert.equal(res.target, "a");
  assert.equal(res.attempts, 1);
  assert.deepEqual(unused(f.agent), ["http://b.test"]);
});
