import assert from "node:assert/strict";
import { test } from "node:test";
import { fromAnthropicRequest } from "../../src/providers/anthropic/client-request.js";
import { toAnthropicRequest } from "../../src/providers/anthropic/request.js";
import { fromAnthropicResponse } from "../../src/providers/anthropic/response.js";
import type { ChatRequest } from "../../src/providers/canonical.js";
import { RequestValidationError, UnsupportedFieldError } from "../../src/errors.js";
import { at } from "../helpers/at.js";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk";
const drop = { model: "claude-sonnet-4-5", onUnsupported: "drop" as const };
const reject = { model: "claude-sonnet-4-5", onUnsupported: "reject" as const };

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Get the current weather in a given location",
    parameters: {
      type: "object",
      properties: { location: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
      required: ["location"],
    },
  },
};

test("toAnthropicRequest: system, merged turns, images, tools, tool results, params", () => {
  const req: ChatRequest = {
    model: "smart",
    messages: [
      { role: "system", content: "You are terse." },
      { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
      { role: "user", content: "Hi" },
      {
        role: "user",
        content: [
          { type: "text", text: "What's this?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
        ],
      },
      {
        role: "assistant",
        content: "Let me check.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris"}' } },
          { id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"location":"Lyon"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "18C" },
      { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "20C" }], is_error: true },
      { role: "user", content: "Thanks" },
    ],
    tools: [weatherTool],
    tool_choice: "required",
    parallel_tool_calls: false,
    stop: "END",
    temperature: 0.3,
    top_p: 0.9,
    max_completion_tokens: 300,
    user: "u-42",
    stream: true,
  };
  const { body, warnings } = toAnthropicRequest(req, drop);
  assert.deepEqual(warnings, []);
  assert.deepEqual(body, {
    model: "claude-sonnet-4-5",
    max_tokens: 300,
    stream: true,
    system: [
      { type: "text", text: "You are terse." },
      { type: "text", text: "Answer in French." },
    ],
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "Hi" },
          { type: "text", text: "What's this?" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Let me check." },
          { type: "tool_use", id: "call_1", name: "get_weather", input: { location: "Paris" } },
          { type: "tool_use", id: "call_2", name: "get_weather", input: { location: "Lyon" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "18C" },
          { type: "tool_result", tool_use_id: "call_2", content: [{ type: "text", text: "20C" }], is_error: true },
          { type: "text", text: "Thanks" },
        ],
      },
    ],
    temperature: 0.3,
    top_p: 0.9,
    stop_sequences: ["END"],
    tools: [
      { name: "get_weather", description: "Get the current weather in a given location", input_schema: weatherTool.function.parameters },
    ],
    tool_choice: { type: "any", disable_parallel_tool_use: true },
    metadata: { user_id: "u-42" },
  });
});

test("toAnthropicRequest: max_tokens defaults, single system is a string, named tool_choice", () => {
  const { body } = toAnthropicRequest(
    {
      model: "m",
      messages: [
        { role: "system", content: "S" },
        { role: "user", content: "Q" },
      ],
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    },
    drop,
  );
  assert.equal(body.max_tokens, 4096);
  assert.equal(body.system, "S");
  assert.deepEqual(body.tool_choice, { type: "tool", name: "get_weather" });
  assert.equal(
    toAnthropicRequest({ model: "m", messages: [{ role: "user", content: "Q" }] }, { ...drop, defaultMaxTokens: 1000 }).body.max_tokens,
    1000,
  );
});

