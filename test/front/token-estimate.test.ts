import { test } from "node:test";
import assert from "node:assert/strict";
import { ENDPOINTS, type Endpoint } from "../../src/core/endpoint.js";
import { RequestContext } from "../../src/core/request-context.js";
import { EXACT_CHARS, estimateTokens, loadTokenCounter } from "../../src/front/token-estimate.js";

const count = await loadTokenCounter();

function ctxOf(endpoint: Endpoint, json: Record<string, unknown>): RequestContext {
  const ctx = new RequestContext("r", endpoint, "POST", {});
  ctx.json = json;
  return ctx;
}

test("an OpenAI chat: each message's text and framing, the reply's priming, and max_tokens", () => {
  const json = {
    model: "m",
    max_tokens: 100,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "hello there" }] },
    ],
  };
  assert.equal(estimateTokens(ctxOf(ENDPOINTS.chat, json), count), count("Be brief.") + count("hello there") + 2 * 3 + 3 + 100);
});

test("an Anthropic message: the system prompt, text blocks, a tool call's input and a tool result; an image counts a fixed 85", () => {
  const json = {
    model: "m",
    max_tokens: 50,
    system: [{ type: "text", text: "You are terse." }],
    messages: [
      {
        role: "user",
        content: [
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo".repeat(1000) } },
          { type: "text", text: "what is it?" },
        ],
      },
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "look", input: { query: "a cat" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "a cat on a mat" }] },
    ],
  };
  const text = count("You are terse.") + count("what is it?") + count("look") + count("a cat") + count("a cat on a mat");
  assert.equal(estimateTokens(ctxOf(ENDPOINTS.messages, json), count), text + 85 + 3 * 3 + 3 + 50);
});

test("a Gemini request: contents' parts, the system instruction and generationConfig.maxOutputTokens", () => {
  const json = {
    systemInstruction: { parts: [{ text: "Answer in French." }] },
    contents: [{ role: "user", parts: [{ text: "good morning" }] }],
    generationConfig: { maxOutputTokens: 64 },
  };
  assert.equal(estimateTokens(ctxOf(ENDPOINTS.generate, json), count), count("Answer in French.") + count("good morning") + 3 + 3 + 64);
});

test("embeddings: the input only (strings, or token ids one each), no output", () => {
  assert.equal(
    estimateTokens(ctxOf(ENDPOINTS.embeddings, { model: "e", input: ["one two", "three"] }), count),
    count("one two") + count("three"),
  );
  assert.equal(estimateTokens(ctxOf(ENDPOINTS.embeddings, { model: "e", input: [[1, 2, 3], [4]] }), count), 4);
});

test("no maximum given: the default output allowance; REST: no tokens at all", () => {
  assert.equal(ctxOf(ENDPOINTS.chat, {}).maxOutputTokens(1024), 1024);
  assert.equal(ctxOf(ENDPOINTS.chat, { max_completion_tokens: 7, max_tokens: 9 }).maxOutputTokens(1024), 7);
  assert.equal(estimateTokens(ctxOf(ENDPOINTS.rest, { anything: "text" }), count), 0);
});

test("special-token text in a message is counted as text, never refused", () => {
  const json = { model: "m", max_tokens: 1, messages: [{ role: "user", content: "<|endoftext|> <|im_start|>" }] };
  assert.ok(estimateTokens(ctxOf(ENDPOINTS.chat, json), count) > 3 + 3 + 1);
});

test("text past the exact budget is extrapolated at the ratio the counted part showed", () => {
  const long = "Revenue grew 12% year on year, driven by services; margins held at 31%. ".repeat(300);
  assert.ok(long.length > 4 * EXACT_CHARS);
  const json = { model: "m", max_tokens: 1, messages: [{ role: "user", content: long }] };
  const estimated = estimateTokens(ctxOf(ENDPOINTS.chat, json), count) - 3 - 3 - 1;
  const exact = count(long);
  assert.ok(Math.abs(estimated - exact) / exact < 0.02, `${estimated} estimated, ${exact} exact`);
});
