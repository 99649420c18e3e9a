/**
 * A provider's error reaches the client in the client's dialect: the status the client's SDK
 * turns into the right typed error, and a message naming the target and its provider, without
 * the target's key.
 */
import { test, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { simRoute } from "../helpers/sim-route.js";

const ANT_KEY = "sk-ant-secret-key-0002";
const OAI_KEY = "sk-oai-secret-key-0001";
const f = await simRoute({
  sims: [
    { dialect: "anthropic", name: "claude" },
    { dialect: "openai", name: "oai" },
  ],
  routes: ([claude, oai]) => [
    // key_disable off: a provider's 401 is then the client's answer (translated), not a key to take out.
    {
      name: "to-claude",
      surface: "openai",
      models: ["smart"],
      retry: { attempts: 1 },
      key_disable: { enabled: false },
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: ANT_KEY, model: "claude-sonnet-4" }],
    },
    {
      name: "to-claude-rl",
      surface: "openai",
      models: ["rl"],
      retry: { attempts: 1 },
      targets: [{ id: "claude-rl", provider: "anthropic", base_url: claude.url, key: ANT_KEY, model: "claude-sonnet-4" }],
    },
    {
      name: "to-claude-kd",
      surface: "openai",
      models: ["kd"],
      retry: { attempts: 1 },
      targets: [{ id: "claude-kd", provider: "anthropic", base_url: claude.url, key: ANT_KEY, model: "claude-sonnet-4" }],
    },
    {
      name: "to-oai",
      surface: "anthropic",
      models: ["smart"],
      retry: { attempts: 1 },
      key_disable: { enabled: false },
      targets: [{ id: "oai", provider: "openai", base_url: oai.url, key: OAI_KEY, model: "gpt-4o" }],
    },
    {
      name: "gem-to-claude",
      surface: "gemini",
      models: ["smart"],
      retry: { attempts: 1 },
      key_disable: { enabled: false },
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: ANT_KEY, model: "claude-sonnet-4" }],
    },
    {
      name: "same",
      surface: "openai",
      models: ["plain"],
      retry: { attempts: 1 },
      key_disable: { enabled: false },
      targets: [{ id: "oai", provider: "openai", base_url: oai.url, key: OAI_KEY }],
    },
  ],
});
const {
  gw,
  sims: [claude, oai],
} = f;
after(() => f.close());
beforeEach(async () => {
  for (const s of [claude, oai]) await s.set({ error_rate: 0, rate_limit_rate: 0, revoked_keys: [] });
});

const openai = new OpenAI({ apiKey: "client", baseURL: `${gw.url}/v1`, maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: "client", baseURL: gw.url, maxRetries: 0 });
const gemini = new GoogleGenAI({ apiKey: "client", httpOptions: { baseUrl: gw.url } });
const ask = (model = "smart") => openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });

function noSecrets(message: string): void {
  assert.ok(!message.includes(ANT_KEY) && !message.includes(OAI_KEY), `no key in "${message}"`);
}

test("Anthropic 400 → OpenAI SDK BadRequestError, message naming the target and provider", async () => {
  await claude.set({ error_rate: 1, error_status: 400 });
  await assert.rejects(ask(), (err: unknown) => {
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.match(err.message, /target claude \(anthropic\): /);
    assert.equal((err.error as { type?: string }).type, "invalid_request_error");
    noSecrets(err.message);
    return true;
  });
});

test("Anthropic 401 (revoked key) → OpenAI SDK AuthenticationError, without the key", async () => {
  await claude.set({ revoked_keys: [ANT_KEY] });
  await assert.rejects(ask(), (err: unknown) => {
    assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
    assert.equal(err.status, 401);
    assert.match(err.message, /target claude \(anthropic\)/);
    noSecrets(err.message);
    return true;
  });
});

test("Anthropic 401 with key auto-disable on (the default) → 502 upstream_error naming the target", async () => {
  await claude.set({ revoked_keys: [ANT_KEY] });
  await assert.rejects(ask("kd"), (err: unknown) => {
    assert.ok(err instanceof OpenAI.InternalServerError, String(err));
    assert.equal(err.status, 502);
    assert.equal((err.error as { code?: string }).code, "upstream_error");
    assert.match(err.message, /target claude-kd \(401 from upstream/);
    noSecrets(err.message);
    return true;
  });
});

test("Anthropic 429 → OpenAI SDK RateLimitError with Retry-After, message naming the target", async () => {
  await claude.set({ rate_limit_rate: 1, retry_after_s: 7 });
  await assert.rejects(ask("rl"), (err: unknown) => {
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.match(err.message, /target claude-rl/);
    assert.ok(Number(err.headers?.get("retry-after")) >= 1);
    noSecrets(err.message);
    return true;
  });
});

test("OpenAI 400 and 401 → Anthropic SDK BadRequestError / AuthenticationError in Anthropic's shape", async () => {
  const call = () => anthropic.messages.create({ model: "smart", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
  await oai.set({ error_rate: 1, error_status: 400 });
  await assert.rejects(call(), (err: unknown) => {
    assert.ok(err instanceof Anthropic.BadRequestError, String(err));
    assert.match(err.message, /target oai \(openai\): /);
    assert.equal((err.error as { type?: string; error?: { type?: string } }).error?.type, "invalid_request_error");
    return true;
  });
  await oai.set({ error_rate: 0, revoked_keys: [OAI_KEY] });
  await assert.rejects(call(), (err: unknown) => {
    assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
    assert.equal((err.error as { error?: { type?: string } }).error?.type, "authentication_error");
    noSecrets(err.message);
    return true;
  });
});

test("Anthropic 401 → Gemini SDK error with status 401 and UNAUTHENTICATED", async () => {
  await claude.set({ revoked_keys: [ANT_KEY] });
  await assert.rejects(gemini.models.generateContent({ model: "smart", contents: "hi" }), (err: unknown) => {
    const e = err as { status?: number; message: string };
    assert.equal(e.status, 401);
    assert.match(e.message, /UNAUTHENTICATED/);
    assert.match(e.message, /target claude \(anthropic\)/);
    noSecrets(e.message);
    return true;
  });
});

test("same dialect: a provider's 4xx keeps its body but its message names the target", async () => {
  await oai.set({ revoked_keys: [OAI_KEY] });
  await assert.rejects(ask("plain"), (err: unknown) => {
    assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
    assert.match(err.message, /target oai \(openai\): /);
    assert.equal((err.error as { code?: string }).code, "invalid_api_key", "the provider's own code is kept");
    noSecrets(err.message);
    return true;
  });
});
