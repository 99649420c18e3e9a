import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatRequest } from "../../src/providers/canonical.js";
import { fromGeminiRequest } from "../../src/providers/gemini/client-request.js";
import { geminiPath, toGeminiRequest } from "../../src/providers/gemini/request.js";
import { RequestValidationError, UnsupportedFieldError } from "../../src/errors.js";

const drop = { model: "gemini-2.5-flash", onUnsupported: "drop" as const };
const reject = { model: "gemini-2.5-flash", onUnsupported: "reject" as const };

test("toGeminiRequest: systemInstruction, roles, inline images, function calls and responses by name", () => {
  const req: ChatRequest = {
    model: "smart",
    messages: [
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
          { type: "image_url", image_url: { url: "gs://bucket/cat.png" } },
        ],
      },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "lookup", arguments: '{"q":"cat"}' },
            extra_content: { google: { thought_signature: "c2ln" } },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"answer":"a cat"}' },
      { role: "tool", tool_call_id: "call_1", content: "second", is_error: true },
    ],
    tools: [
      {
        type: "function",
        function: {
          name: "lookup",
          description: "Look up",
          parameters: {
            $schema: "http://json-schema.org/draft-07/schema#",
            type: "object",
            properties: { q: { type: "string", format: "email" }, n: { type: ["integer", "null"] } },
            required: ["q"],
            additionalProperties: false,
          },
        },
      },
      { type: "function", function: { name: "now", parameters: { type: "object", properties: {} } } },
    ],
    tool_choice: { type: "function", function: { name: "lookup" } },
    stop: ["END"],
    temperature: 1.5,
    top_p: 0.8,
    top_k: 20,
    max_tokens: 256,
    n: 2,
    seed: 3,
    response_format: { type: "json_schema", json_schema: { name: "out", schema: { type: "object", properties: { a: { const: "x" } } } } },
  };
  const { body, warnings } = toGeminiRequest(req, reject);
  assert.deepEqual(body, {
    contents: [
      {
        role: "user",
        parts: [
          { text: "What is this?" },
          { inlineData: { mimeType: "image/jpeg", data: "/9j/4AAQ" } },
          { fileData: { fileUri: "gs://bucket/cat.png" } },
        ],
      },
      {
        role: "model",
        parts: [{ text: "Checking." }, { functionCall: { name: "lookup", args: { q: "cat" }, id: "call_1" }, thoughtSignature: "c2ln" }],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "lookup", response: { output: '{"answer":"a cat"}' }, id: "call_1" } },
          { functionResponse: { name: "lookup", response: { error: "second" }, id: "call_1" } },
        ],
      },
    ],
    systemInstruction: { parts: [{ text: "Be brief." }] },
    tools: [
      {
        functionDeclarations: [
          {
            name: "lookup",
            description: "Look up",
            parameters: { type: "object", properties: { q: { type: "string" }, n: { type: "integer", nullable: true } }, required: ["q"] },
          },
          { name: "now" },
        ],
      },
    ],
    toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["lookup"] } },
    generationConfig: {
      stopSequences: ["END"],
      temperature: 1.5,
      topP: 0.8,
      topK: 20,
      maxOutputTokens: 256,
      candidateCount: 2,
      seed: 3,
      responseMimeType: "application/json",
      responseSchema: { type: "object", properties: { a: { enum: ["x"], type: "string" } } },
    },
  });
  assert.deepEqual(warnings, ["tools[0].function.parameters: removed format email, additionalProperties (outside Gemini's schema subset)"]);
});

test("toGeminiRequest: jsonSchema option sends full JSON Schema untouched", () => {
  const params = { type: "object", properties: { q: { type: "string" } }, additionalProperties: false };
  const { body, warnings } = toGeminiRequest(
    {
      model: "m",
      messages: [{ role: "user", content: "q" }],
      tools: [{ type: "function", function: { name: "f", parameters: params } }],
      response_format: { type: "json_schema", json_schema: { name: "o", schema: params } },
    },
    { ...reject, jsonSchema: true },
  );
  assert.deepEqual(body.tools, [{ functionDeclarations: [{ name: "f", parametersJsonSchema: params }] }]);
  assert.deepEqual(body.generationConfig, { responseMimeType: "application/json", responseJsonSchema: params });
  assert.deepEqual(warnings, []);
});