test("toAnthropicRequest: JSON mode, n, seed, logprobs are dropped with warnings, or rejected", () => {
  const req: ChatRequest = {
    model: "m",
    messages: [{ role: "user", content: "Q" }],
    response_format: { type: "json_object" },
    n: 2,
    seed: 7,
    logprobs: true,
    temperature: 1.7,
  };
  const { body, warnings } = toAnthropicRequest(req, drop);
  assert.equal(body.temperature, 1);
  assert.ok(
    warnings.some((w) => w.startsWith("response_format:")),
    warnings.join("|"),
  );
  assert.ok(warnings.some((w) => w.startsWith("n:")));
  assert.ok(warnings.some((w) => w.startsWith("seed:")));
  assert.ok(warnings.some((w) => w.startsWith("logprobs:")));
  assert.ok(warnings.some((w) => w.startsWith("temperature:") && w.includes("sent as 1")));
  assert.equal("response_format" in body, false);
  assert.throws(
    () => toAnthropicRequest(req, reject),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "temperature" && e.dialect === "anthropic",
  );
  assert.throws(
    () =>
      toAnthropicRequest(
        {
          model: "m",
          messages: [{ role: "user", content: "Q" }],
          response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } },
        },
        reject,
      ),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "response_format",
  );
});

test("toAnthropicRequest: unsupported images and audio name their field", () => {
  const req: ChatRequest = {
    model: "m",
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image_url", image_url: { url: "data:image/bmp;base64,AAAA" } },
          { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
        ],
      },
    ],
  };
  const { body, warnings } = toAnthropicRequest(req, drop);
  assert.deepEqual(body.messages, [{ role: "user", content: [{ type: "text", text: "look" }] }]);
  assert.equal(warnings.length, 2);
  assert.ok(warnings[0]?.startsWith("messages[0].content[1]:"));
  assert.ok(warnings[1]?.startsWith("messages[0].content[2]:"));
  assert.throws(
    () => toAnthropicRequest(req, reject),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "messages[0].content[1]",
  );
});

test("toAnthropicRequest: vendor fields from another dialect are unsupported, from Anthropic re-sent", () => {
  const gem: ChatRequest = {
    model: "m",
    messages: [{ role: "user", content: "Q" }],
    vendor: { dialect: "gemini", fields: { safetySettings: [] } },
  };
  assert.deepEqual(toAnthropicRequest(gem, drop).warnings, ["safetySettings: gemini-only field, dropped"]);
  const ant: ChatRequest = {
    model: "m",
    messages: [{ role: "user", content: "Q" }],
    vendor: {
      dialect: "anthropic",
      fields: { thinking: { type: "enabled", budget_tokens: 2048 } },
      tools: [{ type: "web_search_20250305", name: "web_search" }],
    },
  };
  const { body } = toAnthropicRequest(ant, reject);
  assert.deepEqual(body.thinking, { type: "enabled", budget_tokens: 2048 });
  assert.deepEqual(body.tools, [{ type: "web_search_20250305", name: "web_search" }]);
});

test("toAnthropicRequest: a request with only a system prompt cannot be carried", () => {
  assert.throws(() => toAnthropicRequest({ model: "m", messages: [{ role: "system", content: "S" }] }, drop), UnsupportedFieldError);
});

test("toAnthropicRequest: prefill trailing whitespace is trimmed with a note", () => {
  const { body, warnings } = toAnthropicRequest(
    {
      model: "m",
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", content: "The answer is " },
      ],
    },
    reject,
  );
  assert.deepEqual(body.messages[1], { role: "assistant", content: [{ type: "text", text: "The answer is" }] });
  assert.equal(warnings.length, 1);
});

