/**
 * Timeouts: timeouts.total_ms is one deadline over the whole request (every attempt and every
 * wait between them), answered 504 upstream_timeout as soon as it passes; first_byte_ms bounds
 * one attempt, which then fails over like any other timeout.
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
} from "./fake-upstreams.js";

const TOTAL_MS = 100;
const SLOW_MS = 1_000;

test("an upstream slower than timeouts.total_ms: 504 upstream_timeout when the deadline passes", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a")], { timeouts: { total_ms: TOTAL_MS } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS }).delay(SLOW_MS);

  const started = performance.now();
  const err = await gatewayError(chat(f));
  const elapsed = performance.now() - started;

  assert.equal(err.code, "upstream_timeout");
  assert.equal(err.status, 504);
  assert.match(err.message, /request deadline of 100 ms passed/);
  assert.ok(retryAfterSecs(err) >= 1);
  assert.ok(elapsed < SLOW_MS / 2, `answered after ${Math.round(elapsed)} ms`);
  assert.deepEqual(kinds(f), [["a", "timeout"]]);
});

test("the deadline spans attempts: 504 even when an earlier attempt failed otherwise", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { timeouts: { total_ms: TOTAL_MS } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom"), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS }).delay(SLOW_MS);

  const started = performance.now();
  const err = await gatewayError(chat(f));
  const elapsed = performance.now() - started;

  assert.equal(err.code, "upstream_timeout");
  assert.ok(elapsed < SLOW_MS / 2, `answered after ${Math.round(elapsed)} ms`);
  assert.deepEqual(kinds(f), [
    ["a", "server_error"],
    ["b", "timeout"],
  ]);
});

test("the deadline cuts a backoff wait short", async (t) => {
  const backoff = { kind: "fixed", base_ms: SLOW_MS, max_ms: SLOW_MS, jitter: "none" } as const;
  const f = gatewayWith({
    routes: [chatRoute([openaiTarget("a")], { timeouts: { total_ms: TOTAL_MS }, retry: { attempts: 2, backoff } })],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(500, apiError("boom"), { headers: JSON_HEADERS });

  const started = performance.now();
  const err = await gatewayError(chat(f));
  const elapsed = performance.now() - started;

  assert.equal(err.code, "upstream_timeout");
  assert.ok(elapsed < SLOW_MS / 2, `answered after ${Math.round(elapsed)} ms: it slept the whole backoff`);
  assert.deepEqual(kinds(f), [["a", "server_error"]], "no attempt after the deadline");
});

test("first_byte_ms times out one attempt and the request fails over to the next target", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a", { timeouts: { first_byte_ms: 30 } }), openaiTarget("b")])] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(200, completion("slow"), { headers: JSON_HEADERS }).delay(SLOW_MS);
  chatAt(f.agent, "b").reply(200, completion("fast"), { headers: JSON_HEADERS });

  const started = performance.now();
  const res = await chat(f);
  const elapsed = performance.now() - started;

  assert.equal(res.target, "b");
  assert.equal(res.attempts, 2);
  assert.deepEqual(res.body, completion("fast"));
  assert.ok(elapsed < SLOW_MS / 2, `answered after ${Math.round(elapsed)} ms`);
  assert.deepEqual(kinds(f), [
    ["a", "timeout"],
    ["b", "ok"],
  ]);
  assert.equal(f.attempts[0]!.detail, "no first byte within 30 ms");
});
