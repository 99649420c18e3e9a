/**
 * Replaying a stored canonical completion to a client of each dialect: for every (client dialect ×
 * dialect the answer was captured from), the replayed stream and JSON body read back, through the
 * client dialect's own translators, to the same answer; and the official OpenAI, Anthropic and
 * Gemini SDKs accept a replayed stream as a live one (a tiny node:http server plays it to them).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { AnswerCapture } from "../../src/cache/answer-capture.js";
import { replayJson, replayStream } from "../../src/cache/answer-replay.js";
import type { ChatCompletion, Dialect, FinishReason } from "../../src/providers/canonical.js";
import { DIALECTS } from "../../src/providers/translators.js";
import { argsJson } from "../providers/arbitraries.js";
import { assemble, runUpstream } from "../providers/stream-helpers.js";
import { KINDS, WIRES, ask, meaning, startSims } from "./sim-answers.js";
import { parseSse } from "../helpers/sse.js";

const RUNS = { numRuns: Number(process.env.PROP_RUNS ?? 40) };
const ALIAS = "my-alias";

// ─── stored answers: captured from the simulator in each dialect, plus hand-made ones ─────────

const { sims, close } = await startSims();
after(close);

/** Bodies the tiny server plays, by case number: a request whose URL holds `case-N` gets body N. */
const plays: { type: string; body: string }[] = [];
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const play = plays[Number(/case-(\d+)/.exec(req.url ?? "")?.[1] ?? -1)];
    if (play === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": play.type }).end(play.body);
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function capture(wire: Dialect, sse: boolean, text: string): ChatCompletion {
  const cap = new AnswerCapture(wire, sse, 1 << 20);
  cap.whole(text);
  const c = cap.end();
  assert.ok(c !== null, `not captured (${cap.skipped}): ${text.slice(0, 300)}`);
  return c;
}

const stored: { label: string; wire: Dialect; c: ChatCompletion }[] = [];
for (const wire of WIRES)
  for (const kind of KINDS)
    stored.push({ label: `${wire} ${kind}`, wire, c: capture(wire, true, (await ask(sims[wire], wire, kind, true)).toString("utf8")) });

/** Text beside two tool calls, cached prompt tokens: what only some dialects produce. */
const MIXED: ChatCompletion = {
  id: "chatcmpl-mixed",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "upstream-model",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: "Let me check — два города 🌍\nline two",
        refusal: null,
        tool_calls: [
          { id: "call_a1", type: "function", function: { name: "get_weather", arguments: '{"city":"Zürich","days":2}' } },
          { id: "call_b2", type: "function", function: { name: "get_time", arguments: '{"zone":"Europe/Paris","nested":{"x":[1,2]}}' } },
        ],
      },
      finish_reason: "tool_calls",
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 100 } },
};
stored.push({ label: "mixed text and two tool calls", wire: "openai", c: MIXED });

// ─── reading a replay back ───────────────────────────────────────────────────────────────────

/** A replayed stream read with the client dialect's own upstream translator, cut every `every` bytes. */
function readStream(client: Dialect, text: string, every = 7) {
  const up = DIALECTS[client].upstreamStream({ includeUsage: true });
  const chunks = runUpstream(up, Buffer.from(text, "utf8"), every);
  assert.equal(up.error, null, `${client} replay read back with an error: ${JSON.stringify(up.error)}\n${text}`);
  assert.ok(up.done, `${client} replay has its end marker`);
  return { a: assemble(chunks), models: new Set(chunks.map((c) => c.model)) };
}

/** The meaning of the first choice of an answer, as `assemble` reads a stream. */
function streamMeaning(a: ReturnType<typeof assemble>) {
  return {
    content: a.text[0] ?? "",
    calls: (a.tools[0] ?? []).map((t) => ({ name: t.name, args: JSON.parse(t.args) as unknown })),
    finish: a.finish[0] ?? null,
    usage: a.usage ? { prompt: a.usage.prompt_tokens, completion: a.usage.completion_tokens, total: a.usage.total_tokens } : null,
  };
}