test("toGeminiRequest: $ref inlined, recursion unsupported, oneOf/allOf rewritten", () => {
  const params = {
    type: "object",
    $defs: {
      Pt: { type: "object", properties: { x: { type: "number" } } },
      Node: { type: "object", properties: { next: { $ref: "#/$defs/Node" } } },
    },
    properties: {
      p: { $ref: "#/$defs/Pt" },
      u: { oneOf: [{ type: "string" }, { type: "number" }] },
      m: { allOf: [{ type: "object", properties: { a: { type: "string" } } }, { properties: { b: { type: "string" } } }] },
    },
  };
  const { body } = toGeminiRequest(
    { model: "m", messages: [{ role: "user", content: "q" }], tools: [{ type: "function", function: { name: "f", parameters: params } }] },
    reject,
  );
  assert.deepEqual(body.tools?.[0]?.functionDeclarations?.[0]?.parameters, {
    type: "object",
    properties: {
      p: { type: "object", properties: { x: { type: "number" } } },
      u: { anyOf: [{ type: "string" }, { type: "number" }] },
      m: { type: "object", properties: { a: { type: "string" }, b: { type: "string" } } },
    },
  });
  const rec = { type: "object", $defs: params.$defs, properties: { n: { $ref: "#/$defs/Node" } } };
  assert.throws(
    () =>
      toGeminiRequest(
        { model: "m", messages: [{ role: "user", content: "q" }], tools: [{ type: "function", function: { name: "f", parameters: rec } }] },
        reject,
      ),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "tools[0].function.parameters",
  );
});

test("toGeminiRequest: http image URLs, logprobs, parallel_tool_calls=false are unsupported", () => {
  const req: ChatRequest = {
    model: "m",
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "x" },
          { type: "image_url", image_url: { url: "https://example.com/a.png" } },
        ],
      },
    ],
    logprobs: true,
    tools: [{ type: "function", function: { name: "f" } }],
    parallel_tool_calls: false,
    user: "u1",
  };
  const { body, warnings } = toGeminiRequest(req, drop);
  assert.deepEqual(body.contents, [{ role: "user", parts: [{ text: "x" }] }]);
  assert.deepEqual(
    warnings.map((w) => w.split(":")[0]),
    ["messages[0].content[1]", "parallel_tool_calls", "logprobs", "user"],
  );
  assert.throws(
    () => toGeminiRequest(req, reject),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "messages[0].content[1]",
  );
});

test("toGeminiRequest: a tool result with an unknown call id cannot be named", () => {
  const req: ChatRequest = {
    model: "m",
    messages: [
      { role: "user", content: "q" },
      { role: "tool", tool_call_id: "nope", content: "x" },
    ],
  };
  assert.throws(
    () => toGeminiRequest(req, reject),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "messages[1].tool_call_id",
  );
  assert.equal(toGeminiRequest(req, drop).body.contents.length, 1);
});

test("toGeminiRequest: vendor Gemini fields come back, generationConfig extras merged", () => {
  const req: ChatRequest = {
    model: "m",
    messages: [{ role: "user", content: "q" }],
    temperature: 0.1,
    vendor: {
      dialect: "gemini",
      fields: {
        safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }],
        generationConfig: { thinkingConfig: { thinkingBudget: 0 } },
      },
      tools: [{ googleSearch: {} }],
    },
  };
  const { body } = toGeminiRequest(req, reject);
  assert.deepEqual(body.safetySettings, [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }]);
  assert.deepEqual(body.generationConfig, { temperature: 0.1, thinkingConfig: { thinkingBudget: 0 } });
  assert.deepEqual(body.tools, [{ googleSearch: {} }]);
});

