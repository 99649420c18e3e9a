/**
 * The gateway's own inbound limits, end to end: the real gateway, simulated providers, real
 * sockets. A client key's rps under 20 hammering clients, the gateway-wide 1,000-rps window under
 * a burst of 1,500, tokens per minute estimated and corrected from the answer's usage,
 * max_parallel refusing at once and leaking nothing through failures, aborts and later refusals,
 * and a reload that changes a limit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "undici";
import type { AdmissionStep } from "../../src/pipeline/admission.js";
import type { Gateway } from "../../src/pipeline/gateway.js";
import { GatewayError } from "../../src/errors.js";
import { type InboundLimits, type InboundLimitsOptions } from "../../src/front/inbound-limits.js";
import { loadTokenCounter } from "../../src/front/token-estimate.js";
import { simRoute, type SimRouteOptions } from "../helpers/sim-route.js";
import { call } from "../helpers/http.js";
import { eventually, sleep } from "../helpers/wait.js";

const SECRET = "sk-team-a-0001";
const CHAT = "/v1/chat/completions";
const BODY = JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] });

/** Starts sims + the gateway (its own inbound limits, on `limitOptions`' clock), then installs any later steps. */
async function setUp(opts: SimRouteOptions, limitOptions: InboundLimitsOptions = {}, later: AdmissionStep[] = []) {
  const f = await simRoute({ ...opts, gatewayOptions: { inboundLimits: limitOptions } });
  const gateway: Gateway = f.gw.gateway;
  const limits = gateway.pipeline.step("inbound-limits") as InboundLimits;
  for (const s of later) gateway.use(s);
  return { ...f, gateway, limits };
}

const is429 = (status: number, body: string, what: RegExp) => {
  assert.equal(status, 429, body);
  const err = JSON.parse(body).error;
  assert.equal(err.code, "gateway_rate_limited");
  assert.match(err.message, what);
};

test("20 concurrent clients on one key limited to 50 rps for 10 s: 500 ± 15 accepted, the rest 429 with Retry-After and RateLimit headers", async () => {
  const f = await setUp({
    sims: [{ dialect: "openai" }],
    config: { client_keys: [{ name: "team-a", key: SECRET, limits: { rps: 50 } }] },
  });
  const pool = new Pool(f.url, { connections: 20 });
  try {
    let ok = 0;
    let limited = 0;
    const other: string[] = [];
    const retryAfter = new Set<string>();
    const policies = new Set<string>();
    const rateLimits = new Set<string>();
    const messages = new Set<string>();
    const okRateLimits: string[] = [];
    const until = performance.now() + 10_000;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (performance.now() < until) {
          const res = await pool.request({
            path: CHAT,
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
            body: BODY,
          });
          const text = await res.body.text();
          if (res.statusCode === 200) {
            ok++;
            okRateLimits.push(String(res.headers["ratelimit"]));
          } else if (res.statusCode === 429) {
            limited++;
            retryAfter.add(String(res.headers["retry-after"]));
            policies.add(String(res.headers["ratelimit-policy"]));
            rateLimits.add(String(res.headers["ratelimit"]));
            messages.add(JSON.parse(text).error.code + ": " + JSON.parse(text).error.message);
            // A client that at least yields between refusals (no Retry-After honoured: the worst case).
            await sleep(2);
          } else other.push(`${res.statusCode} ${text}`);
        }
      }),
    );
    console.log(`# key rps 50 for 10 s: ${ok} accepted, ${limited} refused (429)`);
    assert.deepEqual(other, []);
    assert.ok(Math.abs(ok - 500) <= 15, `${ok} accepted`);
    assert.ok(limited > 0);
    assert.deepEqual([...retryAfter], ["1"], "whole seconds, at least 1");
    assert.deepEqual([...policies], ['"key-team-a-rps";q=50;w=1']);
    assert.deepEqual([...rateLimits], ['"key-team-a-rps";r=0;t=1']);
    assert.equal(messages.size, 1);
    assert.match([...messages][0]!, /^gateway_rate_limited: key "team-a" rps limit reached \(50 requests per 1 s\)/);
    // Accepted answers carry the key's window too: what is left of it once each was admitted.
    for (const h of okRateLimits) assert.match(h, /^"key-team-a-rps";r=\d+;t=1$/);
    assert.equal(f.limits.pending, 0);
  } finally {
    await pool.close();
    await f.close();
  }
});

/**
 * The limiter's clock runs at a fifth of real speed here: this shared 2-core machine serves about
 * 800 proxied requests a second (gateway and simulator in one process), so 1,500 real requests
 * cannot reach admission within one real second; within one of the limiter's they do.
 */
