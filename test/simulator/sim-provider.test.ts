import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { at } from "../helpers/at.js";
import { call, readStream } from "../helpers/http.js";
import { parseSse } from "../helpers/sse.js";
import { eventually, sleep } from "../helpers/wait.js";

const chatBody = { model: "m", messages: [{ role: "user", content: "hello" }] };
const chat = (sim: SimProvider, key = "sk-a", extra: Record<string, unknown> = {}) =>
  call(`${sim.url}/chat/completions`, { headers: { authorization: `Bearer ${key}` }, body: { ...chatBody, ...extra } });

test("error_rate 1 answers error_status in the dialect's error shape", async () => {
  const sim = await startSimProvider({ dialect: "openai", error_rate: 1 });
  try {
    const r = await chat(sim);
    assert.equal(r.status, 500);
    assert.equal(r.json.error.type, "server_error");
    assert.equal(typeof r.json.error.message, "string");
    assert.ok("param" in r.json.error && "code" in r.json.error);
    await sim.set({ error_status: 503 });
    const o = await chat(sim);
    assert.equal(o.status, 503);
    assert.equal(o.json.error.code, "server_is_overloaded");
    assert.deepEqual(sim.stats().by_status, { "500": 1, "503": 1 });
  } finally {
    await sim.close();
  }
});

test("rate_limit_rate 1 answers 429 with Retry-After and provider rate-limit headers", async () => {
  const oai = await startSimProvider({ dialect: "openai", rate_limit_rate: 1, retry_after_s: 3 });
  const ant = await startSimProvider({ dialect: "anthropic", rate_limit_rate: 1, retry_after_s: 2 });
  try {
    const r = await chat(oai);
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, "rate_limit_exceeded");
    assert.equal(r.headers["retry-after"], "3");
    assert.equal(r.headers["retry-after-ms"], "3000");
    assert.equal(r.headers["x-ratelimit-remaining-requests"], "0");
    assert.equal(r.headers["x-ratelimit-reset-requests"], "3s");
    const a = await call(`${ant.url}/v1/messages`, {
      headers: { "x-api-key": "k" },
      body: { model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] },
    });
    assert.equal(a.status, 429);
    assert.equal(a.json.error.type, "rate_limit_error");
    assert.equal(a.headers["retry-after"], "2");
    assert.equal(a.headers["anthropic-ratelimit-requests-remaining"], "0");
    const reset = Date.parse(a.headers["anthropic-ratelimit-requests-reset"] ?? "");
    assert.ok(reset > Date.now() && reset <= Date.now() + 4000, "reset about 2 s ahead");
  } finally {
    await oai.close();
    await ant.close();
  }
});

test("key_quota: N ok with falling remaining, then 429 with Retry-After until the window resets; other keys unaffected", async () => {
  const sim = await startSimProvider({ dialect: "openai", key_quota: { requests: 3, window_s: 60 } });
  try {
    const remaining: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await chat(sim, "sk-k1");
      assert.equal(r.status, 200);
      remaining.push(r.headers["x-ratelimit-remaining-requests"]);
      assert.equal(r.headers["x-ratelimit-limit-requests"], "3");
    }
    assert.deepEqual(remaining, ["2", "1", "0"]);
    const over = await chat(sim, "sk-k1");
    assert.equal(over.status, 429);
    const ra = Number(over.headers["retry-after"]);
    assert.ok(ra >= 59 && ra <= 60, `retry-after ${ra} ≈ 60`);
    assert.match(over.headers["x-ratelimit-reset-requests"] ?? "", /^(59(\.\d+)?s|1m0s)$/);
    assert.equal((await chat(sim, "sk-k2")).status, 200);

    // A short window opens again once it has passed.
    await sim.set({ key_quota: { requests: 1, window_s: 0.2 } });
    assert.equal((await chat(sim, "sk-k1")).status, 200);
    assert.equal((await chat(sim, "sk-k1")).status, 429);
    await sleep(250);
    assert.equal((await chat(sim, "sk-k1")).status, 200);
  } finally {
    await sim.close();
  }
});

test("revoked keys and missing keys get 401; require_key false lets keyless calls through", async () => {
  const sim = await startSimProvider({ dialect: "openai", revoked_keys: ["sk-dead"] });
  try {
    const dead = await chat(sim, "sk-dead");
    assert.equal(dead.status, 401);
    assert.equal(dead.json.error.code, "invalid_api_key");
    assert.equal((await chat(sim, "sk-live")).status, 200);
    const none = await call(`${sim.url}/chat/completions`, { body: chatBody });
    assert.equal(none.status, 401);
    await sim.set({ require_key: false });
    assert.equal((await call(`${sim.url}/chat/completions`, { body: chatBody })).status, 200);
  } finally {
    await sim.close();
  }
});