function firstChoice(c: ChatCompletion) {
  const m = meaning(c);
  const ch = m.choices[0]!;
  return { content: ch.content + (ch.refusal ?? ""), calls: ch.calls, finish: ch.finish, usage: m.usage };
}

for (const client of WIRES) {
  for (const s of stored) {
    test(`${client} client ← ${s.label}: the replayed stream reads back to the same answer`, () => {
      const before = structuredClone(s.c);
      const text = replayStream(client, s.c, ALIAS, true);
      const { a, models } = readStream(client, text);
      assert.deepEqual(streamMeaning(a), firstChoice(s.c));
      assert.deepEqual([...models], [ALIAS], "every event names the model the client asked for");
      assert.deepEqual(s.c, before, "replay leaves the stored completion as it was");
      assert.equal(replayStream(client, s.c, ALIAS, true).length, text.length, "a second replay is the same stream");

      const events = parseSse(text);
      if (client === "openai") {
        assert.ok(text.endsWith("data: [DONE]\n\n"));
        for (const ev of events.slice(0, -1)) assert.equal(JSON.parse(ev.data).object, "chat.completion.chunk");
      } else if (client === "anthropic") {
        assert.equal(events[0]!.event, "message_start");
        assert.equal(events.at(-1)!.event, "message_stop");
        for (const ev of events) assert.equal(JSON.parse(ev.data).type, ev.event, "each event's type names it");
      } else {
        for (const ev of events) assert.equal(JSON.parse(ev.data).responseId, events[0] && JSON.parse(events[0].data).responseId);
        assert.ok(JSON.parse(events.at(-1)!.data).candidates[0].finishReason);
      }
    });

    test(`${client} client ← ${s.label}: the replayed JSON body reads back to the same answer`, () => {
      const body: unknown = JSON.parse(replayJson(client, s.c, ALIAS));
      const back = DIALECTS[client].fromUpstreamResponse(body);
      assert.deepEqual(firstChoice(back), firstChoice(s.c));
      assert.equal(back.model, ALIAS);
    });
  }
}

test("an OpenAI client that did not ask for usage gets none, and still its [DONE]", () => {
  for (const s of stored) {
    const text = replayStream("openai", s.c, ALIAS, false);
    assert.ok(!text.includes('"usage"'), s.label);
    assert.ok(text.endsWith("data: [DONE]\n\n"));
    const { a } = readStream("openai", text);
    assert.equal(a.usage, null);
    assert.deepEqual({ ...streamMeaning(a), usage: null }, { ...firstChoice(s.c), usage: null });
  }
});

test("tool-call ids survive a replay to clients whose dialect carries them", () => {
  for (const client of WIRES) {
    const back = capture(client, true, replayStream(client, MIXED, ALIAS, true));
    assert.deepEqual(
      back.choices[0]!.message.tool_calls!.map((t) => t.id),
      ["call_a1", "call_b2"],
      client,
    );
  }
});

test("a refusal replays as a refusal to OpenAI clients and as the answer's text to the others", () => {
  const refused: ChatCompletion = {
    ...MIXED,
    choices: [{ index: 0, message: { role: "assistant", content: null, refusal: "I can't help with that." }, finish_reason: "stop" }],
  };
  const openai = capture("openai", true, replayStream("openai", refused, ALIAS, true));
  assert.equal(openai.choices[0]!.message.refusal, "I can't help with that.");
  assert.equal(openai.choices[0]!.message.content, null);
  for (const client of ["anthropic", "gemini"] as const) {
    assert.equal(capture(client, true, replayStream(client, refused, ALIAS, true)).choices[0]!.message.content, "I can't help with that.");
    assert.equal(capture(client, false, replayJson(client, refused, ALIAS)).choices[0]!.message.content, "I can't help with that.");
  }
});

