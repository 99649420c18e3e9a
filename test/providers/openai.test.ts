import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatRequest } from "../../src/providers/canonical.js";
import { fromOpenAIError, toOpenAIError } from "../../src/providers/openai/errors.js";
import { CanonicalToOpenAIStream } from "../../src/providers/openai/from-canonical-stream.js";
import { fromOpenAIRequest, toOpenAIRequest } from "../../src/providers/openai/request.js";
import { fromOpenAIResponse } from "../../src/providers/openai/response.js";
import { OpenAIToCanonicalStream } from "../../src/providers/openai/to-canonical-stream.js";
import { assemble, openaiChunks, runClient, runUpstream, wire } from "./stream-helpers.js";
import { RequestValidationError, UnsupportedFieldError } from "../../src/errors.js";

test("fromOpenAIRequest keeps known fields and sets unknown top-level fields aside", () => {
  const body = {
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "S" },
      {
        role: "user",
        content: [
          { type: "text", text: "hi" },
          { type: "image_url", image_url: { url: "https://x/y.png", detail: "low" } },
        ],
      },
    ],
    temperature: 0.2,
    stream: true,
    stream_options: { include_usage: true },
    prediction: { type: "content", content: "x" },
  };
  const req = fromOpenAIRequest(body);
  assert.equal(req.model, "gpt-4o-mini");
  assert.equal(req.messages.length, 2);
  assert.deepEqual(req.vendor, { dialect: "openai", fields: { prediction: { type: "content", content: "x" } } });
});

test("fromOpenAIRequest names the bad field", () => {
  const cases: [unknown, string, string][] = [
    [
      {
        model: "m",
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: "b" },
          { role: "user", content: 5 },
        ],
      },
      "messages[2].content",
      "must be a string or an array of content parts",
    ],
    [
      { model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: {} }] }] },
      "messages[0].content[0].image_url.url",
      "is required",
    ],
    [
      { model: "m", messages: [{ role: "function", content: "x" }] },
      "messages[0].role",
      "must be a message with role system, developer, user, assistant or tool",
    ],
    [{ model: "m", messages: [] }, "messages", "must hold at least one message"],
    [{ messages: [{ role: "user", content: "x" }] }, "model", "is required"],
    [{ model: "m", messages: [{ role: "user", content: "x" }], temperature: "hot" }, "temperature", "must be a number"],
    [{ model: "m", messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id", "is required"],
  ];
  for (const [body, field, reason] of cases) {
    assert.throws(
      () => fromOpenAIRequest(body),
      (e: unknown) => e instanceof RequestValidationError && e.field === field && e.reason === reason,
      `${field}: ${reason}`,
    );
  }
});

test("toOpenAIRequest renames the model, strips extensions, asks for stream usage", () => {
  const req: ChatRequest = {
    model: "alias",
    messages: [
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "c1", type: "function", function: { name: "f", arguments: "{}" }, extra_content: { google: { thought_signature: "sig" } } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "boom", is_error: true },
    ],
    stream: true,
  };
  const { body, warnings } = toOpenAIRequest(req, { model: "gpt-4o", onUnsupported: "reject" });
  assert.equal(body.model, "gpt-4o");
  assert.deepEqual(body.messages, [
    { role: "user", content: "q" },
    { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
    { role: "tool", tool_call_id: "c1", content: "boom" },
  ]);
  assert.deepEqual(body.stream_options, { include_usage: true });
  assert.equal(warnings.length, 1);
  const toolMessage = req.messages[2];
  assert.equal(toolMessage?.role === "tool" && toolMessage.is_error, true, "the canonical request is not mutated");
  assert.equal(toOpenAIRequest(req, { model: "gpt-4o", onUnsupported: "drop", streamUsage: false }).body.stream_options, undefined);
});

test("toOpenAIRequest: top_k and other dialects' vendor fields are unsupported", () => {
  const req: ChatRequest = {
    model: "m",
    messages: [{ role: "user", content: "q" }],
    top_k: 5,
    vendor: { dialect: "anthropic", fields: { thinking: {} } },
  };
  const { body, warnings } = toOpenAIRequest(req, { model: "m", onUnsupported: "drop" });
  assert.equal("top_k" in body, false);
  assert.equal("thinking" in body, false);
  assert.deepEqual(warnings, ["top_k: not an OpenAI parameter, dropped", "thinking: anthropic-only field, dropped"]);
  assert.throws(() => toOpenAIRequest(req, { model: "m", onUnsupported: "reject" }), UnsupportedFieldError);
  const own: ChatRequest = {
    model: "m",
    messages: [{ role: "user", content: "q" }],
    vendor: { dialect: "openai", fields: { prediction: 1 } },
  };
  assert.equal(toOpenAIRequest(own, { model: "m", onUnsupported: "reject" }).body.prediction, 1);
});

