/**
 * Outbound quotas end to end: targets with `limits.rpm` in front of simulators that enforce the
 * same quota themselves (key_quota: a fixed window from each key's first request, 429 over it).
 * The gateway never sends a call over a quota: the simulators answer no 429 at all. When every
 * target is at its quota a request waits in the route's queue (the default for quota-only
 * unavailability), and gets 503 queue_timeout with Retry-After once its wait bound passes;
 * `when_all_unavailable: soonest` and `fail` are tested too.
 *
 * The bar ("3 targets at rpm 60 each and 240 requests within a minute") runs with a 15 s window
 * (limits.window_s and the simulators' window_s alike) to keep the suite short: set
 * QUOTA_E2E_WINDOW_S=60 to run it on the real minute.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "undici";
import { simRoute, type SimRoute } from "../helpers/sim-route.js";
import { sleep } from "../helpers/wait.js";
import type { SimOptions } from "../../src/simulator/sim-options.js";

interface Answer {
  status: number;
  target: string;
  code: string;
  retryAfter: string | undefined;
  /** ms from sending to the end of the answer. */
  ms: number;
}

/** Sends `count` chats spread evenly over `spreadMs` (each sent on time, whatever the others do). */
async function paced(url: string, count: number, spreadMs: number, model = "demo"): Promise<Answer[]> {
  const client = new Pool(url, { connections: count });
  const t0 = performance.now();
  try {
    return await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        await sleep(Math.max(0, t0 + (i * spreadMs) / count - performance.now()));
        const sent = performance.now();
        const res = await client.request({
          path: "/v1/chat/completions",
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model, messages: [{ role: "user", content: `hi ${i}` }] }),
        });
        const text = await res.body.text();
        const ra = res.headers["retry-after"];
        return {
          status: res.statusCode,
          target: String(res.headers["x-switchyard-target"] ?? ""),
          code: res.statusCode === 200 ? "" : (JSON.parse(text) as { error: { code: string } }).error.code,
          retryAfter: Array.isArray(ra) ? ra[0] : ra,
          ms: performance.now() - sent,
        };
      }),
    );
  } finally {
    await client.close();
  }
}

/** Simulators enforcing `requests` per `windowS` per key, and the gateway holding its targets to the same. */
function quotaRoute(n: number, requests: number, windowS: number, route: Record<string, unknown>, sim: Partial<SimOptions> = {}) {
  return simRoute({
    sims: Array.from({ length: n }, (_, i) => ({
      dialect: "openai" as const,
      name: `q${i}`,
      latency_ms: 40,
      jitter_ms: 30,
      key_quota: { requests, window_s: windowS },
      ...sim,
    })),
    route,
    target: () => ({ limits: { rpm: requests, window_s: windowS } }),
  });
}

function upstream429s(f: SimRoute): number {
  return f.sims.reduce((n, s) => n + (s.stats().by_status["429"] ?? 0), 0);
}

function count<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

const WINDOW_S = Number(process.env["QUOTA_E2E_WINDOW_S"] ?? 15);

test(`3 targets at 60 per ${WINDOW_S} s, 240 requests over 10 s: all complete, 60 after waiting for the window, no upstream 429`, async (t) => {
  const f = await quotaRoute(3, 60, WINDOW_S, { queue: { size: 300, timeout_ms: (WINDOW_S + 75) * 1000 } });
  try {
    const started = performance.now();
    const answers = await paced(f.url, 240, 10_000);
    const tookS = (performance.now() - started) / 1000;
    assert.deepEqual(
      count(answers, (a) => String(a.status)),
      { "200": 240 },
      "every request completes",
    );
    assert.equal(upstream429s(f), 0, "the simulators answered no 429");
    const served = f.sims.map((s) => s.stats().by_status["200"] ?? 0);
    assert.equal(served[0]! + served[1]! + served[2]!, 240);
    for (const n of served) assert.ok(n >= 60, `each key served its first window's 60 and some of the rest (${served.join(", ")})`);
    // The 180 that fit went at once; the last 60 (sent by 10 s) waited for the window to free.
    const q = (await f.gw.status()).routes[0].queue;
    assert.equal(q.waited, 60, "60 waited in the queue");
    assert.equal(q.timeouts, 0);
    assert.ok(q.wait_ms_max >= (WINDOW_S - 10) * 1000, `the longest wait (${q.wait_ms_max} ms) is the rest of the window`);
    const status = (await f.gw.status()).routes[0].targets[0];
    assert.equal(status.quota.rpm, 60);
    assert.equal(status.quota.window_s, WINDOW_S);
    t.diagnostic(
      `quota bar: 240 requests, ${q.waited} waited (mean ${q.wait_ms_mean} ms, max ${q.wait_ms_max} ms), ${tookS.toFixed(1)} s in all, upstream 429s: ${upstream429s(f)}`,
    );
  } finally {
    await f.close();
  }
});