test("hang: no answer; the client's abort is counted (stats.aborted, log aborted)", async () => {
  const sim = await startSimProvider({ dialect: "openai", hang: true });
  try {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      call(`${sim.url}/chat/completions`, { headers: { authorization: "Bearer k" }, body: chatBody, signal: ac.signal }),
    );
    clearTimeout(timer);
    await eventually(() => sim.stats().aborted === 1, 3000, "aborted = 1");
    const s = sim.stats();
    assert.equal(s.in_flight, 0);
    assert.equal(s.completed, 0);
    const entry = at(s.log, 0, "log");
    assert.equal(entry.aborted, true);
    assert.equal(entry.status, 0);
  } finally {
    await sim.close();
  }
});

test("close() ends hung sockets: the client sees the connection close and close() resolves", async () => {
  const sim = await startSimProvider({ dialect: "openai", hang: true });
  const pending = call(`${sim.url}/chat/completions`, { headers: { authorization: "Bearer k" }, body: chatBody });
  const outcome = pending.then(
    () => "answered",
    (err: { code?: string }) => err.code ?? "error",
  );
  await eventually(() => sim.stats().in_flight === 1, 3000, "the hung request to arrive");
  await sim.close();
  assert.notEqual(await outcome, "answered");
  const s = sim.stats();
  assert.equal(s.aborted, 0, "closed by the sim, not by the client");
  assert.equal(s.dropped, 1);
});

test("reset: the client sees ECONNRESET", async () => {
  const sim = await startSimProvider({ dialect: "openai", reset: true });
  try {
    await assert.rejects(chat(sim), (err: { code?: string }) => err.code === "ECONNRESET");
    assert.equal(sim.stats().requests, 1);
    await sim.set({ reset: false });
    assert.equal((await chat(sim)).status, 200);
  } finally {
    await sim.close();
  }
});

test("down: connections refused, keep-alive connections cut; up again on the same port", async () => {
  const sim = await startSimProvider({ dialect: "openai" });
  try {
    const port = sim.port;
    assert.equal((await chat(sim)).status, 200);
    await sim.set({ down: true });
    await assert.rejects(chat(sim), (err: { code?: string }) => err.code === "ECONNREFUSED");
    await sim.set({ down: false });
    assert.equal(sim.port, port);
    assert.equal((await chat(sim)).status, 200);
  } finally {
    await sim.close();
  }
});

test("drop_after_chunks N: exactly N events arrive, then the socket closes mid-stream", async () => {
  const sim = await startSimProvider({ dialect: "openai", drop_after_chunks: 3 });
  try {
    const body = { ...chatBody, stream: true };
    const s = await readStream(`${sim.url}/chat/completions`, { headers: { authorization: "Bearer k" }, body });
    assert.equal(s.status, 200);
    assert.ok(s.error !== undefined, "the stream ends in an error, not cleanly");
    assert.equal(parseSse(s.text).length, 3);
    assert.ok(!s.text.includes("[DONE]"));

    await sim.set({ drop_after_chunks: 0, chunk_interval_ms: 5 });
    const zero = await readStream(`${sim.url}/chat/completions`, { headers: { authorization: "Bearer k" }, body });
    assert.equal(zero.status, 200);
    assert.ok(zero.error !== undefined);
    assert.equal(zero.text, "");

    await sim.set({ drop_after_chunks: 2 }); // paced path
    const paced = await readStream(`${sim.url}/chat/completions`, { headers: { authorization: "Bearer k" }, body });
    assert.ok(paced.error !== undefined);
    assert.equal(parseSse(paced.text).length, 2);

    await sim.set({ drop_after_chunks: undefined });
    const whole = await readStream(`${sim.url}/chat/completions`, { headers: { authorization: "Bearer k" }, body });
    assert.equal(whole.error, undefined);
    assert.ok(whole.text.endsWith("data: [DONE]\n\n"));
    const st = sim.stats();
    assert.equal(st.dropped, 3);
    assert.equal(st.aborted, 0);
    assert.equal(st.completed, 1);
  } finally {
    await sim.close();
  }
});

test("chunk pacing: with 20 ms × 10 chunks the first content arrives well before the last", async () => {
  const sim = await startSimProvider({ dialect: "openai", stream_chunks: 10, chunk_interval_ms: 20 });
  try {
    const s = await readStream(`${sim.url}/chat/completions`, {
      headers: { authorization: "Bearer k" },
      body: { ...chatBody, stream: true },
    });
    assert.equal(s.error, undefined);
    const withContent = s.arrivals.filter((a) => a.text.includes('"content":"') && !a.text.includes('"content":""'));
    assert.ok(withContent.length >= 2, "content arrives in several reads");
    const spread = withContent.at(-1)!.at - withContent[0]!.at;
    assert.ok(spread >= 100, `first and last content ${spread.toFixed(0)} ms apart (9 intervals of 20 ms)`);
    assert.equal(parseSse(s.text).length, 1 + 10 + 1 + 1);
  } finally {
    await sim.close();
  }
});

test("latency delays the headers; in_flight and max_in_flight count concurrent requests", async () => {
  const sim = await startSimProvider({ dialect: "openai", latency_ms: 150 });
  try {
    const t0 = performance.now();
    const all = Promise.all([chat(sim), chat(sim), chat(sim)]);
    await eventually(() => sim.stats().in_flight === 3, 3000, "3 in flight");
    await all;
    assert.ok(performance.now() - t0 >= 140);
    const s = sim.stats();
    assert.equal(s.in_flight, 0);
    assert.equal(s.max_in_flight, 3);
    assert.equal(s.completed, 3);
  } finally {
    await sim.close();
  }
});

