/**
 * The official Gemini SDK (@google/genai) against Switchyard, to each upstream kind, plain
 * (generateContent) and streamed (streamGenerateContent?alt=sse): a system instruction, a
 * multi-turn conversation and a function-call round trip, with usage metadata in every answer.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  GoogleGenAI,
  Type,
  type Content,
  type FunctionCall,
  type GenerateContentConfig,
  type GenerateContentResponseUsageMetadata,
} from "@google/genai";
import { LONG_TURN, MODES, TOOL_RESULT, UPSTREAMS, UPSTREAM_MODEL, startMatrix, targetId, type Upstream } from "../helpers/llm-matrix.js";

const m = await startMatrix();
after(() => m.close());
const ai = new GoogleGenAI({ apiKey: "gemini-client-not-forwarded", httpOptions: { baseUrl: m.gw.url } });
const tools: GenerateContentConfig["tools"] = [
  {
    functionDeclarations: [
      {
        name: "get_weather",
        description: "Weather in a city",
        parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ["city"] },
      },
    ],
  },
];

interface Result {
  text: string;
  calls: FunctionCall[];
  finish: string | undefined;
  model: string | undefined;
  usage: GenerateContentResponseUsageMetadata | undefined;
  target: string | undefined;
  /** Events received (1 for a plain answer). */
  events: number;
}

async function call(model: string, stream: boolean, contents: Content[] | string, config: GenerateContentConfig = {}): Promise<Result> {
  if (!stream) {
    const r = await ai.models.generateContent({ model, contents, config });
    return {
      text: r.text ?? "",
      calls: r.functionCalls ?? [],
      finish: r.candidates?.[0]?.finishReason,
      model: r.modelVersion,
      usage: r.usageMetadata,
      target: r.sdkHttpResponse?.headers?.["x-switchyard-target"],
      events: 1,
    };
  }
  const out: Result = { text: "", calls: [], finish: undefined, model: undefined, usage: undefined, target: undefined, events: 0 };
  for await (const chunk of await ai.models.generateContentStream({ model, contents, config })) {
    out.events++;
    out.text += chunk.text ?? "";
    out.calls.push(...(chunk.functionCalls ?? []));
    out.finish = chunk.candidates?.[0]?.finishReason ?? out.finish;
    out.model = chunk.modelVersion ?? out.model;
    if (chunk.usageMetadata) out.usage = chunk.usageMetadata;
    out.target = chunk.sdkHttpResponse?.headers?.["x-switchyard-target"] ?? out.target;
  }
  return out;
}

function assertAnswer(r: Result, u: Upstream): void {
  assert.equal(r.target, targetId(u));
  assert.equal(r.model, UPSTREAM_MODEL[u], "the answer names the upstream's model");
  assert.ok(
    r.usage && (r.usage.promptTokenCount ?? 0) > 0 && (r.usage.candidatesTokenCount ?? 0) > 0,
    `usage present: ${JSON.stringify(r.usage)}`,
  );
}

for (const u of UPSTREAMS) {
  for (const mode of MODES) {
    test(`gemini SDK → ${u} upstream (${mode}): system instruction, multi-turn, function-call round trip, usage`, async () => {
      const model = `via-${u}`;
      const stream = mode === "stream";

      const sys = await call(model, stream, "Hello", { systemInstruction: `say exactly: pong from ${u}` });
      assert.equal(sys.text, `pong from ${u}`);
      assert.equal(sys.finish, "STOP");
      assertAnswer(sys, u);

      const short = await call(model, stream, "What is next?");
      const multi = await call(model, stream, [
        { role: "user", parts: [{ text: LONG_TURN }] },
        { role: "model", parts: [{ text: "Noted." }] },
        { role: "user", parts: [{ text: "What is next?" }] },
      ]);
      assert.match(multi.text, /^Echo: What is next\?/);
      assertAnswer(multi, u);
      if (stream) assert.ok(multi.events >= 3, `the text arrived in several events (${multi.events})`);
      assert.ok((multi.usage!.promptTokenCount ?? 0) >= (short.usage!.promptTokenCount ?? 0) + 50, "earlier turns reached the upstream");

      const ask: Content = { role: "user", parts: [{ text: "What's the weather in Paris?" }] };
      const first = await call(model, stream, [ask], { tools });
      assert.equal(first.calls.length, 1);
      const fc = first.calls[0]!;
      assert.equal(fc.name, "get_weather");
      assert.deepEqual(fc.args, { city: "sample" });
      assertAnswer(first, u);

      const second = await call(
        model,
        stream,
        [
          ask,
          { role: "model", parts: [{ functionCall: fc }] },
          { role: "user", parts: [{ functionResponse: { id: fc.id, name: fc.name, response: { output: TOOL_RESULT } } }] },
        ],
        { tools },
      );
      assert.match(second.text, /^Tool result received: /);
      assert.ok(second.text.includes(TOOL_RESULT), `the function response reached the upstream: ${second.text}`);
      assert.equal(second.finish, "STOP");
      assertAnswer(second, u);
    });
  }
}