test("tool-call round trip: canonical → anthropic → simulated anthropic answer → canonical", () => {
  const req: ChatRequest = { model: "smart", messages: [{ role: "user", content: "Weather in Paris?" }], tools: [weatherTool] };
  const { body } = toAnthropicRequest(req, reject);
  assert.equal(body.tools?.length, 1);
  // What Anthropic answers (docs.claude.com tool use example).
  const answer = {
    id: "msg_01Aq9w938a90dw8q",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [
      { type: "text", text: "I'll check the weather." },
      { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: { location: "Paris", unit: "celsius" } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 472, output_tokens: 89, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 },
  };
  const c = fromAnthropicResponse(answer);
  const choice = at(c.choices, 0, "choices");
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, "I'll check the weather.");
  const call = at(choice.message.tool_calls ?? [], 0, "tool_calls");
  assert.deepEqual(call, {
    id: "toolu_01A09q90qw90lq917835lq9",
    type: "function",
    function: { name: "get_weather", arguments: '{"location":"Paris","unit":"celsius"}' },
  });
  assert.deepEqual(c.usage, {
    prompt_tokens: 572,
    completion_tokens: 89,
    total_tokens: 661,
    prompt_tokens_details: { cached_tokens: 100 },
  });

  // The client runs the tool and continues; the next Anthropic request pairs the result.
  const next: ChatRequest = {
    ...req,
    messages: [
      ...req.messages,
      { role: "assistant", content: choice.message.content, tool_calls: [call] },
      { role: "tool", tool_call_id: call.id, content: "18C" },
    ],
  };
  const { body: body2 } = toAnthropicRequest(next, reject);
  assert.deepEqual(body2.messages[1]?.content, [
    { type: "text", text: "I'll check the weather." },
    { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: { location: "Paris", unit: "celsius" } },
  ]);
  assert.deepEqual(body2.messages[2], {
    role: "user",
    content: [{ type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: "18C" }],
  });
});

test("fromAnthropicRequest: a client body becomes canonical, tool results become tool messages", () => {
  const body = {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "Look" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "hmm", signature: "sig" },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { location: "Paris" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "18C", is_error: false },
          { type: "text", text: "and?" },
        ],
      },
    ],
    tools: [
      { name: "get_weather", description: "weather", input_schema: { type: "object", properties: { location: { type: "string" } } } },
      { type: "web_search_20250305", name: "web_search", max_uses: 3 },
    ],
    tool_choice: { type: "auto", disable_parallel_tool_use: true },
    stop_sequences: ["STOP"],
    temperature: 0.5,
    top_k: 40,
    metadata: { user_id: "abc" },
    stream: true,
    thinking: { type: "enabled", budget_tokens: 1024 },
  };
  const req = fromAnthropicRequest(body);
  assert.deepEqual(req, {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: [
      { role: "system", content: [{ type: "text", text: "Be brief." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "Look" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris"}' } }],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "18C" },
      { role: "user", content: [{ type: "text", text: "and?" }] },
    ],
    stop: ["STOP"],
    temperature: 0.5,
    top_k: 40,
    user: "abc",
    stream: true,
    stream_options: { include_usage: true },
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "weather",
          parameters: { type: "object", properties: { location: { type: "string" } } },
        },
      },
    ],
    tool_choice: "auto",
    parallel_tool_calls: false,
    vendor: {
      dialect: "anthropic",
      fields: { thinking: { type: "enabled", budget_tokens: 1024 } },
      tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }],
    },
  });
});

test("fromAnthropicRequest: validation errors name the field", () => {
  const base = { model: "m", max_tokens: 10 };
  const cases: [unknown, string][] = [
    [{ ...base, messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
    [{ ...base, messages: [{ role: "user", content: [{ type: "text", text: 5 }] }] }, "messages[0].content[0].text"],
    [{ ...base, messages: [{ role: "robot", content: "x" }] }, "messages[0].role"],
    [{ model: "m", messages: [{ role: "user", content: "x" }] }, "max_tokens"],
    [{ ...base, messages: [{ role: "user", content: [{ type: "video" }] }] }, "messages[0].content[0].type"],
    [
      { ...base, messages: [{ role: "user", content: [{ type: "image", source: { type: "file", file_id: "f" } }] }] },
      "messages[0].content[0].source",
    ],
    [{ ...base, messages: [{ role: "assistant", content: [{ type: "tool_result", tool_use_id: "x" }] }] }, "messages[0].content[0].type"],
    ["not an object", ""],
  ];
  for (const [body, field] of cases) {
    assert.throws(
      () => fromAnthropicRequest(body),
      (e: unknown) => e instanceof RequestValidationError && e.field === field,
      `expected an error on "${field}" for ${JSON.stringify(body)}`,
    );
  }
});