test("a short queue timeout: the refused get 503 queue_timeout with Retry-After = when a target is back; still no upstream 429", async () => {
  const f = await quotaRoute(3, 10, 20, { queue: { size: 100, timeout_ms: 1000 } });
  try {
    const answers = await paced(f.url, 40, 1000);
    assert.deepEqual(
      count(answers, (a) => `${a.status} ${a.code}`),
      { "200 ": 30, "503 queue_timeout": 10 },
    );
    for (const a of answers.filter((x) => x.status === 503)) {
      const ra = Number(a.retryAfter);
      // The window frees 20 s after the first answers, of which about 1–3 s have passed.
      assert.ok(ra >= 15 && ra <= 21, `Retry-After ${a.retryAfter} says when the first target is back`);
    }
    assert.equal(upstream429s(f), 0);
    assert.equal((await f.gw.status()).routes[0].queue.timeouts, 10);
  } finally {
    await f.close();
  }
});

test("when_all_unavailable: soonest waits for the target whose window frees first, and fails at once when that is beyond the wait", async () => {
  const f = await simRoute({
    sims: [
      { dialect: "openai" as const, name: "short", latency_ms: 5, key_quota: { requests: 1, window_s: 2 } },
      { dialect: "openai" as const, name: "long", latency_ms: 5, key_quota: { requests: 1, window_s: 30 } },
    ],
    routes: ([a, b]) => {
      const route = (name: string, timeout_ms: number, keys: [string, string]) => ({
        name,
        surface: "openai" as const,
        models: [name],
        when_all_unavailable: "soonest" as const,
        queue: { size: 10, timeout_ms },
        targets: [
          { id: "short", provider: "openai" as const, base_url: a.url, key: keys[0], limits: { rpm: 1, window_s: 2 } },
          { id: "long", provider: "openai" as const, base_url: b.url, key: keys[1], limits: { rpm: 1, window_s: 30 } },
        ],
      });
      return [
        route("patient", 10_000, ["sk-soonest-0001", "sk-soonest-0002"]),
        route("hasty", 1000, ["sk-soonest-0003", "sk-soonest-0004"]),
      ];
    },
  });
  try {
    const status = async (route: number) => (await f.gw.status()).routes[route].queue;
    const both = await paced(f.url, 2, 0, "patient");
    assert.deepEqual(
      both.map((a) => a.status),
      [200, 200],
    );
    assert.deepEqual(both.map((a) => a.target).sort(), ["long", "short"]);
    // Both at their quota: the third waits about 2 s for "short" (not 30 s for "long").
    const [third] = await paced(f.url, 1, 0, "patient");
    assert.equal(third!.status, 200);
    assert.equal(third!.target, "short");
    assert.ok(third!.ms >= 1000, `it waited for the window (${Math.round(third!.ms)} ms)`);
    assert.equal((await status(0)).waited, 1);
    // With a 1 s wait bound, "short" freeing in ~2 s is too late: refused at once, nothing waits.
    assert.deepEqual(
      (await paced(f.url, 2, 0, "hasty")).map((a) => a.status),
      [200, 200],
    );
    const [refused] = await paced(f.url, 1, 0, "hasty");
    assert.equal(refused!.status, 429);
    assert.equal(refused!.code, "rate_limited");
    assert.ok(
      Number(refused!.retryAfter) >= 1 && Number(refused!.retryAfter) <= 3,
      `Retry-After ${refused!.retryAfter}: when "short" frees`,
    );
    const hasty = await status(1);
    assert.equal(hasty.waited, 0, "it did not wait");
    assert.equal(hasty.timeouts, 0);
    assert.equal(upstream429s(f), 0);
  } finally {
    await f.close();
  }
});

test("when_all_unavailable: fail answers 429 rate_limited at once, Retry-After = when the window frees; no upstream 429", async () => {
  const f = await quotaRoute(2, 2, 10, { when_all_unavailable: "fail", queue: { size: 10, timeout_ms: 30_000 } });
  try {
    const answers = await paced(f.url, 6, 0);
    assert.deepEqual(
      count(answers, (a) => `${a.status} ${a.code}`),
      { "200 ": 4, "429 rate_limited": 2 },
    );
    for (const a of answers.filter((x) => x.status === 429)) {
      const ra = Number(a.retryAfter);
      assert.ok(ra >= 9 && ra <= 11, `Retry-After ${a.retryAfter}: the 10 s window`);
    }
    assert.equal(upstream429s(f), 0);
    const s = await f.gw.status();
    assert.equal(s.routes[0].queue.waited, 0);
    assert.ok(s.routes[0].targets[0].excluded_by.includes("quota"), "out for its quota (and the provider's remaining 0)");
  } finally {
    await f.close();
  }
});