test("openai errors → canonical and back", () => {
  assert.deepEqual(
    fromOpenAIError(429, {
      error: { message: "You exceeded your current quota", type: "insufficient_quota", param: null, code: "insufficient_quota" },
    }),
    {
      status: 429,
      type: "rate_limit_error",
      message: "You exceeded your current quota",
      code: "insufficient_quota",
    },
  );
  assert.equal(
    fromOpenAIError(503, { error: { message: "overloaded", type: "server_error", code: "server_is_overloaded" } }).type,
    "overloaded_error",
  );
  assert.deepEqual(fromOpenAIError(400, { error: { message: "bad", type: "invalid_request_error", param: "messages", code: null } }), {
    status: 400,
    type: "invalid_request_error",
    message: "bad",
    param: "messages",
  });
  assert.deepEqual(
    toOpenAIError({ status: 400, type: "invalid_request_error", message: "messages[0].content: bad", param: "messages[0].content" }),
    {
      status: 400,
      body: { error: { message: "messages[0].content: bad", type: "invalid_request_error", param: "messages[0].content", code: null } },
    },
  );
  assert.deepEqual(toOpenAIError({ status: 529, type: "overloaded_error", message: "Overloaded" }), {
    status: 503,
    body: { error: { message: "Overloaded", type: "server_error", param: null, code: "server_is_overloaded" } },
  });
});

test("openai upstream stream: chunks pass through, [DONE] ends, mid-stream error is reported", () => {
  const chunks = openaiChunks({
    texts: ["a", "b"],
    tools: [{ id: "c", name: "f", fragments: ['{"x"', ":1}"] }],
    finish: "tool_calls",
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
  });
  const bytes = wire([...chunks.map((c) => ({ data: JSON.stringify(c) })), { data: "[DONE]" }]);
  const t = new OpenAIToCanonicalStream();
  const out = runUpstream(t, bytes, 11);
  assert.equal(t.done, true);
  assert.equal(t.error, null);
  assert.deepEqual(out, chunks);
  assert.deepEqual(t.usage, { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });

  const e = new OpenAIToCanonicalStream();
  runUpstream(
    e,
    wire([
      { data: JSON.stringify(chunks[0]) },
      { data: '{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}' },
    ]),
    4,
  );
  assert.deepEqual(e.error, { status: 500, type: "api_error", message: "The server had an error" });

  const cut = new OpenAIToCanonicalStream();
  runUpstream(cut, wire([{ data: JSON.stringify(chunks[1]) }]), 100);
  assert.equal(cut.error?.code, "stream_truncated");
});

test("openai client stream: usage chunk withheld unless asked, model renamed, [DONE] at end", () => {
  const chunks = openaiChunks({ texts: ["x"], finish: "stop", usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
  const without = runClient(new CanonicalToOpenAIStream({ includeUsage: false, model: "alias" }), chunks);
  assert.equal(without.length, chunks.length);
  assert.equal(without.at(-1)!.data, "[DONE]");
  assert.ok(without.slice(0, -1).every((e) => JSON.parse(e.data).model === "alias" && JSON.parse(e.data).usage == null));
  const withUsage = runClient(new CanonicalToOpenAIStream({ includeUsage: true }), chunks);
  assert.equal(withUsage.length, chunks.length + 1);
  assert.equal(assemble(withUsage.slice(0, -1).map((e) => JSON.parse(e.data))).usage?.total_tokens, 2);
  const [err] = new CanonicalToOpenAIStream({ includeUsage: false }).error({ status: 500, type: "api_error", message: "boom" });
  assert.ok(err !== undefined, "an error event");
  assert.deepEqual(JSON.parse(err.data), { error: { message: "boom", type: "server_error", param: null, code: null } });
});

test("fromOpenAIResponse checks the shape", () => {
  assert.throws(() => fromOpenAIResponse({ object: "list" }));
  assert.equal(fromOpenAIResponse({ id: "x", choices: [] }).id, "x");
});

test("toOpenAIRequest: more than 4 stop sequences (an Anthropic client may send them) are cut or rejected", () => {
  const req: ChatRequest = { model: "m", messages: [{ role: "user", content: "q" }], stop: ["a", "b", "c", "d", "e"] };
  const { body, warnings } = toOpenAIRequest(req, { model: "m", onUnsupported: "drop" });
  assert.deepEqual(body.stop, ["a", "b", "c", "d"]);
  assert.deepEqual(warnings, ["stop: OpenAI takes at most 4 stop sequences, the first 4 sent"]);
  assert.throws(() => toOpenAIRequest(req, { model: "m", onUnsupported: "reject" }), UnsupportedFieldError);
});
