import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { configFromEnv } from "../../src/config/env.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway } from "../helpers/harness.js";
import { call } from "../helpers/http.js";

/** The balancer's own variables, Claude and Gemini keys in one process, its paths, simulators for the providers. */
const claude = await startSimProvider({ dialect: "anthropic" });
const gemini = await startSimProvider({ dialect: "gemini" });
const gw = await startGateway(
  configFromEnv({
    LOAD_BALANCER_ENABLED: "true",
    LOAD_BALANCER_API_KEYS: "sk-ant-env-0001:1,sk-ant-env-0002:1",
    LOAD_BALANCER_GEMINI_API_KEYS: "AIza-env-0003,AIza-env-0004",
    LOAD_BALANCER_STRATEGY: "round-robin",
    LOAD_BALANCER_CLAUDE_BASE_URL: claude.url,
    LOAD_BALANCER_GEMINI_BASE_URL: gemini.url,
  }),
);
after(async () => {
  await gw.close();
  await Promise.all([claude.close(), gemini.close()]);
});

test("one process from LOAD_BALANCER_* serves Claude and Gemini keys on /{uuid}/lb, rotating the keys", async () => {
  for (let i = 0; i < 2; i++) {
    const m = await call(`${gw.url}/${randomUUID()}/lb/v1/messages`, {
      body: { model: "claude-3-sonnet", max_tokens: 100, messages: [{ role: "user", content: "Hello, world!" }] },
    });
    assert.equal(m.status, 200, m.text);
    const g = await call(`${gw.url}/${randomUUID()}/lb/v1beta/models/gemini-pro:generateContent`, {
      body: { contents: [{ role: "user", parts: [{ text: "Hello" }] }] },
    });
    assert.equal(g.status, 200, g.text);
  }
  assert.deepEqual(claude.stats().by_key, { "sk-ant-env-0001": 1, "sk-ant-env-0002": 1 });
  assert.deepEqual(gemini.stats().by_key, { "AIza-env-0003": 1, "AIza-env-0004": 1 });

  const status = await call(`${gw.url}/${randomUUID()}/lb/v1/load-balancer/status`);
  const s = status.json.loadBalancer;
  assert.equal(s.totalKeys, 4);
  assert.equal(s.activeKeys, 4);
  assert.equal(s.strategy, "round-robin");
  assert.equal(s.stats.totalRequests, 4);
  assert.deepEqual(Object.keys(s.stats.apiKeyStats), ["****0001", "****0002", "****0003", "****0004"]);
  assert.doesNotMatch(status.text, /sk-ant-env|AIza-env/);
});

test("without an admin token the balancer's reset needs none", async () => {
  const r = await call(`${gw.url}/${randomUUID()}/lb/v1/load-balancer/reset`, { method: "POST" });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.routes, ["lb-claude", "lb-gemini"]);
  const s = (await call(`${gw.url}/${randomUUID()}/lb/v1/load-balancer/status`)).json.loadBalancer;
  assert.equal(s.stats.totalRequests, 0);
});
