import assert from "node:assert/strict";
import { test } from "node:test";
import { fromAnthropicError, toAnthropicError } from "../../src/providers/anthropic/errors.js";
import { fromAnthropicResponse, toAnthropicResponse } from "../../src/providers/anthropic/response.js";
import type { ChatCompletion } from "../../src/providers/canonical.js";
import { UpstreamFormatError } from "../../src/errors.js";
import { at } from "../helpers/at.js";

test("anthropic response → canonical: text blocks joined, thinking dropped, stop reasons mapped", () => {
  const base = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-haiku-4-5",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
  };
  const c = fromAnthropicResponse({
    ...base,
    content: [
      { type: "thinking", thinking: "…", signature: "s" },
      { type: "text", text: "Hello" },
      { type: "text", text: " world" },
    ],
    stop_reason: "end_turn",
  });
  const choice = at(c.choices, 0, "choices");
  assert.equal(choice.message.content, "Hello world");
  assert.equal(choice.finish_reason, "stop");
  assert.equal(choice.message.tool_calls, undefined);
  assert.deepEqual(c.usage, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
  const table: [string, string][] = [
    ["max_tokens", "length"],
    ["stop_sequence", "stop"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["pause_turn", "stop"],
  ];
  for (const [from, to] of table)
    assert.equal(fromAnthropicResponse({ ...base, content: [], stop_reason: from }).choices[0]?.finish_reason, to);
  assert.throws(() => fromAnthropicResponse({ error: "x" }), UpstreamFormatError);
});

test("canonical → anthropic response for an Anthropic client", () => {
  const c: ChatCompletion = {
    id: "chatcmpl-abc",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: "Sure.",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } },
            { id: "call_2", type: "function", function: { name: "g", arguments: "{broken" } },
          ],
        },
        finish_reason: "tool_calls",
      },
    ],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 60 } },
  };
  const r = toAnthropicResponse(c, "claude-alias");
  assert.ok(r.id.startsWith("msg_"));
  assert.deepEqual(
    { ...r, id: "" },
    {
      id: "",
      type: "message",
      role: "assistant",
      model: "claude-alias",
      content: [
        { type: "text", text: "Sure." },
        { type: "tool_use", id: "call_1", name: "f", input: { a: 1 } },
        { type: "tool_use", id: "call_2", name: "g", input: { _raw_arguments: "{broken" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 40, output_tokens: 20, cache_read_input_tokens: 60 },
    },
  );
});

test("anthropic errors → canonical and back", () => {
  assert.deepEqual(fromAnthropicError(529, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }), {
    status: 529,
    type: "overloaded_error",
    message: "Overloaded",
  });
  assert.deepEqual(
    fromAnthropicError(429, {
      type: "error",
      error: { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit" },
    }).type,
    "rate_limit_error",
  );
  assert.deepEqual(fromAnthropicError(502, "<html>Bad Gateway</html>"), {
    status: 502,
    type: "api_error",
    message: "<html>Bad Gateway</html>",
  });
  assert.deepEqual(fromAnthropicError(401, { type: "error", error: { type: "something_new", message: "x" } }).type, "authentication_error");
  assert.deepEqual(toAnthropicError({ status: 503, type: "overloaded_error", message: "busy" }), {
    status: 529,
    body: { type: "error", error: { type: "overloaded_error", message: "busy" } },
  });
  assert.deepEqual(
    toAnthropicError({ status: 400, type: "invalid_request_error", message: "messages[0].content: bad", param: "messages[0].content" }),
    {
      status: 400,
      body: { type: "error", error: { type: "invalid_request_error", message: "messages[0].content: bad" } },
    },
  );
});
