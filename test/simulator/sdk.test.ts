/**
 * The official SDKs against the sims directly: if an SDK parses a sim's answers (JSON, streams,
 * tool calls, errors), the sim is faithful enough for gateway tests that put a gateway between.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, Type } from "@google/genai";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { at } from "../helpers/at.js";

test("openai SDK: chat (plain, streamed, tool call), embeddings, models, typed errors", async () => {
  const sim = await startSimProvider({ dialect: "openai", stream_chunks: 4 });
  const client = new OpenAI({ apiKey: "sk-sdk-1", baseURL: sim.url, maxRetries: 0 });
  try {
    const c = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello SDK" }] });
    assert.match(c.choices[0]?.message.content ?? "", /^Echo: Hello SDK/);
    assert.equal(c.usage?.completion_tokens, 16);

    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hello stream" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    assert.match(text, /^Echo: Hello stream/);
    assert.equal(usage?.completion_tokens, 16);

    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: "function",
        function: { name: "add", parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } } },
      },
    ];
    const tc = await client.chat.completions.create({ model: "m", tools, messages: [{ role: "user", content: "1+2?" }] });
    const call = tc.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.type, "function");
    assert.deepEqual(call?.type === "function" ? JSON.parse(call.function.arguments) : undefined, { a: 1, b: 1 });
    const runner = client.chat.completions.stream({ model: "m", tools, messages: [{ role: "user", content: "1+2?" }] });
    const final = await runner.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    assert.equal(streamed?.type === "function" ? streamed.function.name : undefined, "add");

    const e = await client.embeddings.create({ model: "text-embedding-3-small", input: "vector me" }); // the SDK asks for base64
    assert.equal(e.data[0]?.embedding.length, 8);
    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === "gpt-4o-mini"));

    await sim.set({ rate_limit_rate: 1, retry_after_s: 1 });
    await assert.rejects(
      client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof OpenAI.RateLimitError && err.status === 429,
    );
    await sim.set({ rate_limit_rate: 0, revoked_keys: ["sk-sdk-1"] });
    await assert.rejects(
      client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof OpenAI.AuthenticationError,
    );
  } finally {
    await sim.close();
  }
});

test("anthropic SDK: message (plain, streamed with the stream helper, tool use), typed errors", async () => {
  const sim = await startSimProvider({ dialect: "anthropic", stream_chunks: 4 });
  const client = new Anthropic({ apiKey: "sk-ant-sdk", baseURL: sim.url, maxRetries: 0 });
  try {
    const m = await client.messages.create({
      model: "claude-sonnet-4",
      max_tokens: 64,
      system: "Be brief.",
      messages: [{ role: "user", content: "Hello SDK" }],
    });
    const first = at(m.content, 0, "content");
    assert.equal(first.type, "text");
    assert.match(first.type === "text" ? first.text : "", /^Echo: Hello SDK/);
    assert.equal(m.usage.output_tokens, 16);

    const events: string[] = [];
    const stream = client.messages.stream({
      model: "claude-sonnet-4",
      max_tokens: 64,
      messages: [{ role: "user", content: "Hello stream" }],
    });
    stream.on("streamEvent", (e) => events.push(e.type));
    const final = await stream.finalMessage();
    const finalFirst = at(final.content, 0, "content");
    assert.match(finalFirst.type === "text" ? finalFirst.text : "", /^Echo: Hello stream/);
    assert.equal(final.stop_reason, "end_turn");
    assert.equal(final.usage.output_tokens, 16);
    assert.equal(events[0], "message_start");
    assert.equal(events.at(-1), "message_stop");

    const tools: Anthropic.Tool[] = [{ name: "lookup", input_schema: { type: "object", properties: { q: { type: "string" } } } }];
    const tu = await client.messages
      .stream({ model: "m", max_tokens: 64, tools, messages: [{ role: "user", content: "search" }] })
      .finalMessage();
    const block = at(tu.content, 0, "content");
    assert.equal(block.type, "tool_use");
    assert.deepEqual(block.type === "tool_use" ? block.input : undefined, { q: "sample" });
    assert.equal(tu.stop_reason, "tool_use");

    await sim.set({ error_rate: 1, error_status: 529 });
    await assert.rejects(
      client.messages.create({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof Anthropic.APIError && err.status === 529,
    );
    await sim.set({ error_rate: 0, rate_limit_rate: 1 });
    await assert.rejects(
      client.messages.create({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof Anthropic.RateLimitError,
    );
  } finally {
    await sim.close();
  }
});

test("gemini SDK (@google/genai): generateContent, stream, function call, error", async () => {
  const sim = await startSimProvider({ dialect: "gemini", stream_chunks: 3 });
  const ai = new GoogleGenAI({ apiKey: "g-sdk-key", httpOptions: { baseUrl: sim.url } });
  try {
    const r = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "Hello SDK",
      config: { systemInstruction: "Be brief." },
    });
    assert.match(r.text ?? "", /^Echo: Hello SDK/);
    assert.equal(r.usageMetadata?.candidatesTokenCount, 16);
    assert.equal(sim.stats().by_key["g-sdk-key"], 1);

    let text = "";
    let chunks = 0;
    for await (const chunk of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "Hello stream" })) {
      text += chunk.text ?? "";
      chunks++;
    }
    assert.equal(chunks, 3);
    assert.match(text, /^Echo: Hello stream/);

    const fc = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "Weather?",
      config: {
        tools: [
          { functionDeclarations: [{ name: "weather", parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } } } }] },
        ],
      },
    });
    assert.deepEqual(fc.functionCalls?.[0], { name: "weather", args: { city: "sample" } });

    await sim.set({ error_rate: 1, error_status: 503 });
    await assert.rejects(
      ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" }),
      (err: unknown) => (err as { status?: number }).status === 503,
    );
  } finally {
    await sim.close();
  }
});
