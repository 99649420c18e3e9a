/**
 * How the engine classifies each upstream answer or socket error (classify.ts), seen from the
 * outside: the outcome kind published per attempt, whether the request moved on, what the client
 * got, and what a rate-limit answer did to the key (its bench).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { OutcomeKind } from "../../src/core/outcome.js";
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
  socketError,
  unused,
} from "./fake-upstreams.js";

/** Two targets, a then b; one attempt per target so nothing goes back to a. */
function twoTargets() {
  return gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 2 } })] });
}

test("a 200 is ok: relayed with the target and the attempt count", async (t) => {
  const f = twoTargets();
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(200, completion("hello"), { headers: JSON_HEADERS });

  const res = await chat(f);

  assert.equal(res.status, 200);
  assert.equal(res.target, "a");
  assert.equal(res.headers["x-switchyard-target"], "a");
  assert.equal(res.headers["x-switchyard-attempts"], "1");
  assert.deepEqual(res.body, completion("hello"));
  assert.deepEqual(kinds(f), [["a", "ok"]]);
});

for (const status of [400, 404]) {
  test(`a ${status} is a client error: returned to the client as is, no other target tried`, async (t) => {
    const f = twoTargets();
    t.after(() => f.close());
    chatAt(f.agent, "a").reply(status, apiError("bad field"), { headers: JSON_HEADERS });
    chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

    const res = await chat(f);

    assert.equal(res.status, status);
    assert.equal(res.target, "a");
    // The provider's own error, its message prefixed with the target that said it.
    assert.deepEqual(res.body, apiError("target a (openai): bad field"));
    assert.deepEqual(kinds(f), [["a", "client_error"]]);
    assert.deepEqual(unused(f.agent), ["http://b.test"], "b was never called");
  });
}

/** Target failures: each kind moves the request on to b at once. */
const failures: { name: string; reply: (i: ReturnType<typeof chatAt>) => void; kind: OutcomeKind; status: number }[] = [
  { name: "a 503", reply: (i) => i.reply(503, apiError("busy"), { headers: JSON_HEADERS }), kind: "overloaded", status: 503 },
  { name: "a 529", reply: (i) => i.reply(529, apiError("overloaded"), { headers: JSON_HEADERS }), kind: "overloaded", status: 529 },
  { name: "a 500", reply: (i) => i.reply(500, apiError("boom"), { headers: JSON_HEADERS }), kind: "server_error", status: 500 },
  { name: "a 502", reply: (i) => i.reply(502, "bad gateway"), kind: "server_error", status: 502 },
  { name: "a 408", reply: (i) => i.reply(408, apiError("request timeout"), { headers: JSON_HEADERS }), kind: "timeout", status: 408 },
  { name: "ECONNREFUSED", reply: (i) => i.replyWithError(socketError("ECONNREFUSED")), kind: "connection_failure", status: 0 },
  { name: "ECONNRESET", reply: (i) => i.replyWithError(socketError("ECONNRESET")), kind: "connection_failure", status: 0 },
];

for (const c of failures) {
  test(`${c.name} is ${c.kind}: the request fails over to the next target`, async (t) => {
    const f = twoTargets();
    t.after(() => f.close());
    c.reply(chatAt(f.agent, "a"));
    chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

    const res = await chat(f);

    assert.equal(res.status, 200);
    assert.equal(res.target, "b");
    assert.equal(res.attempts, 2);
    assert.deepEqual(kinds(f), [
      ["a", c.kind],
      ["b", "ok"],
    ]);
    assert.equal(f.attempts[0]!.status, c.status);
    if (c.status === 0) assert.match(f.attempts[0]!.detail, new RegExp(c.name));
  });
}

/** The bench deadline of target a, checked against a window: now + delay as seen before and after the request. */
function assertBenchedFor(f: ReturnType<typeof twoTargets>, id: string, delayMs: number, before: number, after: number, slackMs = 0): void {
  const until = f.route().policies.bench.benchedUntil(f.target(id), Date.now());
  assert.ok(
    until >= before + delayMs - slackMs && until <= after + delayMs,
    `benched until ${until - before} ms after the request started, expected ~${delayMs} ms`,
  );
}

test("a 429 with Retry-After in seconds benches the key until then; the next request skips it", async (t) => {
  const f = twoTargets();
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after": "30" } });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS }).times(2);

  const before = Date.now();
  const res = await chat(f);
  const after = Date.now();

  assert.equal(res.target, "b");
  assert.deepEqual(kinds(f), [
    ["a", "rate_limited"],
    ["b", "ok"],
  ]);
  assertBenchedFor(f, "a", 30_000, before, after);
  // What /admin/status shows for the key (policy fields are untyped there).
  const a: Record<string, unknown> = f.gateway.status().routes[0]!.targets[0]!;
  assert.equal(a.eligible, false);
  assert.deepEqual(a.excluded_by, ["rate_limit"]);

  const next = await chat(f);
  assert.equal(next.target, "b");
  assert.equal(next.attempts, 1, "the benched key is not tried");
});