test("several choices replay to OpenAI and Gemini clients; an Anthropic client gets the first", () => {
  const two: ChatCompletion = {
    ...MIXED,
    choices: [
      { index: 0, message: { role: "assistant", content: "first answer", refusal: null }, finish_reason: "stop" },
      { index: 1, message: { role: "assistant", content: "second answer", refusal: null }, finish_reason: "length" },
    ],
  };
  for (const client of ["openai", "gemini"] as const) {
    const { a } = readStream(client, replayStream(client, two, ALIAS, true));
    assert.deepEqual(a.text, ["first answer", "second answer"], client);
    assert.deepEqual(a.finish, ["stop", "length"], client);
    const back = DIALECTS[client].fromUpstreamResponse(JSON.parse(replayJson(client, two, ALIAS)));
    assert.deepEqual(
      back.choices.map((c) => c.message.content),
      ["first answer", "second answer"],
    );
  }
  const { a } = readStream("anthropic", replayStream("anthropic", two, ALIAS, true));
  assert.deepEqual(a.text, ["first answer"]);
});

// ─── property: capture ∘ replay is the identity, for every client dialect ───────────────────

const completion: fc.Arbitrary<ChatCompletion> = fc
  .record({
    text: fc.string({ unit: "grapheme", maxLength: 60 }),
    tools: fc.array(fc.record({ name: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/), args: argsJson }), { maxLength: 3 }),
    finish: fc.constantFrom<FinishReason>("stop", "length", "content_filter"),
    prompt: fc.nat(100_000),
    completion: fc.nat(100_000),
  })
  .filter((r) => r.text !== "" || r.tools.length > 0)
  .map((r): ChatCompletion => ({
    id: "chatcmpl-prop",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: r.text === "" ? null : r.text,
          refusal: null,
          ...(r.tools.length > 0
            ? {
                tool_calls: r.tools.map((t, k) => ({
                  id: `call_${k}`,
                  type: "function" as const,
                  function: { name: t.name, arguments: t.args },
                })),
              }
            : {}),
        },
        finish_reason: r.tools.length > 0 ? "tool_calls" : r.finish,
      },
    ],
    usage: { prompt_tokens: r.prompt, completion_tokens: r.completion, total_tokens: r.prompt + r.completion },
  }));

test("any completion replayed to any client dialect captures back to itself, stream and JSON", () => {
  fc.assert(
    fc.property(completion, fc.constantFrom(...WIRES), (c, client) => {
      const want = meaning(c);
      assert.deepEqual(meaning(capture(client, true, replayStream(client, c, ALIAS, true))), want);
      assert.deepEqual(meaning(capture(client, false, replayJson(client, c, ALIAS))), want);
    }),
    RUNS,
  );
});

// ─── the official SDKs accept a replay as a live answer ─────────────────────────────────────

/** Registers a body to play; returns its case name (for the URL). */
function play(type: string, body: string): string {
  plays.push({ type, body });
  return `case-${plays.length - 1}`;
}

const SSE = "text/event-stream";
const JSON_TYPE = "application/json";

/** The text parts of a Gemini answer's first candidate (the SDK's `.text` getter warns when calls sit beside them). */
function textOf(r: { candidates?: { content?: { parts?: { text?: string }[] } }[] }): string {
  let out = "";
  for (const p of r.candidates?.[0]?.content?.parts ?? []) out += p.text ?? "";
  return out;
}