test("geminiPath puts the model in the URL", () => {
  assert.equal(geminiPath("gemini-2.5-flash", false), "/models/gemini-2.5-flash:generateContent");
  assert.equal(geminiPath("models/gemini-2.5-pro", true), "/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
});

test("fromGeminiRequest: a client body becomes canonical; calls and responses are paired", () => {
  const body = {
    systemInstruction: { parts: [{ text: "Be brief." }] },
    contents: [
      { role: "user", parts: [{ text: "Weather in Paris and Rome?" }, { inlineData: { mimeType: "image/png", data: "AAAA" } }] },
      {
        role: "model",
        parts: [
          { text: "thinking…", thought: true },
          { functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "sig1" },
          { functionCall: { name: "get_weather", args: { city: "Rome" } } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "get_weather", response: { output: "18C" } } },
          { functionResponse: { name: "get_weather", response: { temp: 25 } } },
        ],
      },
    ],
    tools: [
      {
        functionDeclarations: [
          { name: "get_weather", description: "w", parameters: { type: "OBJECT", properties: { city: { type: "STRING" } } } },
        ],
      },
      { googleSearch: {} },
    ],
    toolConfig: { functionCallingConfig: { mode: "AUTO" } },
    generationConfig: {
      temperature: 0.4,
      maxOutputTokens: 100,
      stopSequences: ["x"],
      responseMimeType: "application/json",
      thinkingConfig: { thinkingBudget: 512 },
    },
    safetySettings: [],
  };
  const req = fromGeminiRequest(body, { model: "gemini-2.5-flash", stream: true });
  assert.deepEqual(req, {
    model: "gemini-2.5-flash",
    messages: [
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "Weather in Paris and Rome?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_1_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
            extra_content: { google: { thought_signature: "sig1" } },
          },
          { id: "call_1_2", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1_1", content: "18C" },
      { role: "tool", tool_call_id: "call_1_2", content: '{"temp":25}' },
    ],
    stream: true,
    stream_options: { include_usage: true },
    // Gemini's upper-case OpenAPI types become JSON Schema's lower-case ones.
    tools: [
      {
        type: "function",
        function: { name: "get_weather", description: "w", parameters: { type: "object", properties: { city: { type: "string" } } } },
      },
    ],
    tool_choice: "auto",
    stop: ["x"],
    temperature: 0.4,
    max_tokens: 100,
    response_format: { type: "json_object" },
    vendor: {
      dialect: "gemini",
      fields: { generationConfig: { thinkingConfig: { thinkingBudget: 512 } }, safetySettings: [] },
      tools: [{ googleSearch: {} }],
    },
  });
});

test("fromGeminiRequest: ANY with several allowed names offers only those tools", () => {
  const body = {
    contents: [{ parts: [{ text: "q" }] }],
    tools: [{ functionDeclarations: [{ name: "a" }, { name: "b" }, { name: "c" }] }],
    toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["a", "c"] } },
  };
  const req = fromGeminiRequest(body, { model: "g", stream: false });
  assert.deepEqual(
    req.tools?.map((t) => t.function.name),
    ["a", "c"],
  );
  assert.equal(req.tool_choice, "required");
  const one = fromGeminiRequest(
    { ...body, toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["b"] } } },
    { model: "g", stream: false },
  );
  assert.deepEqual(one.tool_choice, { type: "function", function: { name: "b" } });
});

test("fromGeminiRequest: validation errors name the field", () => {
  const cases: [unknown, string][] = [
    [{ contents: [{ role: "user", parts: [{ text: 5 }] }] }, "contents[0].parts[0].text"],
    [{ contents: [{ role: "user", parts: [{ executableCode: { code: "x" } }] }] }, "contents[0].parts[0]"],
    [{ contents: [{ role: "bot", parts: [] }] }, "contents[0].role"],
    [{ contents: [] }, "contents"],
    [{ contents: [{ parts: [{ text: "x" }] }], generationConfig: { temperature: "hot" } }, "generationConfig.temperature"],
  ];
  for (const [body, field] of cases) {
    assert.throws(
      () => fromGeminiRequest(body, { model: "g", stream: false }),
      (e: unknown) => e instanceof RequestValidationError && e.field === field,
      field,
    );
  }
});

test("toGeminiRequest: more than 5 stop sequences are cut or rejected; participant names noted", () => {
  const req: ChatRequest = { model: "m", messages: [{ role: "user", content: "q", name: "ann" }], stop: ["1", "2", "3", "4", "5", "6"] };
  const { body, warnings } = toGeminiRequest(req, drop);
  assert.deepEqual(body.generationConfig?.stopSequences, ["1", "2", "3", "4", "5"]);
  assert.deepEqual(warnings, [
    "messages[0].name: participant names are not carried",
    "stop: Gemini takes at most 5 stop sequences, the first 5 sent",
  ]);
  assert.throws(
    () => toGeminiRequest(req, reject),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "stop",
  );
});

test("schemaFromOpenApi: a Gemini client's OpenAPI schema becomes JSON Schema (types lower-cased, nullable, example)", async () => {
  const { schemaFromOpenApi } = await import("../../src/providers/gemini/schema-from-openapi.js");
  assert.deepEqual(
    schemaFromOpenApi({
      type: "OBJECT",
      propertyOrdering: ["a", "b"],
      properties: {
        a: { type: "STRING", nullable: true, example: "x" },
        b: { type: "ARRAY", items: { type: "INTEGER" } },
        c: { anyOf: [{ type: "NUMBER" }], nullable: true },
      },
      required: ["a"],
    }),
    {
      type: "object",
      properties: {
        a: { type: ["string", "null"], examples: ["x"] },
        b: { type: "array", items: { type: "integer" } },
        c: { anyOf: [{ type: "number" }, { type: "null" }] },
      },
      required: ["a"],
    },
  );
});