test("a 429 with Retry-After as an HTTP-date benches the key until that date", async (t) => {
  const f = twoTargets();
  t.after(() => f.close());
  const date = new Date(Date.now() + 60_000).toUTCString();
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after": date } });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

  const before = Date.now();
  await chat(f);
  const after = Date.now();

  // An HTTP-date has whole seconds: up to 1 s earlier than now + 60 s.
  assertBenchedFor(f, "a", 60_000, before, after, 1_000);
});

test("a 429's retry-after-ms wins over its Retry-After", async (t) => {
  const f = twoTargets();
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after-ms": "2500", "retry-after": "30" } });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

  const before = Date.now();
  await chat(f);
  const after = Date.now();

  assertBenchedFor(f, "a", 2_500, before, after);
});

test("a 429 with OpenAI's x-ratelimit-reset-requests (none remaining) benches the key until that reset", async (t) => {
  const f = twoTargets();
  t.after(() => f.close());
  const headers = {
    ...JSON_HEADERS,
    "x-ratelimit-limit-requests": "100",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "6s",
  };
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

  const before = Date.now();
  await chat(f);
  const after = Date.now();

  assertBenchedFor(f, "a", 6_000, before, after);
});

test("a 429 naming no time benches the key for rate_limits.default_bench_ms", async (t) => {
  const f = gatewayWith({
    routes: [chatRoute([openaiTarget("a"), openaiTarget("b")], { retry: { attempts: 2 }, rate_limits: { default_bench_ms: 5_000 } })],
  });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: JSON_HEADERS });
  chatAt(f.agent, "b").reply(200, completion(), { headers: JSON_HEADERS });

  const before = Date.now();
  await chat(f);
  const after = Date.now();

  assertBenchedFor(f, "a", 5_000, before, after);
});

test("a 503 with Retry-After benches the key too (bench_on_overloaded); a bare 503 does not", async (t) => {
  const f = gatewayWith({ routes: [chatRoute([openaiTarget("a"), openaiTarget("b"), openaiTarget("c")], { retry: { attempts: 3 } })] });
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(503, apiError("busy"), { headers: { ...JSON_HEADERS, "retry-after": "20" } });
  chatAt(f.agent, "b").reply(503, apiError("busy"), { headers: JSON_HEADERS });
  chatAt(f.agent, "c").reply(200, completion(), { headers: JSON_HEADERS });

  const before = Date.now();
  const res = await chat(f);
  const after = Date.now();

  assert.equal(res.target, "c");
  assertBenchedFor(f, "a", 20_000, before, after);
  assert.equal(f.route().policies.bench.benchedUntil(f.target("b"), Date.now()), 0);
});

test("every target rate limited: 429 rate_limited with Retry-After = the soonest key back", async (t) => {
  const f = twoTargets();
  t.after(() => f.close());
  chatAt(f.agent, "a").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after": "7" } });
  chatAt(f.agent, "b").reply(429, apiError("slow down"), { headers: { ...JSON_HEADERS, "retry-after": "3" } });

  const err = await gatewayError(chat(f));

  assert.equal(err.code, "rate_limited");
  assert.equal(err.status, 429);
  assert.equal(retryAfterSecs(err), 3);
  assert.match(err.message, /target b/);
});

test("a Gemini 429 with RetryInfo in its body (no header) benches the key for the retryDelay", async (t) => {
  // Guards the Gemini parser running on real answers: it reads the error body, which only the
  // classifier has. Without it the bench would be default_bench_ms (1 s).
  const f = gatewayWith({
    routes: [
      {
        name: "gem",
        surface: "gemini",
        models: ["gemini-x"],
        retry: { attempts: 1 },
        targets: [{ id: "g", provider: "gemini", base_url: "http://g.test", key: "gk-test-key" }],
      },
    ],
  });
  t.after(() => f.close());
  const body = {
    error: {
      code: 429,
      message: "Resource has been exhausted",
      status: "RESOURCE_EXHAUSTED",
      details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "3s" }],
    },
  };
  f.agent
    .get("http://g.test")
    .intercept({ path: "/v1beta/models/gemini-x:generateContent", method: "POST" })
    .reply(429, body, { headers: JSON_HEADERS });

  const before = Date.now();
  const err = await gatewayError(
    f.gateway.request("gem", { model: "gemini-x", body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] } }),
  );
  const after = Date.now();

  assert.equal(err.code, "rate_limited");
  assert.equal(retryAfterSecs(err), 3);
  assert.deepEqual(kinds(f), [["g", "rate_limited"]]);
  assert.ok(f.attempts[0]!.retryAtMs >= before + 3_000, "the classifier read the retry time from the body");
  assertBenchedFor(f, "g", 3_000, before, after);
});
