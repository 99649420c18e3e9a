/**
 * timeouts.total_ms against the queue: a request waiting for a target (here with
 * queue.wait_when_unavailable, behind a benched key) is still bound by its own deadline. It
 * gets 504 upstream_timeout when the deadline passes, and never calls an upstream after it.
 * (Both were bugs: the queue waited out queue.timeout_ms whatever the deadline, and a request
 * woken after its deadline still called the target, with no deadline left to stop it.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  chat,
  chatAt,
  chatRoute,
  completion,
  type FakeGateway,
  gatewayError,
  gatewayWith,
  JSON_HEADERS,
  openaiTarget,
} from "./fake-upstreams.js";

const TOTAL_MS = 100;

/** One target benched for `benchMs`; requests may wait for it up to queueTimeoutMs. */
function benchedBehindQueue(benchMs: number, queueTimeoutMs: number): FakeGateway {
  const f = gatewayWith({
    routes: [
      chatRoute([openaiTarget("a")], {
        timeouts: { total_ms: TOTAL_MS },
        queue: { size: 4, timeout_ms: queueTimeoutMs, wait_when_unavailable: true },
      }),
    ],
  });
  const now = Date.now();
  f.route().policies.bench.bench(f.target("a"), now + benchMs, now, "rate_limited");
  return f;
}

test("the deadline cuts a queue wait short: 504 at total_ms, not 503 at queue.timeout_ms", async (t) => {
  const f = benchedBehindQueue(2_000, 600);
  t.after(() => f.close());

  const started = performance.now();
  const err = await gatewayError(chat(f));
  const elapsed = performance.now() - started;

  assert.equal(err.code, "upstream_timeout");
  assert.ok(elapsed < 400, `answered after ${Math.round(elapsed)} ms`);
});

test("a request woken from the queue after its deadline calls no upstream", async (t) => {
  // The key comes back at 120 ms, after the 100 ms deadline; the upstream takes 250 ms.
  const f = benchedBehindQueue(120, 1_000);
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS }).delay(250);

  const err = await gatewayError(chat(f));

  assert.equal(err.code, "upstream_timeout");
  assert.deepEqual(f.attempts, [], "no attempt started after the deadline");
});
