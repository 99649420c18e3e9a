/**
 * The request side of translation: what reaches the upstream (path, query, body, headers), what
 * the client learns about dropped fields, and what refuses a request before any attempt.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { createGateway } from "../../src/index.js";
import type { RestRequestInfo } from "../../src/simulator/sim-options.js";
import { RequestContext } from "../../src/core/request-context.js";
import { ENDPOINTS, type EndpointKind } from "../../src/core/endpoint.js";
import { buildUpstreamRequest } from "../../src/exchange/upstream-request.js";
import { upstreamRequestHeaders } from "../../src/exchange/headers.js";
import { simRoute } from "../helpers/sim-route.js";
import { postJson } from "../helpers/http.js";
import { UnsupportedFieldError } from "../../src/errors.js";

// An Azure-style OpenAI deployment, played by a REST sim that answers with a chat completion.
const azureSeen: RestRequestInfo[] = [];
const f = await simRoute({
  sims: [
    {
      dialect: "rest",
      name: "azure",
      rest_response: (r) => {
        azureSeen.push(r);
        return {
          id: "chatcmpl-az",
          object: "chat.completion",
          created: 1,
          model: "gpt-4o-2024-08-06",
          choices: [{ index: 0, message: { role: "assistant", content: "from azure" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        };
      },
    },
    { dialect: "anthropic", name: "claude" },
  ],
  routes: ([azure, claude]) => [
    {
      name: "azure",
      surface: "anthropic",
      models: ["smart"],
      targets: [
        {
          id: "az",
          provider: "openai-compatible",
          base_url: `${azure.url}/openai/deployments/{model}`,
          model: "gpt4o-prod",
          key: "az-key-0001",
          auth: { type: "header", name: "x-api-key" },
          query: { "api-version": "2024-10-21" },
        },
      ],
    },
    {
      name: "claude",
      surface: "openai",
      models: ["smart"],
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ant-0002", model: "claude-sonnet-4" }],
    },
    {
      name: "claude-strict",
      surface: "openai",
      models: ["strict"],
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ant-0002", on_unsupported: "reject" }],
    },
    {
      name: "strict-mixed",
      surface: "openai",
      models: ["strict-mixed"],
      strategy: "tiered",
      targets: [
        { id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ant-0002", on_unsupported: "reject", tier: 1 },
        {
          id: "az",
          provider: "openai-compatible",
          base_url: `${azure.url}/openai/deployments/{model}`,
          model: "gpt4o-prod",
          key: "az-key-0001",
          tier: 2,
        },
      ],
    },
  ],
});
const {
  gw,
  sims: [, claude],
} = f;
after(() => f.close());

test("Azure-style deployment: {model} in the base URL, api-version in the query, key in a named header", async () => {
  const client = new Anthropic({ apiKey: "client", baseURL: gw.url, maxRetries: 0 });
  const msg = await client.messages.create({ model: "smart", max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
  assert.deepEqual(msg.content, [{ type: "text", text: "from azure" }]);
  assert.equal(msg.model, "gpt-4o-2024-08-06", "the provider's own model field");
  assert.deepEqual(msg.usage, { input_tokens: 3, output_tokens: 2 });
  const r = azureSeen.at(-1)!;
  assert.equal(r.path, "/openai/deployments/gpt4o-prod/chat/completions");
  assert.deepEqual(r.query, { "api-version": "2024-10-21" });
  assert.equal(r.key, "az-key-0001");
  assert.equal((r.body as { model: string }).model, "gpt4o-prod");
});

test("a field the target cannot carry is dropped and named in x-switchyard-warnings (JSON and stream)", async () => {
  for (const stream of [false, true]) {
    const res = await postJson(`${gw.url}/v1/chat/completions`, {
      model: "smart",
      stream,
      response_format: { type: "json_object" },
      seed: 7,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(res.status, 200);
    const w = res.headers.get("x-switchyard-warnings") ?? "";
    assert.match(w, /response_format: Anthropic has no JSON mode/);
    assert.match(w, /seed: /);
  }
  const clean = await postJson(`${gw.url}/v1/chat/completions`, { model: "smart", messages: [{ role: "user", content: "hi" }] });
  assert.equal(clean.headers.get("x-switchyard-warnings"), null);
});

test("a body its own dialect refuses is a 400 invalid_request naming the field, before any attempt", async () => {
  const before = claude.stats().requests;
  const bad = await postJson(`${gw.url}/v1/chat/completions`, { model: "smart", messages: [{ role: "user", content: 42 }] });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, "invalid_request");
  assert.equal(bad.json.error.param, "messages[0].content");
  const res = await postJson(`${gw.url}/v1/messages`, { model: "smart", messages: [{ role: "user", content: "hi" }] });
  assert.equal(res.status, 400);
  assert.match(res.json.error.message, /max_tokens: is required/);
  assert.equal(claude.stats().requests, before);
});

// Needs the attempt loop to catch UnsupportedFieldError from buildUpstreamRequest (see the report).
test("on_unsupported: reject skips the target without counting an attempt; none left → 400 unsupported_field", async () => {
  const body = { response_format: { type: "json_object" }, messages: [{ role: "user", content: "hi" }] };
  const served = await postJson(`${gw.url}/v1/chat/completions`, { model: "strict-mixed", ...body });
  assert.equal(served.status, 200);
  assert.equal(served.headers.get("x-switchyard-target"), "az");
  assert.equal(served.headers.get("x-switchyard-attempts"), "1");
  const none = await postJson(`${gw.url}/v1/chat/completions`, { model: "strict", ...body });
  assert.equal(none.status, 400);
  assert.equal(none.json.error.code, "unsupported_field");
  assert.equal(none.json.error.param, "response_format");
  const status = await gw.status();
  const claudeStats = status.routes.find((r: { name: string }) => r.name === "claude-strict").targets[0].stats;
  assert.equal(claudeStats.by_outcome.connection_failure ?? 0, 0, "no failure recorded against the target");
});

// ─── unit level: one gateway's targets, no server ───────────────────────────────────────────

const lib = createGateway({
  routes: [
    {
      name: "mixed",
      surface: "openai",
      models: ["*"],
      targets: [
        { id: "oai", provider: "openai", base_url: "https://api.openai.com/v1" },
        { id: "ant", provider: "anthropic", base_url: "https://api.anthropic.com", on_unsupported: "reject" },
        {
          id: "gem",
          provider: "gemini",
          base_url: "https://generativelanguage.googleapis.com",
          model: "gemini-2.5-flash",
          key: "g-key-0003",
        },
        { id: "strict", provider: "openai-compatible", base_url: "http://127.0.0.1:9/v1", stream_usage: false },
      ],
    },
    {
      name: "gem",
      surface: "gemini",
      models: ["*"],
      targets: [{ id: "gem", provider: "gemini", base_url: "https://generativelanguage.googleapis.com", key: "g-key-0003" }],
    },
  ],
});
after(() => lib.close());
const [oai, ant, gem, strict] = lib.route("mixed")!.targets;

function ctxFor(kind: EndpointKind, json: Record<string, unknown>, headers: Record<string, string> = {}, query = ""): RequestContext {
  const ctx = new RequestContext("req-1", ENDPOINTS[kind], "POST", headers);
  ctx.json = json;
  ctx.body = Buffer.from(JSON.stringify(json));
  ctx.model = typeof json.model === "string" ? json.model : "m";
  ctx.stream = json.stream === true || kind === "stream_generate";
  ctx.query = query;
  return ctx;
}

test("same dialect and no alias: the client's bytes go upstream untouched (no parse, no copy)", () => {
  const ctx = ctxFor("chat", { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
  const up = buildUpstreamRequest(ctx, oai!);
  assert.equal(up.body, ctx.body);
  assert.equal(up.path, "/v1/chat/completions");
  assert.equal(ctx.canonical, undefined);
});

test("a streamed OpenAI chat asks for usage (for its cost) unless the client did or the target says stream_usage: false", () => {
  const body = { model: "gpt-4o", stream: true, messages: [{ role: "user", content: "hi" }] };
  const asked = JSON.parse(buildUpstreamRequest(ctxFor("chat", body), oai!).body!.toString());
  assert.deepEqual(asked.stream_options, { include_usage: true });
  assert.deepEqual(asked.messages, body.messages);
  const strictCtx = ctxFor("chat", body);
  assert.equal(buildUpstreamRequest(strictCtx, strict!).body, strictCtx.body, "stream_usage: false: the client's bytes as they are");
  const own = ctxFor("chat", { ...body, stream_options: { include_usage: true } });
  assert.equal(buildUpstreamRequest(own, oai!).body, own.body, "the client asked already: its bytes as they are");
  const plain = ctxFor("chat", { ...body, stream: false });
  assert.equal(buildUpstreamRequest(plain, oai!).body, plain.body, "not streamed: nothing to ask");
});

test("another dialect: the canonical form is parsed once per request and each target gets its own body and path", () => {
  const ctx = ctxFor("chat", {
    model: "smart",
    stream: true,
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: "hi" },
    ],
  });
  const a = buildUpstreamRequest(ctx, ant!);
  const parsed = ctx.canonical;
  const g = buildUpstreamRequest(ctx, gem!);
  assert.equal(ctx.canonical, parsed, "parsed once");
  assert.equal(a.path, "/v1/messages");
  assert.deepEqual(JSON.parse(a.body!.toString()).system, "be brief");
  assert.equal(g.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  assert.deepEqual(JSON.parse(g.body!.toString()).systemInstruction, { parts: [{ text: "be brief" }] });
});

test("on_unsupported: reject makes buildUpstreamRequest throw UnsupportedFieldError (the target is skipped); drop does not", () => {
  const ctx = ctxFor("chat", { model: "smart", response_format: { type: "json_object" }, messages: [{ role: "user", content: "hi" }] });
  assert.throws(
    () => buildUpstreamRequest(ctx, ant!),
    (e: unknown) => e instanceof UnsupportedFieldError && e.code === "SWY_ERR_UNSUPPORTED_FIELD" && e.field === "response_format",
  );
  assert.doesNotThrow(() => buildUpstreamRequest(ctx, gem!));
  const emb = ctxFor("embeddings", { model: "e", input: "x" });
  assert.throws(
    () => buildUpstreamRequest(emb, gem!),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "endpoint",
  );
});

test("a Gemini client's own key in the query does not travel upstream", () => {
  const ctx = ctxFor("stream_generate", { contents: [] }, {}, "alt=sse&key=client-secret");
  assert.equal(buildUpstreamRequest(ctx, lib.route("gem")!.targets[0]!).path, "/v1beta/models/m:streamGenerateContent?alt=sse");
});

test("a provider's own headers reach only that provider; an Anthropic target always gets anthropic-version", () => {
  const client = {
    "anthropic-version": "2024-01-01",
    "anthropic-beta": "tools",
    "x-api-key": "client",
    "x-goog-api-client": "genai-js",
    "openai-organization": "org",
    "x-stainless-lang": "js",
    "content-type": "application/json",
  };
  const toOpenAI = upstreamRequestHeaders(client, oai!, "r", null);
  assert.deepEqual(Object.keys(toOpenAI).sort(), ["content-type", "openai-organization", "x-request-id", "x-stainless-lang"]);
  const toAnthropic = upstreamRequestHeaders(client, ant!, "r", null);
  assert.equal(toAnthropic["anthropic-version"], "2024-01-01");
  assert.equal(toAnthropic["anthropic-beta"], "tools");
  assert.equal(toAnthropic["x-goog-api-client"], undefined);
  assert.equal(upstreamRequestHeaders({}, ant!, "r", null)["anthropic-version"], "2023-06-01");
  const toGemini = upstreamRequestHeaders(client, gem!, "r", null);
  assert.equal(toGemini["x-goog-api-client"], "genai-js");
  assert.equal(toGemini["x-goog-api-key"], "g-key-0003");
  assert.equal(toGemini["anthropic-version"], undefined);
});
