import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { simRoute } from "../helpers/sim-route.js";
import { call } from "../helpers/http.js";

const TOKEN = "admin-token-4321";
const KEYS = ["sk-ant-lb-good-0001", "sk-ant-lb-good-0002", "sk-ant-lb-bad-0003"];
const GEMINI_KEY = "AIza-lb-gemini-0004";

/** Claude keys 1 and 2 on a healthy sim, key 3 on one that answers 500; a Gemini key under the same prefix. */
const f = await simRoute({
  sims: [{ dialect: "anthropic" }, { dialect: "anthropic", error_rate: 1, error_status: 500 }, { dialect: "gemini" }] as const,
  routes: ([ok, bad, gem]) => [
    {
      name: "claude",
      surface: "anthropic",
      prefix: "/{uuid}/lb",
      models: ["*"],
      strategy: "round-robin",
      retry: { attempts: 1 },
      breaker: { enabled: false },
      key_disable: { enabled: false },
      targets: KEYS.map((key, i) => ({ id: `k${i + 1}`, provider: "anthropic" as const, base_url: (i < 2 ? ok : bad).url, key })),
    },
    {
      name: "gemini",
      surface: "gemini",
      prefix: "/{uuid}/lb",
      models: ["*"],
      strategy: "weighted",
      targets: [{ id: "g1", provider: "gemini", base_url: gem.url, key: GEMINI_KEY }],
    },
  ],
  config: { admin: { token: TOKEN } },
});
after(() => f.close());

const lb = (uuid = randomUUID()) => `${f.url}/${uuid}/lb/v1/load-balancer`;
const admin = { authorization: `Bearer ${TOKEN}` };
const message = { model: "claude-test", max_tokens: 16, messages: [{ role: "user", content: "hello" }] };

/** Every value replaced by its type: the shape a client parses. */
function shape(v: unknown): unknown {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]));
}

test("status has exactly the balancer's shape, counts after requests with one failure, keys masked", async () => {
  const before = Date.now();
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await call(`${f.url}/${randomUUID()}/lb/v1/messages`, { body: message })).status);
  assert.deepEqual(statuses.sort(), [200, 200, 502].sort(), "round-robin: keys 1 and 2 answer, key 3's 500 fails");

  const r = await call(`${lb()}/status?route=claude`);
  assert.equal(r.status, 200);
  const used = { requests: "number", failures: "number", lastUsed: "number" };
  assert.deepEqual(shape(r.json), {
    loadBalancer: {
      enabled: "boolean",
      activeKeys: "number",
      totalKeys: "number",
      strategy: "string",
      stats: {
        totalRequests: "number",
        successfulRequests: "number",
        failedRequests: "number",
        lastUsed: "number",
        apiKeyStats: { "****0001": used, "****0002": used, "****0003": used },
      },
    },
  });
  const s = r.json.loadBalancer;
  assert.equal(s.enabled, true);
  assert.equal(s.activeKeys, 3);
  assert.equal(s.totalKeys, 3);
  assert.equal(s.strategy, "round-robin");
  assert.equal(s.stats.totalRequests, 3);
  assert.equal(s.stats.successfulRequests, 2);
  assert.equal(s.stats.failedRequests, 1);
  assert.ok(s.stats.lastUsed >= before && s.stats.lastUsed <= Date.now(), "epoch ms");
  assert.deepEqual(
    Object.values(s.stats.apiKeyStats).map((k: any) => [k.requests, k.failures]),
    [
      [1, 0],
      [1, 0],
      [1, 1],
    ],
  );
  for (const key of KEYS) assert.ok(!r.text.includes(key), "no key in full");
});

test("status counts a disabled key out of activeKeys", async () => {
  const off = await call(`${f.url}/admin/routes/claude/targets/k2/disable`, { method: "POST", headers: admin });
  assert.equal(off.status, 200, off.text);
  try {
    const s = (await call(`${lb()}/status?route=claude`)).json.loadBalancer;
    assert.equal(s.activeKeys, 2);
    assert.equal(s.totalKeys, 3);
  } finally {
    await call(`${f.url}/admin/routes/claude/targets/k2/enable`, { method: "POST", headers: admin });
  }
});

