/**
 * An upstream's Retry-After before a target is tried again (retry-policy.ts delayBefore):
 * waited for when it is at most retry.max_retry_after_ms and the target is still eligible, else
 * the request gives up at once rather than hold the client. A 429 benches the key (by default):
 * then the request waits only when the route says so (queue.wait_when_unavailable).
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
} from "./fake-upstreams.js";

/** A backoff too short to matter: any wait seen is the Retry-After's. */
const NO_BACKOFF = { kind: "fixed", base_ms: 0, max_ms: 0, jitter: "none" } as const;
const RETRY_AFTER_MS = 60;

test("a 429 benches the only key: the client gets 429 with its Retry-After at once, the gateway holds nothing", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a")], { retry: { attempts: 2, backoff: NO_BACKOFF } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after": "2" } });

  const err = await gatewayError(chat(f));

  assert.equal(err.code, "rate_limited");
  assert.equal(err.headers?.["retry-after"], "2");
  assert.deepEqual(kinds(f), [["a", "rate_limited"]]);
});

test("with queue.wait_when_unavailable, the request waits out the bench in the queue and the key is tried again", async (t) => {
  const f = gatewayWith({
    routes: [
      chatRoute([openaiTarget("a")], {
        retry: { attempts: 2, backoff: NO_BACKOFF },
        queue: { size: 4, timeout_ms: 2_000, wait_when_unavailable: true },
      }),
    ],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after-ms": String(RETRY_AFTER_MS) } });
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS });

  const started = performance.now();
  const res = await chat(f);
  const elapsed = performance.now() - started;

  assert.equal(res.target, "a");
  assert.deepEqual(kinds(f), [
    ["a", "rate_limited"],
    ["a", "ok"],
  ]);
  assert.ok(elapsed >= RETRY_AFTER_MS - 5, `retried after ${Math.round(elapsed)} ms, not before the bench ended`);
});

test("with rate_limits off, a 429's Retry-After is waited before the same target is retried", async (t) => {
  const f = gatewayWith({
    routes: [chatRoute([openaiTarget("a")], { retry: { attempts: 2, backoff: NO_BACKOFF }, rate_limits: { enabled: false } })],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after-ms": String(RETRY_AFTER_MS) } });
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS });

  const started = performance.now();
  const res = await chat(f);
  const elapsed = performance.now() - started;

  assert.equal(res.target, "a");
  assert.deepEqual(kinds(f), [
    ["a", "rate_limited"],
    ["a", "ok"],
  ]);
  assert.ok(elapsed >= RETRY_AFTER_MS - 5, `retried after ${Math.round(elapsed)} ms, before the Retry-After`);
});

test("a Retry-After longer than max_retry_after_ms is not waited: the client gets 429 at once", async (t) => {
  const retry = { attempts: 2, backoff: NO_BACKOFF, max_retry_after_ms: 20 };
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a")], { retry, rate_limits: { enabled: false } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after": "5" } });
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS });

  const started = performance.now();
  const err = await gatewayError(chat(f));
  const elapsed = performance.now() - started;

  assert.equal(err.code, "rate_limited");
  assert.equal(err.headers?.["retry-after"], "5");
  assert.deepEqual(kinds(f), [["a", "rate_limited"]]);
  assert.ok(elapsed < 1_000, `gave up after ${Math.round(elapsed)} ms`);
});