test("seed makes the error dice repeatable", async () => {
  const a = await startSimProvider({ dialect: "openai", error_rate: 0.5, seed: 42 });
  const b = await startSimProvider({ dialect: "openai", error_rate: 0.5, seed: 42 });
  try {
    const seq = async (sim: SimProvider) => {
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await chat(sim)).status);
      return out;
    };
    const sa = await seq(a);
    assert.deepEqual(sa, await seq(b));
    assert.ok(sa.includes(200) && sa.includes(500), "both outcomes occur");
  } finally {
    await a.close();
    await b.close();
  }
});

test("control API: stats, config (validated), reset, health, and going down from a request", async () => {
  const sim = await startSimProvider({ dialect: "openai", name: "ctl" });
  const origin = sim.url.replace(/\/v1$/, "");
  try {
    assert.equal((await chat(sim)).status, 200);
    const set = await call(`${origin}/_sim/config`, { body: { error_rate: 1, error_status: 502, latency_ms: 0 } });
    assert.equal(set.status, 200);
    assert.equal(set.json.options.error_rate, 1);
    assert.equal(sim.options.error_status, 502);
    assert.equal((await chat(sim)).status, 502);
    const bad = await call(`${origin}/_sim/config`, { body: { error_rate: 2 } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /error_rate/);
    assert.equal((await call(`${origin}/_sim/config`, { body: { dialect: "gemini" } })).status, 400);
    assert.equal(sim.options.error_rate, 1);
    assert.equal((await call(`${origin}/_sim/config`)).json.error_status, 502);

    const stats = await call(`${origin}/_sim/stats`);
    assert.equal(stats.json.name, "ctl");
    assert.equal(stats.json.requests, 2, "control calls are not counted");
    assert.deepEqual(stats.json.by_status, { "200": 1, "502": 1 });
    assert.deepEqual(stats.json.by_key, { "sk-a": 2 });
    assert.deepEqual(stats.json.by_path, { "/v1/chat/completions": 2 });
    assert.equal((await call(`${origin}/_sim/reset`, { method: "POST" })).status, 200);
    assert.equal(sim.stats().requests, 0);
    assert.deepEqual(sim.stats().log, []);

    assert.equal((await call(`${origin}/health`)).status, 200);
    await call(`${origin}/_sim/config`, { body: { health_status: 503, error_rate: null } });
    assert.equal((await call(`${origin}/health`)).status, 503);
    assert.equal(sim.options.error_rate, 0, "null restores the default");
    assert.equal(sim.stats().health_checks, 2);
    assert.equal(sim.stats().requests, 0);

    const down = await call(`${origin}/_sim/config`, { body: { down: true } });
    assert.equal(down.status, 200);
    assert.equal(down.json.control_url, sim.controlUrl);
    await eventually(() => sim.options.down === true, 3000, "down");
    await assert.rejects(chat(sim), (err: { code?: string }) => err.code === "ECONNREFUSED");
    await sim.set({ down: false });
    assert.equal((await chat(sim)).status, 200);
  } finally {
    await sim.close();
  }
});

test("stats log: entries in arrival order with key, path, status — enough to prove no call to a key in a window", async () => {
  const sim = await startSimProvider({ dialect: "openai", revoked_keys: ["sk-bad"] });
  try {
    await chat(sim, "sk-a");
    await sleep(5);
    const t1 = Date.now();
    await chat(sim, "sk-b");
    await chat(sim, "sk-bad");
    const t2 = Date.now();
    await sleep(5);
    await chat(sim, "sk-a");
    const log = sim.stats().log;
    assert.deepEqual(
      log.map((e) => [e.key, e.status]),
      [
        ["sk-a", 200],
        ["sk-b", 200],
        ["sk-bad", 401],
        ["sk-a", 200],
      ],
    );
    assert.ok(log.every((e) => e.method === "POST" && e.path === "/v1/chat/completions" && !e.aborted));
    assert.equal(log.filter((e) => e.key === "sk-a" && e.at >= t1 && e.at <= t2).length, 0);
    assert.equal(log.filter((e) => e.key === "sk-a").length, 2);
  } finally {
    await sim.close();
  }
});

test("a zero-latency sim serves many requests cheaply (sanity, no timing assertion)", async () => {
  const sim = await startSimProvider({ dialect: "openai" });
  try {
    const body = JSON.stringify(chatBody);
    const one = async () => {
      const r = await request(`${sim.url}/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer k", "content-type": "application/json" },
        body,
      });
      await r.body.text();
      return r.statusCode;
    };
    const statuses = await Promise.all(Array.from({ length: 200 }, one));
    assert.ok(statuses.every((s) => s === 200));
    assert.equal(sim.stats().completed, 200);
  } finally {
    await sim.close();
  }
});
