/**
 * Client keys as each official SDK meets them: a valid key is served; a wrong one raises the
 * SDK's own authentication error (OpenAI and Anthropic AuthenticationError — x-api-key and
 * Bearer styles — and Gemini's ApiError 401); a key kept to one model, a disabled or an expired
 * key raise the permission error (403). A key made through the admin API works at once, and its
 * secret is in no other answer nor the log; the usage ledger and the access log carry the key's
 * name; the simulated providers never see a client key.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { ApiError, GoogleGenAI } from "@google/genai";
import { createGateway, startServer, type ConfigInput } from "../../src/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway } from "../helpers/harness.js";

const APP = "sk-app-client-key-0001";
const LIMITED = "sk-limited-client-key-0002";
const DISABLED = "sk-disabled-client-key-0003";
const EXPIRED = "sk-expired-client-key-0004";
const TARGET_KEYS = ["sk-sim-openai-0000", "sk-sim-anthropic-0000", "sk-sim-gemini-0000"];

const sims = {
  openai: await startSimProvider({ dialect: "openai", name: "sim-openai" }),
  anthropic: await startSimProvider({ dialect: "anthropic", name: "sim-anthropic" }),
  gemini: await startSimProvider({ dialect: "gemini", name: "sim-gemini" }),
};

function routes(): ConfigInput["routes"] {
  return [
    {
      name: "oai",
      surface: "openai",
      models: ["demo", "other"],
      targets: [{ id: "o", provider: "openai", base_url: sims.openai.url, key: TARGET_KEYS[0] }],
    },
    {
      name: "ant",
      surface: "anthropic",
      models: ["claude-demo", "claude-other"],
      targets: [{ id: "a", provider: "anthropic", base_url: sims.anthropic.url, key: TARGET_KEYS[1] }],
    },
    {
      name: "gem",
      surface: "gemini",
      models: ["gem-demo", "gem-other"],
      targets: [{ id: "g", provider: "gemini", base_url: sims.gemini.url, key: TARGET_KEYS[2] }],
    },
  ];
}

const dir = mkdtempSync(join(tmpdir(), "switchyard-client-keys-"));
const logFile = join(dir, "gateway.log");
const gateway = createGateway({
  server: { host: "127.0.0.1", port: 0 },
  store: { path: join(dir, "switchyard.db") },
  usage: { flush_ms: 50 },
  routes: routes(),
  client_keys: [
    { name: "app", key: APP },
    { name: "limited", key: LIMITED, models: ["demo", "claude-demo", "gem-demo"] },
    { name: "off", key: DISABLED, disabled: true },
    { name: "old", key: EXPIRED, expires_at: "2020-01-01T00:00:00Z" },
  ],
});
const server = await startServer(gateway, { logger: createLogger("info", logFile) });
const url = server.url;
let closed = false;
after(async () => {
  if (!closed) await server.shutdown(0);
  await Promise.all(Object.values(sims).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const openai = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });
const anthropicKey = (apiKey: string) => new Anthropic({ apiKey, baseURL: url, maxRetries: 0 });
const anthropicToken = (authToken: string) => new Anthropic({ authToken, apiKey: null, baseURL: url, maxRetries: 0 });
const gemini = (apiKey: string) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url } });

const chat = (client: OpenAI, model = "demo") => client.chat.completions.create({ model, messages: [{ role: "user", content: "hello" }] });
const message = (client: Anthropic, model = "claude-demo") =>
  client.messages.create({ model, max_tokens: 32, messages: [{ role: "user", content: "hello" }] });
const generate = (ai: GoogleGenAI, model = "gem-demo") => ai.models.generateContent({ model, contents: "hello" });

/** The error a call raised (it must raise one). */
async function raised(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("the call succeeded");
}

/** Many secrets at once made through the admin API, collected to check none leaks. */
const madeSecrets: string[] = [];

test("openai SDK: a valid key is served; a wrong one raises AuthenticationError; model, disabled and expired keys PermissionDeniedError", async () => {
  const ok = await chat(openai(APP));
  assert.ok((ok.choices[0]?.message.content ?? "").length > 0);
  assert.ok((await chat(openai(LIMITED))).choices.length > 0);

  const wrong = await raised(chat(openai("sk-wrong-client-key-9999")));
  assert.ok(wrong instanceof OpenAI.AuthenticationError, String(wrong));
  assert.equal(wrong.status, 401);
  assert.match(wrong.message, /client key sent is not valid/);

  for (const [key, model, says] of [
    [LIMITED, "other", /client key "limited" may not use model "other"/],
    [DISABLED, "demo", /client key "off" is disabled/],
    [EXPIRED, "demo", /client key "old" expired at 2020-01-01/],
  ] as const) {
    const e = await raised(chat(openai(key), model));
    assert.ok(e instanceof OpenAI.PermissionDeniedError, String(e));
    assert.equal(e.status, 403);
    assert.match(e.message, says);
  }
});