for (const s of stored) {
  const want = firstChoice(s.c);

  test(`the OpenAI SDK takes a replay of ${s.label}: streamed (accumulated by the SDK) and plain`, async () => {
    const streamed = new OpenAI({
      apiKey: "sk-test",
      baseURL: `${origin}/${play(SSE, replayStream("openai", s.c, ALIAS, true))}/v1`,
      maxRetries: 0,
    });
    const final = await streamed.chat.completions
      .stream({ model: ALIAS, messages: [{ role: "user", content: "hi" }], stream_options: { include_usage: true } })
      .finalChatCompletion();
    const msg = final.choices[0]!.message;
    assert.equal(msg.content ?? "", want.content);
    assert.deepEqual(
      (msg.tool_calls ?? []).map((t) => (t.type === "function" ? { name: t.function.name, args: JSON.parse(t.function.arguments) } : null)),
      want.calls,
    );
    assert.equal(final.choices[0]!.finish_reason, want.finish);
    assert.equal(final.model, ALIAS);
    assert.deepEqual(
      final.usage && { prompt: final.usage.prompt_tokens, completion: final.usage.completion_tokens, total: final.usage.total_tokens },
      want.usage,
    );

    const plain = new OpenAI({
      apiKey: "sk-test",
      baseURL: `${origin}/${play(JSON_TYPE, replayJson("openai", s.c, ALIAS))}/v1`,
      maxRetries: 0,
    });
    const r = await plain.chat.completions.create({ model: ALIAS, messages: [{ role: "user", content: "hi" }] });
    assert.equal(r.choices[0]!.message.content ?? "", want.content);
    assert.equal(r.choices[0]!.finish_reason, want.finish);
  });

  test(`the Anthropic SDK takes a replay of ${s.label}: streamed (accumulated by the SDK) and plain`, async () => {
    const params = { model: ALIAS, max_tokens: 100, messages: [{ role: "user" as const, content: "hi" }] };
    const wantStop = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", content_filter: "refusal" }[want.finish as string];
    const streamed = new Anthropic({
      apiKey: "sk-ant-test",
      baseURL: `${origin}/${play(SSE, replayStream("anthropic", s.c, ALIAS, true))}`,
      maxRetries: 0,
    });
    const plain = new Anthropic({
      apiKey: "sk-ant-test",
      baseURL: `${origin}/${play(JSON_TYPE, replayJson("anthropic", s.c, ALIAS))}`,
      maxRetries: 0,
    });
    for (const message of [await streamed.messages.stream(params).finalMessage(), await plain.messages.create(params)]) {
      let text = "";
      const calls: { name: string; args: unknown }[] = [];
      for (const b of message.content) {
        if (b.type === "text") text += b.text;
        else if (b.type === "tool_use") calls.push({ name: b.name, args: b.input });
      }
      assert.equal(text, want.content);
      assert.deepEqual(calls, want.calls);
      assert.equal(message.stop_reason, wantStop);
      assert.equal(message.model, ALIAS);
      assert.equal(message.usage.output_tokens, want.usage!.completion);
      const u = message.usage;
      assert.equal(u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0), want.usage!.prompt);
    }
  });

  test(`the Gemini SDK takes a replay of ${s.label}: streamed and plain`, async () => {
    const ai = new GoogleGenAI({ apiKey: "g-test", httpOptions: { baseUrl: origin } });
    let text = "";
    const calls: { name: string; args: unknown }[] = [];
    let finish: string | undefined;
    let prompt: number | undefined;
    const model = play(SSE, replayStream("gemini", s.c, ALIAS, true));
    for await (const chunk of await ai.models.generateContentStream({ model, contents: "hi" })) {
      text += textOf(chunk);
      for (const f of chunk.functionCalls ?? []) calls.push({ name: f.name ?? "", args: f.args });
      finish = chunk.candidates?.[0]?.finishReason ?? finish;
      prompt = chunk.usageMetadata?.promptTokenCount ?? prompt;
    }
    assert.equal(text, want.content);
    assert.deepEqual(calls, want.calls);
    assert.equal(finish, want.finish === "length" ? "MAX_TOKENS" : "STOP");
    assert.equal(prompt, want.usage!.prompt);

    const r = await ai.models.generateContent({ model: play(JSON_TYPE, replayJson("gemini", s.c, ALIAS)), contents: "hi" });
    assert.equal(textOf(r), want.content);
    assert.deepEqual(
      (r.functionCalls ?? []).map((f) => ({ name: f.name, args: f.args })),
      want.calls,
    );
  });
}
