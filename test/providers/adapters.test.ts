/**
 * One adapter per provider: what each brings (base URL, auth, the cheap call, rate limits), that
 * a named provider needs no base_url, and the two bugs that scattering provider knowledge had
 * caused (the Gemini rate-limit parser never ran in production; an Azure-style health probe lost
 * its api-version and left `{model}` unfilled).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, configFromEnv, parseConfig } from "../../src/index.js";
import { PROVIDERS, PROVIDER_NAMES } from "../../src/providers/registry.js";
import { Target, DEFAULT_TIMEOUTS } from "../../src/core/target.js";
import { targetSchema } from "../../src/config/schema.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway, postJson } from "../helpers/harness.js";

const named = (provider: string, extra: Record<string, unknown> = {}) =>
  parseConfig(
    {
      routes: [
        {
          name: "r",
          surface: PROVIDERS[provider as keyof typeof PROVIDERS].wire,
          models: ["*"],
          service: "s",
          targets: [{ id: "t", provider, key: "secret-key-0001", ...extra }],
        },
      ],
    },
    "test",
  );

test("every provider in the registry: a default base_url is used, a missing required one is a config error naming it", () => {
  for (const name of PROVIDER_NAMES) {
    const adapter = PROVIDERS[name];
    if (adapter.baseUrl !== undefined) {
      assert.equal(named(name).routes[0]!.targets[0]!.base_url, adapter.baseUrl, name);
      continue;
    }
    assert.throws(
      () => named(name),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some(
          (p) => p.startsWith("routes[0].targets[0].base_url: is required for provider") && p.includes(adapter.baseUrlExample),
        ),
      name,
    );
  }
});

test("the named OpenAI-compatible providers users ask for are there, each with its own API's URL and a Bearer key", () => {
  const expected: Record<string, string> = {
    groq: "https://api.groq.com/openai/v1",
    deepseek: "https://api.deepseek.com/v1",
    mistral: "https://api.mistral.ai/v1",
    together: "https://api.together.xyz/v1",
    openrouter: "https://openrouter.ai/api/v1",
    fireworks: "https://api.fireworks.ai/inference/v1",
    perplexity: "https://api.perplexity.ai",
    ollama: "http://127.0.0.1:11434/v1",
    vllm: "http://127.0.0.1:8000/v1",
  };
  for (const [name, url] of Object.entries(expected)) {
    const cfg = named(name).routes[0]!.targets[0]!;
    assert.equal(cfg.base_url, url, name);
    const t = new Target(cfg, "r", 0, DEFAULT_TIMEOUTS);
    assert.equal(t.wire, "openai", name);
    assert.deepEqual([t.authHeaderName, t.authHeaderValue], ["authorization", "Bearer secret-key-0001"], name);
  }
});

test("each provider's default auth: anthropic x-api-key (with anthropic-version), gemini x-goog-api-key, azure api-key plus api-version", () => {
  const target = (provider: string, extra: Record<string, unknown> = {}) =>
    new Target(targetSchema.parse({ id: "t", provider, key: "k-0001", ...extra }), "r", 0, DEFAULT_TIMEOUTS);
  const a = target("anthropic");
  assert.deepEqual([a.authHeaderName, a.defaultHeaders["anthropic-version"]], ["x-api-key", "2023-06-01"]);
  assert.equal(target("gemini").authHeaderName, "x-goog-api-key");
  const z = target("azure", { base_url: "https://res.openai.azure.com/openai/deployments/{model}", model: "gpt-4o-prod" });
  assert.equal(z.authHeaderName, "api-key");
  assert.equal(z.address.fixedQuery, "api-version=2024-10-21");
  const pinned = target("azure", {
    base_url: "https://res.openai.azure.com/openai/deployments/{model}",
    query: { "api-version": "2025-01-01-preview" },
  });
  assert.equal(pinned.address.fixedQuery, "api-version=2025-01-01-preview", "the target's own api-version wins");
});

test("the environment shortcut takes a named provider without a base URL", () => {
  const cfg = configFromEnv({ SWITCHYARD_PROVIDER: "deepseek", SWITCHYARD_API_KEYS: "sk-ds-aaaa:2,sk-ds-bbbb" });
  const route = cfg.routes[0]!;
  assert.equal(route.surface, "openai");
  assert.deepEqual(
    route.targets.map((t) => [t.provider, t.base_url, t.weight]),
    [
      ["deepseek", "https://api.deepseek.com/v1", 2],
      ["deepseek", "https://api.deepseek.com/v1", 1],
    ],
  );
  assert.throws(
    () => configFromEnv({ SWITCHYARD_PROVIDER: "azure", SWITCHYARD_API_KEYS: "k" }),
    (e: unknown) => e instanceof ConfigError && /SWITCHYARD_BASE_URL: is required for provider azure/.test(e.problems.join()),
  );
});

// --- Through the gateway ---

const oai = await startSimProvider({ dialect: "openai", name: "groq-like" });
const gemini = await startSimProvider({ dialect: "gemini", name: "gemini-limited", rate_limit_rate: 1, retry_after_s: 3 });
/** An Azure-shaped upstream that records what it is sent. */
const seen: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];
const azure = createServer((req, res) => {
  seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
  req.resume();
  res.setHeader("content-type", "application/json");
  if ((req.url ?? "").includes("/chat/completions"))
    res.end(
      JSON.stringify({
        id: "c1",
        object: "chat.completion",
        created: 1,
        model: "gpt-4o",
        choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
      }),
    );
  else res.end(JSON.stringify({ data: [{ id: "gpt-4o" }] }));
});
await new Promise<void>((r) => azure.listen(0, "127.0.0.1", r));
const azureUrl = `http://127.0.0.1:${(azure.address() as AddressInfo).port}`;

