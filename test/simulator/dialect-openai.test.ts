import { test } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { call, readStream } from "../helpers/http.js";
import { parseSse } from "../helpers/sse.js";

const auth = { authorization: "Bearer sk-test-1" };
const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather in a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer" }, unit: { type: "string", enum: ["c", "f"] } },
      required: ["city"],
    },
  },
};

test("openai chat completion: JSON shape, model echo, usage, rate-limit headers", async () => {
  const sim = await startSimProvider({ dialect: "openai", name: "oai" });
  try {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const r = await call(`${sim.url}/chat/completions`, {
      headers: { ...auth, "x-request-id": "trace-1" },
      body: {
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "What is the capital of France?" },
        ],
      },
    });
    assert.equal(r.status, 200);
    const b = r.json;
    assert.equal(b.object, "chat.completion");
    assert.match(b.id, /^chatcmpl-/);
    assert.equal(typeof b.created, "number");
    assert.equal(b.model, "gpt-4o-mini");
    assert.equal(b.choices[0].message.role, "assistant");
    assert.match(b.choices[0].message.content, /^Echo: What is the capital of France\?/);
    assert.equal(b.choices[0].message.content.split(" ").length, 16);
    assert.equal(b.choices[0].finish_reason, "stop");
    assert.equal(b.usage.completion_tokens, 16);
    assert.ok(b.usage.prompt_tokens > 0);
    assert.equal(b.usage.total_tokens, b.usage.prompt_tokens + b.usage.completion_tokens);
    assert.equal(b.usage.prompt_tokens_details.cached_tokens, 0);
    assert.equal(r.headers["x-request-id"], "trace-1");
    assert.equal(r.headers["x-ratelimit-limit-requests"], "10000");
    assert.equal(r.headers["x-ratelimit-remaining-requests"], "9999");
    assert.match(r.headers["x-ratelimit-reset-requests"] ?? "", /^\d+(ms|s)$/);
    assert.ok(Number(r.headers["x-ratelimit-remaining-tokens"]) < Number(r.headers["x-ratelimit-limit-tokens"]));
    assert.match(r.headers["x-ratelimit-reset-tokens"] ?? "", /^[\d.]+(ms|s)$/);
    assert.equal(r.headers["x-sim-name"], "oai");
  } finally {
    await sim.close();
  }
});

test("openai completion_tokens sets the word count; 'say exactly' in the system prompt fixes the text", async () => {
  const sim = await startSimProvider({ dialect: "openai", completion_tokens: 5 });
  try {
    const r = await call(`${sim.url}/chat/completions`, {
      headers: auth,
      body: { model: "m", messages: [{ role: "user", content: "hi" }] },
    });
    assert.equal(r.json.choices[0].message.content, "Echo: hi the quick brown");
    assert.equal(r.json.usage.completion_tokens, 5);
    const exact = await call(`${sim.url}/chat/completions`, {
      headers: auth,
      body: {
        model: "m",
        messages: [
          { role: "system", content: "Translate. Say exactly: Bonjour le monde" },
          { role: "user", content: [{ type: "text", text: "Hello world" }] },
        ],
      },
    });
    assert.equal(exact.json.choices[0].message.content, "Bonjour le monde");
  } finally {
    await sim.close();
  }
});

