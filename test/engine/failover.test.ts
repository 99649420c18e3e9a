/**
 * The attempt loop's retry decisions (attempt-loop.ts, retry-policy.ts): fail over first,
 * retry.attempts, retry_on, retry.target / same_target_on, and what the client is told when
 * every attempt failed.
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
  retryAfterSecs,
  unused,
} from "./fake-upstreams.js";

/** A backoff long enough that a test would notice waiting it. */
const SLOW_BACKOFF = { kind: "fixed", base_ms: 1_000, max_ms: 1_000, jitter: "none" } as const;

test("fail over first: the next target is called at once, without the backoff", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 2, backoff: SLOW_BACKOFF } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom"), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

  const started = performance.now();
  const res = await chat(f);
  const elapsed = performance.now() - started;

  assert.equal(res.target, "b");
  assert.equal(res.headers["x-switchyard-attempts"], "2");
  assert.deepEqual(kinds(f), [
    ["a", "server_error"],
    ["b", "ok"],
  ]);
  assert.ok(elapsed < 500, `failover took ${Math.round(elapsed)} ms: it waited the 1 s backoff`);
});

test("a target tried again is called after the backoff", async (t) => {
  const backoff = { kind: "fixed", base_ms: 60, max_ms: 60, jitter: "none" } as const;
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a")], { retry: { attempts: 2, backoff } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom"), { headers: JSON_HEADERS });
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS });

  const started = performance.now();
  const res = await chat(f);
  const elapsed = performance.now() - started;

  assert.equal(res.target, "a");
  assert.equal(res.attempts, 2);
  assert.ok(elapsed >= 55, `retried the same target after ${Math.round(elapsed)} ms, before its 60 ms backoff`);
});

test("retry.attempts caps the attempts: the third target is never called", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b"), openaiTarget("c")], { retry: { attempts: 2 } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom a"), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(500, apiError("boom b"), { headers: JSON_HEADERS });
  chatAt(f.agent, "c").reply(200, completion(), { headers: JSON_HEADERS });

  const err = await gatewayError(chat(f));

  assert.equal(err.code, "upstream_error");
  assert.deepEqual(kinds(f), [
    ["a", "server_error"],
    ["b", "server_error"],
  ]);
  assert.deepEqual(unused(f.agent), ["http://c.test"]);
});

test("a kind left out of retry_on is not retried: the client gets the failure at once", async (t) => {
  const f = gatewayWith({
    routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 3, retry_on: ["server_error"] } })],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(503, apiError("busy"), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

  const err = await gatewayError(chat(f));

  assert.equal(err.code, "upstream_error");
  assert.equal(err.status, 502);
  assert.match(err.message, /target a \(503 from upstream: busy\)/);
  assert.deepEqual(kinds(f), [["a", "overloaded"]]);
  assert.deepEqual(unused(f.agent), ["http://b.test"]);
});

test("retry.target: same retries the target that failed, not the next one", async (t) => {
  const backoff = { kind: "fixed", base_ms: 1, max_ms: 1, jitter: "none" } as const;
  const f = gatewayWith({
    routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 2, target: "same", backoff } })],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom"), { headers: JSON_HEADERS });
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

  const res = await chat(f);

  assert.equal(res.target, "a");
  assert.equal(res.attempts, 2);
  assert.deepEqual(kinds(f), [
    ["a", "server_error"],
    ["a", "ok"],
  ]);
  assert.deepEqual(unused(f.agent), ["http://b.test"]);
});

test("same_target_on retries its kinds on the same target; other kinds still fail over", async (t) => {
  const backoff = { kind: "fixed", base_ms: 1, max_ms: 1, jitter: "none" } as const;
  const f = gatewayWith({
    routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 2, same_target_on: ["timeout"], backoff } })],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(408, apiError("request timeout"), { headers: JSON_HEADERS });
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS });

  const timedOut = await chat(f);
  assert.equal(timedOut.target, "a", "a timeout is retried on a");

  chatAt(f.agent, "a").reply(500, apiError("boom"), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });
  const failed = await chat(f);
  assert.equal(failed.target, "b", "a server error fails over to b");

  assert.deepEqual(kinds(f), [
    ["a", "timeout"],
    ["a", "ok"],
    ["a", "server_error"],
    ["b", "ok"],
  ]);
});

test("every attempt failed: 502 upstream_error naming the last target and why, with Retry-After", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 2 } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom a"), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(500, apiError("boom b"), { headers: JSON_HEADERS });

  const err = await gatewayError(chat(f));

  assert.equal(err.code, "upstream_error");
  assert.equal(err.status, 502);
  assert.match(err.message, /all 2 targets tried failed; last: target b \(500 from upstream: boom b\)/);
  assert.ok(retryAfterSecs(err) >= 1, `Retry-After ${String(err.headers?.["retry-after"])}`);
});

test("every attempt timed out: 504 upstream_timeout, with Retry-After", async (t) => {
  const f = gatewayWith({
    routes: [chatRoute([openaiTarget("a"), openaiTarget("b", { timeouts: { first_byte_ms: 20 } })], { retry: { attempts: 2 } })],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(408, apiError("request timeout"), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS }).delay(1_000);

  const err = await gatewayError(chat(f));

  assert.equal(err.code, "upstream_timeout");
  assert.equal(err.status, 504);
  assert.match(err.message, /last: target b \(no first byte within 20 ms\)/);
  assert.deepEqual(kinds(f), [
    ["a", "timeout"],
    ["b", "timeout"],
  ]);
  assert.ok(retryAfterSecs(err) >= 1);
});