const SLOW = 10;

test("the 1,000-rps global window: a burst of 1,500 in under a second gets 1,000 ± 10 through", async () => {
  const f = await setUp(
    { sims: [{ dialect: "openai" }], config: { limits: { rps: 1000, burst: 1000 } } },
    { now: () => performance.now() / SLOW },
  );
  const pool = new Pool(f.url, { connections: 128 });
  try {
    // Connections first (GET /v1/models passes no admission), so the burst is only requests.
    await Promise.all(Array.from({ length: 128 }, () => pool.request({ path: "/v1/models", method: "GET" }).then((r) => r.body.text())));
    const t0 = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 1500 }, async () => {
        const res = await pool.request({ path: CHAT, method: "POST", headers: { "content-type": "application/json" }, body: BODY });
        const text = await res.body.text();
        if (res.statusCode === 429) {
          is429(res.statusCode, text, /^global rps limit reached \(1000 requests per 1 s\)/);
          assert.equal(res.headers["ratelimit-policy"], '"global-rps";q=1000;w=1');
          assert.match(String(res.headers["ratelimit"]), /^"global-rps";r=0;t=1$/);
          assert.equal(res.headers["retry-after"], "1");
        }
        return res.statusCode;
      }),
    );
    const ms = performance.now() - t0;
    const ok = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    console.log(
      `# global rps 1000: burst of 1500 in ${ms.toFixed(0)} ms (${(ms / SLOW).toFixed(0)} ms of the limiter's): ${ok} accepted, ${limited} refused`,
    );
    assert.equal(ok + limited, 1500);
    assert.ok(ms < 1000 * SLOW, `the burst took ${ms} ms: more than one of the limiter's seconds`);
    assert.ok(Math.abs(ok - 1000) <= 10, `${ok} accepted`);
  } finally {
    await pool.close();
    await f.close();
  }
});

test("tokens per minute: the estimate (tokenizer input + max output) is taken, then corrected to the answer's usage; a refusal takes nothing", async () => {
  const count = await loadTokenCounter();
  let clock = 1_000_000;
  const f = await setUp(
    { sims: [{ dialect: "openai", completion_tokens: 40 }], route: { limits: { tpm: 1000, rps: 100 } } },
    { now: () => clock },
  );
  try {
    const body = { model: "demo", messages: [{ role: "user", content: "hello there" }], max_tokens: 10 };
    const estimate = 3 + 3 + count("hello there") + 10; // a message's framing, the reply's priming, its text, max output
    assert.equal(estimate, 18);

    const first = await call(`${f.url}${CHAT}`, { body });
    assert.equal(first.status, 200, first.text);
    // Advertised at admission: the tightest limit is tpm (18 of 1000 taken vs 1 of 100 requests).
    assert.equal(first.headers["ratelimit-policy"], '"route-chat-tpm";q=1000;w=60;qu="tokens"');
    assert.equal(first.headers["ratelimit"], `"route-chat-tpm";r=${1000 - estimate};t=2`);
    const used1 = first.json.usage.total_tokens as number;
    assert.ok(used1 > estimate, `the answer used ${used1}, more than the ${estimate} estimated`);
    await eventually(() => f.limits.pending === 0, 3000, "the first request's end");
    assert.equal(f.limits.status().routes["chat"]!.remaining.tpm, 1000 - used1, "corrected to the usage: the extra taken");

    const second = await call(`${f.url}${CHAT}`, { body });
    assert.equal(second.status, 200);
    assert.equal(
      second.headers["ratelimit"],
      `"route-chat-tpm";r=${1000 - used1 - estimate};t=${Math.ceil(((used1 + estimate) * 60) / 1000)}`,
    );
    await eventually(() => f.limits.pending === 0, 3000, "the second request's end");
    const used2 = second.json.usage.total_tokens as number;
    const left = 1000 - used1 - used2;
    assert.equal(f.limits.status().routes["chat"]!.remaining.tpm, left);

    // More than what is left: refused, naming the route's tpm, and neither tokens nor the rps window are touched.
    const rpsBefore = f.limits.status().routes["chat"]!.remaining.rps;
    const big = await call(`${f.url}${CHAT}`, { body: { ...body, max_tokens: left } });
    is429(
      big.status,
      big.text,
      new RegExp(`^route "chat" tpm limit reached \\(1000 tokens per minute; this request needs ${left + 8}, ${left} left\\)`),
    );
    assert.equal(big.headers["ratelimit"], `"route-chat-tpm";r=${left};t=1`, "8 tokens short at 1000/min: under a second");
    assert.equal(big.headers["retry-after"], "1");
    assert.deepEqual(f.limits.status().routes["chat"]!.remaining, { rps: rpsBefore, tpm: left });

    // A minute later the bucket is full again.
    clock += 60_000;
    assert.equal(f.limits.status().routes["chat"]!.remaining.tpm, 1000);
    const again = await call(`${f.url}${CHAT}`, { body: { ...body, max_tokens: left } });
    assert.equal(again.status, 200);
  } finally {
    await f.close();
  }
});