test("openai stream: role first, content deltas, finish_reason, usage chunk with empty choices, [DONE]", async () => {
  const sim = await startSimProvider({ dialect: "openai", stream_chunks: 5 });
  try {
    const body = {
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Stream me" }],
    };
    const s = await readStream(`${sim.url}/chat/completions`, { headers: auth, body });
    assert.equal(s.status, 200);
    assert.equal(s.error, undefined);
    const events = parseSse(s.text);
    assert.equal(events.at(-1)!.data, "[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    assert.equal(chunks.length, 1 + 5 + 1 + 1);
    for (const c of chunks) {
      assert.equal(c.object, "chat.completion.chunk");
      assert.equal(c.model, "gpt-4o");
      assert.equal(c.id, chunks[0].id);
    }
    assert.equal(chunks[0].choices[0].delta.role, "assistant");
    const content = chunks
      .slice(1, 6)
      .map((c) => c.choices[0].delta.content)
      .join("");
    assert.match(content, /^Echo: Stream me/);
    assert.equal(chunks[6].choices[0].finish_reason, "stop");
    assert.deepEqual(chunks[7].choices, []);
    assert.equal(chunks[7].usage.completion_tokens, 16);
    // Without include_usage: no usage chunk.
    const plain = parseSse(
      (await readStream(`${sim.url}/chat/completions`, { headers: auth, body: { ...body, stream_options: undefined } })).text,
    );
    assert.equal(plain.length, 1 + 5 + 1 + 1);
    assert.ok(plain.slice(0, -1).every((e) => JSON.parse(e.data).choices.length === 1));
    // The streamed text equals the non-streamed text.
    const whole = await call(`${sim.url}/chat/completions`, { headers: auth, body: { ...body, stream: false } });
    assert.equal(whole.json.choices[0].message.content, content);
  } finally {
    await sim.close();
  }
});

test("openai tool call: first tool with args from its schema; a tool result answers text quoting it", async () => {
  const sim = await startSimProvider({ dialect: "openai" });
  try {
    const r = await call(`${sim.url}/chat/completions`, {
      headers: auth,
      body: { model: "m", tools: [weather], messages: [{ role: "user", content: "Weather in Paris?" }] },
    });
    const choice = r.json.choices[0];
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null);
    const tc = choice.message.tool_calls[0];
    assert.equal(tc.type, "function");
    assert.match(tc.id, /^call_/);
    assert.equal(tc.function.name, "get_weather");
    assert.equal(typeof tc.function.arguments, "string");
    assert.deepEqual(JSON.parse(tc.function.arguments), { city: "sample", days: 1, unit: "c" });

    const follow = await call(`${sim.url}/chat/completions`, {
      headers: auth,
      body: {
        model: "m",
        tools: [weather],
        messages: [
          { role: "user", content: "Weather in Paris?" },
          { role: "assistant", content: null, tool_calls: [tc] },
          { role: "tool", tool_call_id: tc.id, content: "18C and sunny" },
        ],
      },
    });
    assert.equal(follow.json.choices[0].finish_reason, "stop");
    assert.match(follow.json.choices[0].message.content, /18C and sunny/);

    const s = await readStream(`${sim.url}/chat/completions`, {
      headers: auth,
      body: { model: "m", stream: true, tools: [weather], messages: [{ role: "user", content: "Weather?" }] },
    });
    const chunks = parseSse(s.text)
      .slice(0, -1)
      .map((e) => JSON.parse(e.data));
    const first = chunks[0].choices[0].delta.tool_calls[0];
    assert.equal(first.function.name, "get_weather");
    assert.match(first.id, /^call_/);
    const args = chunks.map((c) => c.choices[0].delta.tool_calls?.[0]?.function?.arguments ?? "").join("");
    assert.deepEqual(JSON.parse(args), { city: "sample", days: 1, unit: "c" });
    assert.equal(chunks.at(-1).choices[0].finish_reason, "tool_calls");
  } finally {
    await sim.close();
  }
});

test("openai embeddings (float and base64) are deterministic; models list; unknown path 404 in shape", async () => {
  const sim = await startSimProvider({ dialect: "openai", name: "emb" });
  try {
    const a = await call(`${sim.url}/embeddings`, { headers: auth, body: { model: "text-embedding-3-small", input: ["alpha", "beta"] } });
    assert.equal(a.status, 200);
    assert.equal(a.json.object, "list");
    assert.equal(a.json.data.length, 2);
    assert.equal(a.json.data[0].embedding.length, 8);
    assert.equal(a.json.data[1].index, 1);
    assert.notDeepEqual(a.json.data[0].embedding, a.json.data[1].embedding);
    const again = await call(`${sim.url}/embeddings`, { headers: auth, body: { model: "text-embedding-3-small", input: "alpha" } });
    assert.deepEqual(again.json.data[0].embedding, a.json.data[0].embedding);
    const b64 = await call(`${sim.url}/embeddings`, {
      headers: auth,
      body: { model: "x", input: "alpha", encoding_format: "base64", dimensions: 4 },
    });
    const buf = Buffer.from(b64.json.data[0].embedding, "base64");
    assert.equal(buf.length, 16);
    assert.ok(Math.abs(buf.readFloatLE(0)) <= 1);

    const models = await call(`${sim.url}/models`, { headers: auth });
    assert.equal(models.json.object, "list");
    assert.ok(models.json.data.some((m: { id: string; owned_by: string }) => m.id === "gpt-4o-mini" && m.owned_by === "emb"));

    const missing = await call(`${sim.url}/nope`, { headers: auth, body: {} });
    assert.equal(missing.status, 404);
    assert.equal(typeof missing.json.error.message, "string");
    assert.equal(missing.json.error.type, "invalid_request_error");
    const bad = await call(`${sim.url}/chat/completions`, { headers: auth, body: "{not json" });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.type, "invalid_request_error");
  } finally {
    await sim.close();
  }
});
