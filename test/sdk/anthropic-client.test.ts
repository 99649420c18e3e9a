/**
 * The official Anthropic SDK against Switchyard, to each upstream kind, plain and streamed: a
 * system prompt, a multi-turn conversation and a tool-use round trip, with usage in every answer.
 * The client's key travels as x-api-key (the SDK's default) and, from a second client, as
 * Authorization: Bearer; neither reaches the upstream, which gets the target's key.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import {
  LONG_TURN,
  MODES,
  TOOL_RESULT,
  UPSTREAMS,
  UPSTREAM_MODEL,
  WEATHER_SCHEMA,
  startMatrix,
  targetId,
  type Upstream,
} from "../helpers/llm-matrix.js";

const m = await startMatrix();
after(() => m.close());
const apiKeyClient = new Anthropic({ apiKey: "sk-ant-client-not-forwarded", baseURL: m.gw.url, maxRetries: 0 });
const bearerClient = new Anthropic({
  authToken: "sk-ant-bearer-not-forwarded",
  apiKey: null,
  baseURL: m.gw.url,
  maxRetries: 0,
  defaultHeaders: { "anthropic-version": "2024-01-01" },
});
const tools: Anthropic.Tool[] = [
  { name: "get_weather", description: "Weather in a city", input_schema: WEATHER_SCHEMA as unknown as Anthropic.Tool.InputSchema },
];

interface Result {
  message: Anthropic.Message;
  target: string | null;
}

async function call(
  client: Anthropic,
  model: string,
  stream: boolean,
  params: Omit<Anthropic.MessageCreateParamsNonStreaming, "model" | "max_tokens">,
): Promise<Result> {
  const body = { model, max_tokens: 256, ...params };
  if (!stream) {
    const { data, response } = await client.messages.create(body).withResponse();
    return { message: data, target: response.headers.get("x-switchyard-target") };
  }
  const s = client.messages.stream(body);
  const events: string[] = [];
  s.on("streamEvent", (e) => events.push(e.type));
  const message = await s.finalMessage();
  assert.equal(events[0], "message_start");
  assert.equal(events.at(-1), "message_stop");
  const { response } = await s.withResponse();
  return { message, target: response.headers.get("x-switchyard-target") };
}

function textOf(msg: Anthropic.Message): string {
  return msg.content.map((b) => (b.type === "text" ? b.text : "")).join("");
}

function assertAnswer(r: Result, u: Upstream): void {
  assert.equal(r.target, targetId(u));
  assert.equal(r.message.model, UPSTREAM_MODEL[u], "the answer names the upstream's model");
  assert.ok(r.message.usage.input_tokens > 0 && r.message.usage.output_tokens > 0, `usage present: ${JSON.stringify(r.message.usage)}`);
}

for (const u of UPSTREAMS) {
  for (const mode of MODES) {
    test(`anthropic SDK → ${u} upstream (${mode}): system prompt, multi-turn, tool round trip, usage`, async () => {
      const model = `via-${u}`;
      const stream = mode === "stream";

      const sys = await call(apiKeyClient, model, stream, {
        system: `say exactly: pong from ${u}`,
        messages: [{ role: "user", content: "Hello" }],
      });
      assert.equal(textOf(sys.message), `pong from ${u}`);
      assert.equal(sys.message.stop_reason, "end_turn");
      assertAnswer(sys, u);

      const short = await call(bearerClient, model, stream, { messages: [{ role: "user", content: "What is next?" }] });
      const multi = await call(bearerClient, model, stream, {
        messages: [
          { role: "user", content: LONG_TURN },
          { role: "assistant", content: "Noted." },
          { role: "user", content: [{ type: "text", text: "What is next?" }] },
        ],
      });
      assert.match(textOf(multi.message), /^Echo: What is next\?/);
      assertAnswer(multi, u);
      assert.ok(multi.message.usage.input_tokens >= short.message.usage.input_tokens + 50, "earlier turns reached the upstream");

      const ask: Anthropic.MessageParam[] = [{ role: "user", content: "What's the weather in Paris?" }];
      const first = await call(apiKeyClient, model, stream, { tools, messages: ask });
      assert.equal(first.message.stop_reason, "tool_use");
      const use = first.message.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
      assert.ok(use, "a tool_use block");
      assert.equal(use.name, "get_weather");
      assert.deepEqual(use.input, { city: "sample" });
      assertAnswer(first, u);

      const second = await call(apiKeyClient, model, stream, {
        tools,
        messages: [
          ...ask,
          { role: "assistant", content: [{ type: "tool_use", id: use.id, name: use.name, input: use.input }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: TOOL_RESULT }] },
        ],
      });
      assert.match(textOf(second.message), /^Tool result received: /);
      assert.ok(textOf(second.message).includes(TOOL_RESULT), "the tool result reached the upstream");
      assert.equal(second.message.stop_reason, "end_turn");
      assertAnswer(second, u);

      // No client credential or client-only header reached the upstream: it saw the target's key only.
      assert.deepEqual(Object.keys(m.sims[u].stats().by_key), [`key-${u}-0001`]);
    });
  }
}