test("max_parallel: the (n+1)th concurrent request is refused at once, and new ones pass once they finish", async () => {
  const f = await setUp({ sims: [{ dialect: "openai", latency_ms: 1000 }], route: { limits: { max_parallel: 3 } } });
  try {
    const slow = Array.from({ length: 3 }, () => call(`${f.url}${CHAT}`, { body: BODY }));
    await eventually(() => f.limits.status().routes["chat"]!.in_flight === 3, 3000, "3 in flight");
    let slowDone = false;
    void Promise.all(slow).then(() => (slowDone = true));
    const t0 = performance.now();
    const fourth = await call(`${f.url}${CHAT}`, { body: BODY });
    const fourthMs = performance.now() - t0;
    is429(fourth.status, fourth.text, /^route "chat" parallel limit reached \(3 requests in parallel\)/);
    assert.equal(slowDone, false, "answered while the three were still upstream");
    assert.equal(fourth.headers["ratelimit-policy"], '"route-chat-parallel";q=3;qu="concurrent-requests"');
    assert.equal(fourth.headers["ratelimit"], '"route-chat-parallel";r=0');
    assert.equal(fourth.headers["retry-after"], "1");
    console.log(`# max_parallel 3: the 4th refused in ${fourthMs.toFixed(1)} ms`);
    for (const r of await Promise.all(slow)) assert.equal(r.status, 200);
    await eventually(() => f.limits.status().routes["chat"]!.in_flight === 0, 3000, "the three released");
    const after = await Promise.all(Array.from({ length: 3 }, () => call(`${f.url}${CHAT}`, { body: BODY })));
    assert.deepEqual(
      after.map((r) => r.status),
      [200, 200, 200],
    );
  } finally {
    await f.close();
  }
});

test("a request refused while another with its x-request-id is in flight does not give the other's slot back", async () => {
  const f = await setUp({ sims: [{ dialect: "openai", latency_ms: 1000 }], route: { limits: { max_parallel: 1 } } });
  try {
    const same = { "x-request-id": "client-chosen-id" };
    const first = call(`${f.url}${CHAT}`, { body: BODY, headers: same });
    await eventually(() => f.limits.status().routes["chat"]!.in_flight === 1, 3000, "the first in flight");
    const twin = await call(`${f.url}${CHAT}`, { body: BODY, headers: same });
    is429(twin.status, twin.text, /^route "chat" parallel limit reached/);
    assert.equal(f.limits.status().routes["chat"]!.in_flight, 1, "the twin's end released nothing");
    const other = await call(`${f.url}${CHAT}`, { body: BODY });
    assert.equal(other.status, 429, "the first still holds the only slot");
    assert.equal((await first).status, 200);
    await eventually(() => f.limits.pending === 0, 3000, "the first's end");
    assert.equal(f.limits.status().routes["chat"]!.in_flight, 0);
  } finally {
    await f.close();
  }
});