const gw = await startGateway({
  routes: [
    {
      name: "groq",
      surface: "openai",
      models: ["llama"],
      targets: [{ id: "groq", provider: "groq", base_url: `${oai.url}`, key: "gsk-test-0001" }],
    },
    {
      name: "gem",
      surface: "gemini",
      models: ["gemini-demo"],
      retry: { attempts: 1 },
      targets: [{ id: "gem", provider: "gemini", base_url: gemini.url, key: "gem-key-0002" }],
    },
    {
      name: "azure",
      surface: "openai",
      models: ["az"],
      health_check: { interval_s: 0.05, jitter: 0 },
      targets: [
        { id: "az", provider: "azure", base_url: `${azureUrl}/openai/deployments/{model}`, model: "gpt-4o-prod", key: "azure-key-0003" },
        {
          id: "az-style",
          provider: "openai-compatible",
          base_url: `${azureUrl}/openai/deployments/{model}`,
          model: "gpt-4o-mini-prod",
          query: { "api-version": "2024-06-01" },
          auth: { type: "header", name: "api-key" },
          key: "azure-key-0004",
        },
      ],
    },
  ],
});
after(async () => {
  await gw.close();
  await oai.close();
  await gemini.close();
  await new Promise((r) => azure.close(r));
});

test("a named provider (groq) works end to end with its Bearer key", async () => {
  oai.resetStats();
  const r = await postJson(`${gw.url}/v1/chat/completions`, { model: "llama", messages: [{ role: "user", content: "hi" }] });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("x-switchyard-target"), "groq");
  assert.equal(oai.stats().log[0]?.key, "gsk-test-0001");
});

test("regression: a Gemini 429 benches the key for its RetryInfo delay (the Gemini rate-limit parser runs in production)", async () => {
  const before = Date.now();
  const r = await postJson(`${gw.url}/v1beta/models/gemini-demo:generateContent`, {
    contents: [{ role: "user", parts: [{ text: "hi" }] }],
  });
  assert.equal(r.status, 429);
  assert.equal(r.headers.get("retry-after"), "3", "the body's retryDelay 3s, not the 1 s default");
  const status = await gw.status();
  const t = status.routes.find((x: { name: string }) => x.name === "gem").targets[0];
  const until = Date.parse(t.rate_limit.benched_until);
  assert.ok(until - before >= 2_500, `benched for the RetryInfo delay (${until - before} ms)`);
});

test("regression: the health probe of an Azure target carries its api-version, key header and a filled {model}", async () => {
  const deadline = Date.now() + 5_000;
  while (
    Date.now() < deadline &&
    !(seen.some((s) => s.headers["api-key"] === "azure-key-0003") && seen.some((s) => s.headers["api-key"] === "azure-key-0004"))
  )
    await new Promise((r) => setTimeout(r, 20));
  const probe = (key: string) => seen.find((s) => s.method === "GET" && s.headers["api-key"] === key);
  assert.equal(
    probe("azure-key-0003")?.path,
    "/openai/models?api-version=2024-10-21",
    "azure: the resource's model list, with the default api-version",
  );
  assert.equal(
    probe("azure-key-0004")?.path,
    "/openai/deployments/gpt-4o-mini-prod/models?api-version=2024-06-01",
    "Azure-style: {model} filled, the target's api-version",
  );
  for (const s of seen) assert.ok(!s.path.includes("{model}") && !s.path.includes("%7Bmodel%7D"), s.path);
  const status = await gw.status();
  const targets = status.routes.find((x: { name: string }) => x.name === "azure").targets;
  assert.deepEqual(
    targets.map((t: { health_check: { state: string } }) => t.health_check.state),
    ["healthy", "healthy"],
  );
});

test("a call through an Azure target goes to its deployment with api-version and the api-key header", async () => {
  seen.length = 0;
  for (let i = 0; i < 4; i++)
    assert.equal(
      (await postJson(`${gw.url}/v1/chat/completions`, { model: "az", messages: [{ role: "user", content: "hi" }] })).status,
      200,
    );
  const calls = seen.filter((s) => s.method === "POST").map((s) => [s.path, s.headers["api-key"], s.headers.authorization ?? null]);
  assert.deepEqual(
    new Set(calls.map((c) => JSON.stringify(c))),
    new Set([
      JSON.stringify(["/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21", "azure-key-0003", null]),
      JSON.stringify(["/openai/deployments/gpt-4o-mini-prod/chat/completions?api-version=2024-06-01", "azure-key-0004", null]),
    ]),
  );
});
