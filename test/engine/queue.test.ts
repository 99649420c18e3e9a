/**
 * The bulkhead and the route's priority queue (acquire.ts, priority-queue.ts): with every target
 * at limits.max_concurrent, requests wait and are served by priority (FIFO within one); a full
 * queue or a wait past queue.timeout_ms is a 503 with Retry-After (the request never reached an
 * upstream, so the client may retry it).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { InProcessResponse } from "../../src/index.js";
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
  retryAfterSecs,
} from "./fake-upstreams.js";

/** One target taking one call at a time, behind a queue. */
function oneAtATime(queue: { size: number; timeout_ms: number }): FakeGateway {
  return gatewayWith({ routes: [chatRoute([openaiTarget("a", { limits: { max_concurrent: 1 } })], { queue })] });
}

/** A chat request whose message (what the upstream sees) names it. */
function send(f: FakeGateway, name: string, priority?: string): Promise<InProcessResponse> {
  return chat(f, {
    body: { model: "m", messages: [{ role: "user", content: name }] },
    headers: priority === undefined ? {} : { "x-switchyard-priority": priority },
  });
}

/** The message content of an upstream request body. */
function messageOf(body: unknown): string {
  const json = JSON.parse(String(body)) as { messages: { content: string }[] };
  return json.messages[0]!.content;
}

test("waiting requests are served by priority: critical, high, normal, low", async (t) => {
  const f = oneAtATime({ size: 4, timeout_ms: 1_000 });
  t.after(() => f.close());
  const served: string[] = [];
  chatAt(f.agent, "a")
    .reply(
      200,
      (opts) => {
        served.push(messageOf(opts.body));
        return completion();
      },
      { headers: JSON_HEADERS },
    )
    .delay(5)
    .persist();

  // The first takes the only slot; the others queue in the worst order.
  const all = [send(f, "first"), send(f, "low", "low"), send(f, "normal"), send(f, "high", "high"), send(f, "critical", "critical")];
  const results = await Promise.all(all);

  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200, 200, 200],
  );
  assert.deepEqual(served, ["first", "critical", "high", "normal", "low"]);
  assert.equal(f.route().policies.queue.waited, 4);
});

test("a full queue refuses at once: 503 queue_full with Retry-After", async (t) => {
  const f = oneAtATime({ size: 1, timeout_ms: 1_000 });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS }).delay(30).persist();

  const inFlight = send(f, "in flight");
  const waiting = send(f, "waiting");
  const err = await gatewayError(send(f, "overflow"));

  assert.equal(err.code, "queue_full");
  assert.equal(err.status, 503);
  assert.ok(retryAfterSecs(err) >= 1);
  assert.equal((await inFlight).status, 200);
  assert.equal((await waiting).status, 200, "the queued request is served once the slot frees");
});

test("a request waiting past queue.timeout_ms gets 503 queue_timeout with Retry-After", async (t) => {
  const f = oneAtATime({ size: 1, timeout_ms: 40 });
  t.after(() => f.close());
  const SLOW_MS = 500;
  chatAt(f.agent, "a").reply(200, completion(), { headers: JSON_HEADERS }).delay(SLOW_MS);

  const inFlight = send(f, "in flight");
  const started = performance.now();
  const err = await gatewayError(send(f, "waiting"));
  const waited = performance.now() - started;

  assert.equal(err.code, "queue_timeout");
  assert.equal(err.status, 503);
  assert.ok(retryAfterSecs(err) >= 1);
  assert.ok(waited < SLOW_MS / 2, `gave up after ${Math.round(waited)} ms: it waited for the slot, not its 40 ms queue timeout`);
  assert.equal((await inFlight).status, 200);
  assert.equal(f.route().policies.queue.timeouts, 1);
});