test("every admitted request releases its parallel slot exactly once: 1,000 requests with upstream failures, client aborts, streams, a later step's refusals and repeated request ids leave 0 in flight", async () => {
  let refusedLater = 0;
  const laterStep: AdmissionStep = {
    name: "test-later-refusal",
    admit(ctx) {
      if (ctx.headers["x-refuse"] !== undefined) {
        refusedLater++;
        throw new GatewayError("forbidden", "refused by a later step");
      }
    },
  };
  const f = await setUp(
    {
      sims: [{ dialect: "openai", latency_ms: 5, jitter_ms: 5, error_rate: 0.2, seed: 7, stream_chunks: 4, chunk_interval_ms: 2 }],
      route: { limits: { max_parallel: 40, tpm: 10_000_000 }, retry: { attempts: 1 } },
      config: { limits: { max_parallel: 60 } },
    },
    {},
    [laterStep],
  );
  const pool = new Pool(f.url, { connections: 64 });
  let peak = 0;
  const seen: Record<string, number> = {};
  // A seeded generator (MINSTD): the same mix on every run.
  let rnd = 12345;
  const random = () => (rnd = (rnd * 48271) % 2147483647) / 2147483647;
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 1000) {
          const i = next++;
          const r = random();
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (i % 7 === 0) headers["x-refuse"] = "1";
          if (i % 11 === 0) headers["x-request-id"] = "same-id";
          const stream = i % 3 === 0;
          const body = stream ? JSON.stringify({ model: "demo", stream: true, messages: [{ role: "user", content: "hi" }] }) : BODY;
          const ac = new AbortController();
          const abort = r < 0.25 ? setTimeout(() => ac.abort(), Math.floor(random() * 12)) : undefined;
          let outcome: string;
          try {
            const res = await pool.request({ path: CHAT, method: "POST", headers, body, signal: ac.signal });
            await res.body.text();
            outcome = String(res.statusCode);
          } catch {
            outcome = "aborted";
          } finally {
            clearTimeout(abort);
          }
          seen[outcome] = (seen[outcome] ?? 0) + 1;
          peak = Math.max(peak, f.limits.status().global!.in_flight);
        }
      }),
    );
    console.log(`# 1,000 mixed requests: ${JSON.stringify(seen)}, ${refusedLater} refused by the later step, peak ${peak} in flight`);
    assert.ok((seen["aborted"] ?? 0) > 0 && (seen["500"] ?? seen["502"] ?? 0) > 0 && (seen["403"] ?? 0) > 0, JSON.stringify(seen));
    assert.ok(peak > 1, `measured something in flight (peak ${peak})`);
    await eventually(() => f.limits.pending === 0, 5000, "every admitted request's end");
    const st = f.limits.status();
    assert.equal(st.global!.in_flight, 0);
    assert.equal(st.routes["chat"]!.in_flight, 0);
    assert.equal(f.gateway.inFlight, 0);
  } finally {
    await pool.close();
    await f.close();
  }
});

test("a reload that changes a limit applies to the next request; an unchanged limit keeps its state", async () => {
  const f = await setUp({ sims: [{ dialect: "openai" }], route: { limits: { rpm: 2 } }, config: { limits: { rpm: 100 } } });
  try {
    const statuses = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await call(`${f.url}${CHAT}`, { body: BODY })).status);
      return out;
    };
    assert.deepEqual(await statuses(3), [200, 200, 429]);
    assert.equal(f.limits.status().global!.remaining.rpm, 98, "the refused one took nothing from the global window");
    const control = f.gw.server.control!;
    const result = await control.change("route chat: rpm 5", (draft) => {
      draft.routes[0]!.limits = { rpm: 5 };
    });
    assert.equal(result.ok, true, JSON.stringify(result));
    const st = f.limits.status();
    assert.deepEqual(st.routes["chat"]!.remaining, { rpm: 5 }, "a changed limit starts afresh");
    assert.deepEqual(st.global!.remaining, { rpm: 98 }, "the unchanged global window kept what it held");
    assert.deepEqual(await statuses(6), [200, 200, 200, 200, 200, 429]);
    await control.change("route chat: no limits", (draft) => {
      draft.routes[0]!.limits = {};
    });
    assert.deepEqual(await statuses(2), [200, 200]);
    assert.equal(f.limits.status().routes["chat"], undefined);
    assert.equal(f.limits.status().global!.remaining.rpm, 100 - 2 - 5 - 2);
  } finally {
    await f.close();
  }
});

test("a key's limits come from the keys registry when given (keys made through the admin API), and changed limits apply at its next request", async () => {
  let limits: { rps?: number; burst?: number } | undefined = { rps: 1 };
  const clock = 5000;
  const f = await setUp(
    {
      sims: [{ dialect: "openai" }],
      config: {
        client_keys: [
          { name: "team-a", key: SECRET },
          { name: "team-b", key: "sk-team-b-0002" },
        ],
      },
    },
    { now: () => clock, keyLimits: (name) => (name === "team-a" ? limits : undefined) },
  );
  try {
    const send = async () => (await call(`${f.url}${CHAT}`, { body: BODY, headers: { authorization: `Bearer ${SECRET}` } })).status;
    assert.deepEqual([await send(), await send()], [200, 429]);
    limits = { rps: 2, burst: 3 };
    assert.deepEqual([await send(), await send(), await send(), await send()], [200, 200, 200, 429]);
    limits = undefined;
    assert.deepEqual([await send(), await send()], [200, 200]);
    // Another key's requests are not this key's.
    const plain = await call(`${f.url}${CHAT}`, { body: BODY, headers: { authorization: "Bearer sk-team-b-0002" } });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers["ratelimit"], undefined, "no limit applies, no header");
  } finally {
    await f.close();
  }
});
