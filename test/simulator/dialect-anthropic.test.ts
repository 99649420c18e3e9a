import { test } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { call, readStream } from "../helpers/http.js";
import { parseSse } from "../helpers/sse.js";

const auth = { "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01" };
const tool = {
  name: "lookup",
  description: "Look up a symbol",
  input_schema: { type: "object", properties: { symbol: { type: "string" }, limit: { type: "number" }, exact: { type: "boolean" } } },
};

test("anthropic message: JSON shape, system blocks accepted, usage, rate-limit headers (RFC 3339 resets)", async () => {
  const sim = await startSimProvider({ dialect: "anthropic" });
  try {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await call(`${sim.url}/v1/messages`, {
      headers: auth,
      body: {
        model: "claude-sonnet-4",
        max_tokens: 100,
        system: [{ type: "text", text: "You are terse." }],
        messages: [{ role: "user", content: "Tell me a joke" }],
      },
    });
    assert.equal(r.status, 200);
    const b = r.json;
    assert.match(b.id, /^msg_/);
    assert.equal(b.type, "message");
    assert.equal(b.role, "assistant");
    assert.equal(b.model, "claude-sonnet-4");
    assert.equal(b.content[0].type, "text");
    assert.match(b.content[0].text, /^Echo: Tell me a joke/);
    assert.equal(b.stop_reason, "end_turn");
    assert.equal(b.stop_sequence, null);
    assert.equal(b.usage.output_tokens, 16);
    assert.ok(b.usage.input_tokens > 0);
    assert.equal(b.usage.cache_read_input_tokens, 0);
    assert.equal(r.headers["anthropic-ratelimit-requests-limit"], "10000");
    assert.equal(r.headers["anthropic-ratelimit-requests-remaining"], "9999");
    assert.match(r.headers["anthropic-ratelimit-requests-reset"] ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(r.headers["anthropic-ratelimit-tokens-remaining"] !== undefined);
    assert.match(r.headers["request-id"] ?? "", /^req_/);

    // Bearer works too; a system string with "say exactly" fixes the answer.
    const exact = await call(`${sim.url}/v1/messages`, {
      headers: { authorization: "Bearer sk-ant-2" },
      body: {
        model: "m",
        max_tokens: 10,
        system: "say exactly: Hallo Welt",
        messages: [{ role: "user", content: [{ type: "text", text: "Hello world" }] }],
      },
    });
    assert.equal(exact.json.content[0].text, "Hallo Welt");
  } finally {
    await sim.close();
  }
});

test("anthropic stream: message_start, content_block_start, ping, text deltas, block stop, message_delta, message_stop", async () => {
  const sim = await startSimProvider({ dialect: "anthropic", stream_chunks: 4 });
  try {
    const s = await readStream(`${sim.url}/v1/messages`, {
      headers: auth,
      body: { model: "claude-x", max_tokens: 50, stream: true, messages: [{ role: "user", content: "Stream this" }] },
    });
    assert.equal(s.status, 200);
    assert.equal(s.error, undefined);
    const events = parseSse(s.text);
    const names = events.map((e) => e.event);
    assert.deepEqual(names, [
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const data = events.map((e) => JSON.parse(e.data));
    for (let i = 0; i < events.length; i++) assert.equal(data[i].type, names[i]);
    assert.equal(data[0].message.model, "claude-x");
    assert.equal(data[0].message.role, "assistant");
    assert.deepEqual(data[0].message.content, []);
    assert.equal(data[1].content_block.type, "text");
    const text = data
      .slice(3, 7)
      .map((d) => {
        assert.equal(d.delta.type, "text_delta");
        return d.delta.text;
      })
      .join("");
    assert.match(text, /^Echo: Stream this/);
    assert.equal(data[8].delta.stop_reason, "end_turn");
    assert.equal(data[8].usage.output_tokens, 16);
    assert.ok(!s.text.includes("[DONE]"));
  } finally {
    await sim.close();
  }
});

test("anthropic tool_use (JSON and input_json_delta stream); tool_result answers text quoting it", async () => {
  const sim = await startSimProvider({ dialect: "anthropic" });
  try {
    const r = await call(`${sim.url}/v1/messages`, {
      headers: auth,
      body: { model: "m", max_tokens: 50, tools: [tool], messages: [{ role: "user", content: "Look up IBM" }] },
    });
    assert.equal(r.json.stop_reason, "tool_use");
    const use = r.json.content[0];
    assert.equal(use.type, "tool_use");
    assert.match(use.id, /^toolu_/);
    assert.equal(use.name, "lookup");
    assert.deepEqual(use.input, { symbol: "sample", limit: 1, exact: true });

    const s = await readStream(`${sim.url}/v1/messages`, {
      headers: auth,
      body: { model: "m", max_tokens: 50, stream: true, tools: [tool], messages: [{ role: "user", content: "Look up IBM" }] },
    });
    const data = parseSse(s.text).map((e) => JSON.parse(e.data));
    const start = data.find((d) => d.type === "content_block_start");
    assert.equal(start.content_block.type, "tool_use");
    assert.equal(start.content_block.name, "lookup");
    const json = data
      .filter((d) => d.type === "content_block_delta")
      .map((d) => {
        assert.equal(d.delta.type, "input_json_delta");
        return d.delta.partial_json;
      })
      .join("");
    assert.deepEqual(JSON.parse(json), { symbol: "sample", limit: 1, exact: true });
    assert.equal(data.find((d) => d.type === "message_delta").delta.stop_reason, "tool_use");

    const follow = await call(`${sim.url}/v1/messages`, {
      headers: auth,
      body: {
        model: "m",
        max_tokens: 50,
        tools: [tool],
        messages: [
          { role: "user", content: "Look up IBM" },
          { role: "assistant", content: [use] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "IBM trades at 123.45" }] },
        ],
      },
    });
    assert.equal(follow.json.stop_reason, "end_turn");
    assert.match(follow.json.content[0].text, /IBM trades at 123\.45/);
  } finally {
    await sim.close();
  }
});

test("anthropic errors: 529 overloaded_error, missing max_tokens 400, unknown path 404", async () => {
  const sim = await startSimProvider({ dialect: "anthropic", error_rate: 1, error_status: 529 });
  try {
    const r = await call(`${sim.url}/v1/messages`, {
      headers: auth,
      body: { model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] },
    });
    assert.equal(r.status, 529);
    assert.equal(r.json.type, "error");
    assert.equal(r.json.error.type, "overloaded_error");
    assert.equal(typeof r.json.error.message, "string");
    await sim.set({ error_rate: 0 });
    const bad = await call(`${sim.url}/v1/messages`, { headers: auth, body: { model: "m", messages: [{ role: "user", content: "x" }] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.type, "invalid_request_error");
    const missing = await call(`${sim.url}/v1/complete`, { headers: auth, body: {} });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.type, "not_found_error");
  } finally {
    await sim.close();
  }
});
