import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatCompletion } from "../../src/providers/canonical.js";
import { fromGeminiError, toGeminiError } from "../../src/providers/gemini/errors.js";
import { fromGeminiResponse, toGeminiResponse } from "../../src/providers/gemini/response.js";
import { at } from "../helpers/at.js";

test("gemini response → canonical: candidates, function calls with ids and signatures, usage", () => {
  const c = fromGeminiResponse({
    candidates: [
      {
        content: {
          role: "model",
          parts: [
            { text: "I should call it", thought: true },
            { text: "Calling." },
            { functionCall: { name: "get_weather", args: { location: "Paris" } }, thoughtSignature: "CiQB" },
          ],
        },
        finishReason: "STOP",
        index: 0,
      },
      { content: { role: "model", parts: [{ text: "Too long" }] }, finishReason: "MAX_TOKENS", index: 1 },
    ],
    usageMetadata: {
      promptTokenCount: 50,
      candidatesTokenCount: 10,
      totalTokenCount: 90,
      thoughtsTokenCount: 30,
      cachedContentTokenCount: 20,
    },
    modelVersion: "gemini-2.5-flash",
    responseId: "resp-1",
  });
  assert.equal(c.id, "resp-1");
  assert.equal(c.model, "gemini-2.5-flash");
  const choice = at(c.choices, 0, "choices");
  assert.equal(choice.message.content, "Calling.");
  assert.equal(choice.finish_reason, "tool_calls");
  const call = at(choice.message.tool_calls ?? [], 0, "tool_calls");
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  assert.deepEqual(
    { ...call, id: "" },
    {
      id: "",
      type: "function",
      function: { name: "get_weather", arguments: '{"location":"Paris"}' },
      extra_content: { google: { thought_signature: "CiQB" } },
    },
  );
  assert.equal(c.choices[1]?.finish_reason, "length");
  assert.deepEqual(c.usage, {
    prompt_tokens: 50,
    completion_tokens: 40,
    total_tokens: 90,
    prompt_tokens_details: { cached_tokens: 20 },
    completion_tokens_details: { reasoning_tokens: 30 },
  });
});

test("gemini response: a blocked prompt is a content_filter choice; safety reasons map to content_filter", () => {
  const blocked = fromGeminiResponse({
    promptFeedback: { blockReason: "SAFETY" },
    usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
  });
  const choice = at(blocked.choices, 0, "choices");
  assert.equal(choice.finish_reason, "content_filter");
  assert.equal(choice.message.content, null);
  for (const r of ["SAFETY", "RECITATION", "PROHIBITED_CONTENT", "SPII", "BLOCKLIST"]) {
    assert.equal(
      fromGeminiResponse({ candidates: [{ content: { parts: [] }, finishReason: r }] }).choices[0]?.finish_reason,
      "content_filter",
    );
  }
});

test("canonical → gemini response for a Gemini client", () => {
  const c: ChatCompletion = {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: "Hi",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
        },
        finish_reason: "tool_calls",
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, completion_tokens_details: { reasoning_tokens: 1 } },
  };
  assert.deepEqual(toGeminiResponse(c, "gemini-alias"), {
    candidates: [
      {
        content: { role: "model", parts: [{ text: "Hi" }, { functionCall: { id: "call_1", name: "f", args: { a: 1 } } }] },
        index: 0,
        finishReason: "STOP",
      },
    ],
    modelVersion: "gemini-alias",
    responseId: "chatcmpl-1",
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 3, totalTokenCount: 14, thoughtsTokenCount: 1 },
  });
});

test("gemini errors → canonical: statuses, per-day quota, invalid key; and back", () => {
  const quota = {
    error: {
      code: 429,
      message: "Quota exceeded",
      status: "RESOURCE_EXHAUSTED",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" }],
        },
      ],
    },
  };
  assert.deepEqual(fromGeminiError(429, quota), {
    status: 429,
    type: "rate_limit_error",
    message: "Quota exceeded",
    code: "daily_quota_exceeded",
  });
  const badKey = {
    error: {
      code: 400,
      message: "API key not valid. Please pass a valid API key.",
      status: "INVALID_ARGUMENT",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" }],
    },
  };
  assert.deepEqual(fromGeminiError(400, badKey), {
    status: 400,
    type: "authentication_error",
    message: "API key not valid. Please pass a valid API key.",
    code: "API_KEY_INVALID",
  });
  assert.equal(
    fromGeminiError(503, { error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }).type,
    "overloaded_error",
  );
  assert.equal(fromGeminiError(500, { error: { code: 500, message: "Internal", status: "INTERNAL" } }).type, "api_error");
  assert.deepEqual(toGeminiError({ status: 529, type: "overloaded_error", message: "busy" }), {
    status: 503,
    body: { error: { code: 503, message: "busy", status: "UNAVAILABLE" } },
  });
  assert.deepEqual(toGeminiError({ status: 400, type: "invalid_request_error", message: "bad" }), {
    status: 400,
    body: { error: { code: 400, message: "bad", status: "INVALID_ARGUMENT" } },
  });
  assert.equal(toGeminiError({ status: 429, type: "rate_limit_error", message: "x" }).body.error.status, "RESOURCE_EXHAUSTED");
});

test("gemini response: a candidate that is not an object is a malformed answer (the target's fault), not a crash", async () => {
  const { UpstreamFormatError } = await import("../../src/errors.js");
  assert.throws(
    () => fromGeminiResponse({ candidates: [null] }),
    (e: unknown) => e instanceof UpstreamFormatError && /candidates\[0\]/.test((e as Error).message),
  );
  const { GeminiToCanonicalStream } = await import("../../src/providers/gemini/to-canonical-stream.js");
  const s = new GeminiToCanonicalStream({ includeUsage: false });
  s.push({ data: JSON.stringify({ candidates: [7] }) });
  assert.equal(s.error?.code, "stream_malformed");
});

test("gemini response: a 2xx without candidates that is not a blocked prompt is not an answer (no empty 'stop' choice)", () => {
  assert.throws(() => fromGeminiResponse({}), /no candidates/);
  assert.throws(() => fromGeminiResponse({ error: { code: 500, message: "internal" } }), /carrying an error/);
  assert.throws(() => fromGeminiResponse({ usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 } }), /no candidates/);
});
