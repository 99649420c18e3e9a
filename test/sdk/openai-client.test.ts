/**
 * The official OpenAI SDK against Switchyard, to each upstream kind, plain and streamed: a system
 * prompt, a multi-turn conversation and a tool-call round trip, with usage in every answer.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
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
const client = new OpenAI({ apiKey: "sk-client-not-forwarded", baseURL: `${m.gw.url}/v1`, maxRetries: 0 });
const tools: OpenAI.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: WEATHER_SCHEMA } },
];

interface Result {
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finish: string | null;
  model: string;
  usage: OpenAI.CompletionUsage | null | undefined;
  target: string | null;
}

async function call(model: string, stream: boolean, messages: OpenAI.ChatCompletionMessageParam[], withTools = false): Promise<Result> {
  const params = { model, messages, ...(withTools ? { tools } : {}) };
  if (!stream) {
    const { data, response } = await client.chat.completions.create(params).withResponse();
    const msg = data.choices[0]!.message;
    return {
      text: msg.content ?? "",
      toolCalls: (msg.tool_calls ?? []).map((t) =>
        t.type === "function"
          ? { id: t.id, name: t.function.name, arguments: t.function.arguments }
          : { id: t.id, name: "", arguments: "" },
      ),
      finish: data.choices[0]!.finish_reason,
      model: data.model,
      usage: data.usage,
      target: response.headers.get("x-switchyard-target"),
    };
  }
  const { data, response } = await client.chat.completions
    .create({ ...params, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  const r: Result = {
    text: "",
    toolCalls: [],
    finish: null,
    model: "",
    usage: undefined,
    target: response.headers.get("x-switchyard-target"),
  };
  for await (const chunk of data) {
    r.model = chunk.model;
    if (chunk.usage) r.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice === undefined) continue;
    r.text += choice.delta.content ?? "";
    for (const tc of choice.delta.tool_calls ?? []) {
      const slot = (r.toolCalls[tc.index] ??= { id: "", name: "", arguments: "" });
      if (tc.id) slot.id = tc.id;
      if (tc.function?.name) slot.name += tc.function.name;
      if (tc.function?.arguments) slot.arguments += tc.function.arguments;
    }
    if (choice.finish_reason) r.finish = choice.finish_reason;
  }
  return r;
}

function assertAnswer(r: Result, u: Upstream): void {
  assert.equal(r.target, targetId(u));
  assert.equal(r.model, UPSTREAM_MODEL[u], "the answer names the upstream's model");
  assert.ok(r.usage && r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0, `usage present: ${JSON.stringify(r.usage)}`);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
}

for (const u of UPSTREAMS) {
  for (const mode of MODES) {
    test(`openai SDK → ${u} upstream (${mode}): system prompt, multi-turn, tool round trip, usage`, async () => {
      const model = `via-${u}`;
      const stream = mode === "stream";

      const sys = await call(model, stream, [
        { role: "system", content: `say exactly: pong from ${u}` },
        { role: "user", content: "Hello" },
      ]);
      assert.equal(sys.text, `pong from ${u}`);
      assert.equal(sys.finish, "stop");
      assertAnswer(sys, u);

      const short = await call(model, stream, [{ role: "user", content: "What is next?" }]);
      const multi = await call(model, stream, [
        { role: "user", content: LONG_TURN },
        { role: "assistant", content: "Noted." },
        { role: "user", content: "What is next?" },
      ]);
      assert.match(multi.text, /^Echo: What is next\?/);
      assertAnswer(multi, u);
      assert.ok(
        multi.usage!.prompt_tokens >= short.usage!.prompt_tokens + 50,
        `earlier turns reached the upstream (${multi.usage!.prompt_tokens} vs ${short.usage!.prompt_tokens} prompt tokens)`,
      );

      const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What's the weather in Paris?" }];
      const first = await call(model, stream, ask, true);
      assert.equal(first.finish, "tool_calls");
      assert.equal(first.toolCalls.length, 1);
      const tc = first.toolCalls[0]!;
      assert.equal(tc.name, "get_weather");
      assert.deepEqual(JSON.parse(tc.arguments), { city: "sample" });
      assert.ok(tc.id.length > 0);
      assertAnswer(first, u);

      const second = await call(
        model,
        stream,
        [
          ...ask,
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: tc.id, type: "function", function: { name: tc.name, arguments: tc.arguments } }],
          },
          { role: "tool", tool_call_id: tc.id, content: TOOL_RESULT },
        ],
        true,
      );
      assert.match(second.text, /^Tool result received: /);
      assert.ok(second.text.includes(TOOL_RESULT), `the tool result reached the upstream: ${second.text}`);
      assert.equal(second.finish, "stop");
      assertAnswer(second, u);
    });
  }
}