test("without ?route= the status covers every route under the prefix; an unknown ?route= is a 404", async () => {
  const gen = await call(`${f.url}/${randomUUID()}/lb/v1beta/models/gemini-test:generateContent`, {
    body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
  });
  assert.equal(gen.status, 200, gen.text);
  const all = (await call(`${lb()}/status`)).json.loadBalancer;
  const claude = (await call(`${lb()}/status?route=claude`)).json.loadBalancer;
  const gemini = (await call(`${lb()}/status?route=gemini`)).json.loadBalancer;
  assert.equal(all.totalKeys, 4);
  assert.equal(all.strategy, "round-robin,weighted");
  assert.equal(gemini.strategy, "weighted");
  assert.equal(all.stats.totalRequests, claude.stats.totalRequests + gemini.stats.totalRequests);
  assert.deepEqual(Object.keys(all.stats.apiKeyStats), ["****0001", "****0002", "****0003", "****0004"]);
  assert.equal(gemini.stats.apiKeyStats["****0004"].requests, 1);
  const unknown = await call(`${lb()}/status?route=nope`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers["x-switchyard-error"], "unknown_route");
});

test("config is the routes' config with every key masked", async () => {
  const r = await call(`${lb()}/config`);
  assert.equal(r.status, 200);
  const c = r.json.loadBalancer;
  assert.equal(c.enabled, true);
  assert.equal(c.strategy, "round-robin,weighted");
  assert.equal(c.windowSize, null);
  assert.deepEqual(
    c.apiKeys.map((k: any) => [k.key, k.weight, k.provider, k.route]),
    [
      ["****0001", 1, "anthropic", "claude"],
      ["****0002", 1, "anthropic", "claude"],
      ["****0003", 1, "anthropic", "claude"],
      ["****0004", 1, "gemini", "gemini"],
    ],
  );
  assert.deepEqual(
    c.routes.map((route: any) => [route.name, route.prefix, route.targets.map((t: any) => t.key)]),
    [
      ["claude", "/{uuid}/lb", ["****0001", "****0002", "****0003"]],
      ["gemini", "/{uuid}/lb", ["****0004"]],
    ],
  );
  for (const key of [...KEYS, GEMINI_KEY]) assert.ok(!r.text.includes(key), "no key in full anywhere in the body");
  assert.ok(!r.text.includes(TOKEN));
  const one = await call(`${lb()}/config?route=gemini`);
  assert.deepEqual(
    one.json.loadBalancer.routes.map((route: any) => route.name),
    ["gemini"],
  );
});

test("reset needs the admin token when one is set, then zeroes the stats", async () => {
  await call(`${f.url}/${randomUUID()}/lb/v1/messages`, { body: message });
  const denied = await call(`${lb()}/reset`, { method: "POST" });
  assert.equal(denied.status, 401);
  const wrong = await call(`${lb()}/reset`, { method: "POST", headers: { authorization: "Bearer not-the-token" } });
  assert.equal(wrong.status, 401);
  assert.ok((await call(`${lb()}/status?route=claude`)).json.loadBalancer.stats.totalRequests > 0, "a denied reset changes nothing");

  const ok = await call(`${lb()}/reset?route=claude`, { method: "POST", headers: admin });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json.routes, ["claude"]);
  assert.equal(ok.json.reset_keys, 3);
  const s = (await call(`${lb()}/status?route=claude`)).json.loadBalancer;
  assert.deepEqual(s.stats, {
    totalRequests: 0,
    successfulRequests: 0,
    failedRequests: 0,
    lastUsed: null,
    apiKeyStats: {
      "****0001": { requests: 0, failures: 0, lastUsed: null },
      "****0002": { requests: 0, failures: 0, lastUsed: null },
      "****0003": { requests: 0, failures: 0, lastUsed: null },
    },
  });
  assert.ok((await call(`${lb()}/status?route=gemini`)).json.loadBalancer.stats.totalRequests > 0, "?route= resets that route only");

  const all = await call(`${lb()}/reset`, { method: "POST", headers: admin });
  assert.deepEqual(all.json.routes, ["claude", "gemini"]);
  assert.equal((await call(`${lb()}/status`)).json.loadBalancer.stats.totalRequests, 0);
});

test("the management paths take only their method", async () => {
  assert.equal((await call(`${lb()}/status`, { method: "POST" })).status, 405);
  assert.equal((await call(`${lb()}/reset`, { method: "GET" })).headers.allow, "POST");
});