test("anthropic SDK: apiKey (x-api-key) and authToken (Bearer) styles both served; wrong ones raise AuthenticationError; a limited key PermissionDeniedError", async () => {
  assert.equal((await message(anthropicKey(APP))).type, "message");
  assert.equal((await message(anthropicToken(APP))).type, "message");

  for (const client of [anthropicKey("sk-ant-wrong-key-9999"), anthropicToken("sk-ant-wrong-token-9999")]) {
    const e = await raised(message(client));
    assert.ok(e instanceof Anthropic.AuthenticationError, String(e));
    assert.equal(e.status, 401);
  }
  const limited = await raised(message(anthropicKey(LIMITED), "claude-other"));
  assert.ok(limited instanceof Anthropic.PermissionDeniedError, String(limited));
  // The SDK's message is the error body as sent (the gateway's words, quotes escaped).
  assert.match(limited.message, /client key \\"limited\\" may not use model \\"claude-other\\"/);
  const off = await raised(message(anthropicToken(DISABLED)));
  assert.ok(off instanceof Anthropic.PermissionDeniedError, String(off));
});

test("gemini SDK: a valid key is served; a wrong one raises ApiError 401; a limited or expired key ApiError 403", async () => {
  assert.ok(((await generate(gemini(APP))).text ?? "").length > 0);

  const wrong = await raised(generate(gemini("gm-wrong-client-key-9999")));
  assert.ok(wrong instanceof ApiError, String(wrong));
  assert.equal(wrong.status, 401);
  for (const [key, model] of [
    [LIMITED, "gem-other"],
    [EXPIRED, "gem-demo"],
  ] as const) {
    const e = await raised(generate(gemini(key), model));
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.status, 403);
  }
});

test("admin API: a key made by POST /admin/keys is served at once by every SDK; its secret is in no other answer", async () => {
  const res = await fetch(`${url}/admin/keys`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "ci-bot", models: ["demo", "claude-demo", "gem-demo"], metadata: { owner: "ci" } }),
  });
  assert.equal(res.status, 201);
  const secret = ((await res.json()) as { key: string }).key;
  madeSecrets.push(secret);
  assert.ok((await chat(openai(secret))).choices.length > 0);
  assert.equal((await message(anthropicKey(secret))).type, "message");
  assert.ok(((await generate(gemini(secret))).text ?? "").length > 0);
  const e = await raised(chat(openai(secret), "other"));
  assert.ok(e instanceof OpenAI.PermissionDeniedError, String(e));

  for (const path of ["/admin/keys", "/admin/config", "/admin/status", "/metrics", "/admin/usage?group_by=client_key"]) {
    const text = await (await fetch(`${url}${path}`)).text();
    for (const s of [secret, APP, LIMITED, DISABLED, EXPIRED]) assert.equal(text.includes(s), false, `${path} holds a secret`);
  }
});

test("keys off: with no client key configured, any key (or none) is served", async () => {
  const open = await startGateway({ routes: routes() });
  try {
    const any = new OpenAI({ apiKey: "anything-at-all", baseURL: `${open.url}/v1`, maxRetries: 0 });
    assert.ok((await chat(any)).choices.length > 0);
    const ant = new Anthropic({ apiKey: "whatever", baseURL: open.url, maxRetries: 0 });
    assert.equal((await message(ant)).type, "message");
    const gem = new GoogleGenAI({ apiKey: "whatever", httpOptions: { baseUrl: open.url } });
    assert.ok(((await generate(gem)).text ?? "").length > 0);
  } finally {
    await open.close();
  }
});

test("no provider ever saw a client key: the simulators' keys are the targets' own", () => {
  const clientKeys = [APP, LIMITED, DISABLED, EXPIRED, ...madeSecrets, "anything-at-all", "whatever"];
  for (const [name, s] of Object.entries(sims)) {
    const st = s.stats();
    assert.ok(st.requests > 0, `${name} was called`);
    for (const k of Object.keys(st.by_key)) assert.ok(TARGET_KEYS.includes(k), `${name} saw key ${k}`);
    for (const entry of st.log) for (const c of clientKeys) assert.equal(entry.path.includes(c), false);
  }
});

test("the usage ledger and the access log carry the key's name, never its secret", async () => {
  type Row = { client_key: string; requests: number };
  let rows: Row[] = [];
  // The ledger writes every 50 ms: wait (up to 10 s) for the rows of the calls made above.
  for (let i = 0; i < 200; i++) {
    rows = ((await (await fetch(`${url}/admin/usage?group_by=client_key`)).json()) as { rows: Row[] }).rows;
    if (["app", "limited", "ci-bot"].every((k) => rows.some((r) => r.client_key === k))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const byKey = Object.fromEntries(rows.map((r) => [r.client_key, r.requests]));
  // app: openai, anthropic ×2, gemini; limited: openai, then three refused after their route was known.
  assert.equal(byKey["app"], 4);
  assert.equal(byKey["limited"], 4);
  // ci-bot: one per SDK, and one refused for its model.
  assert.equal(byKey["ci-bot"], 4);

  await server.shutdown(0); // flushes the log
  closed = true;
  const log = readFileSync(logFile, "utf8");
  const access = log
    .split("\n")
    .filter((l) => l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l) as { client_key?: string; status: number });
  const served = (k: string) => access.filter((a) => a.client_key === k && a.status === 200).length;
  assert.equal(served("app"), 4);
  assert.equal(served("ci-bot"), 3);
  assert.equal(access.filter((a) => a.client_key === "off").length, 2);
  assert.equal(access.filter((a) => a.client_key === undefined && a.status === 401).length, 4);
  for (const s of [APP, LIMITED, DISABLED, EXPIRED, ...madeSecrets]) {
    assert.equal(log.includes(s), false, "the log holds a secret");
    for (const f of readdirSync(dir)) assert.equal(readFileSync(join(dir, f)).includes(s), false, `${f} holds a secret`);
  }
});
