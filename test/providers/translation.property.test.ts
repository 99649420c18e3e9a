import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { fromAnthropicRequest } from "../../src/providers/anthropic/client-request.js";
import { CanonicalToAnthropicStream } from "../../src/providers/anthropic/from-canonical-stream.js";
import { toAnthropicRequest } from "../../src/providers/anthropic/request.js";
import { AnthropicToCanonicalStream } from "../../src/providers/anthropic/to-canonical-stream.js";
import type { ChatRequest, TextPart } from "../../src/providers/canonical.js";
import { fromGeminiRequest } from "../../src/providers/gemini/client-request.js";
import { CanonicalToGeminiStream } from "../../src/providers/gemini/from-canonical-stream.js";
import { toGeminiRequest } from "../../src/providers/gemini/request.js";
import { GeminiToCanonicalStream } from "../../src/providers/gemini/to-canonical-stream.js";
import { CanonicalToOpenAIStream } from "../../src/providers/openai/from-canonical-stream.js";
import { fromOpenAIRequest, toOpenAIRequest } from "../../src/providers/openai/request.js";
import { OpenAIToCanonicalStream } from "../../src/providers/openai/to-canonical-stream.js";
import { SseParser, encodeSse } from "../../src/providers/sse.js";
import type { FromCanonicalStream, ToCanonicalStream } from "../../src/providers/stream.js";
import { chatRequest, chunkStream } from "./arbitraries.js";
import { anthropicAcceptedRequest, geminiAcceptedRequest } from "./provider-schemas.js";
import { assemble } from "./stream-helpers.js";
import { UnsupportedFieldError } from "../../src/errors.js";

const RUNS = { numRuns: Number(process.env.PROP_RUNS ?? 250) };

function accepted(schema: typeof anthropicAcceptedRequest | typeof geminiAcceptedRequest, body: unknown): void {
  const r = schema.safeParse(body);
  if (!r.success)
    assert.fail(
      `provider would refuse:\n${JSON.stringify(r.error.issues.slice(0, 3), null, 1)}\nbody: ${JSON.stringify(body).slice(0, 1500)}`,
    );
}

/** Everything a conversation says, in order, by role; tool arguments parsed (whitespace is not meaning). */
function meaning(req: ChatRequest) {
  const partsText = (c: string | TextPart[] | null | undefined) => (c == null ? [] : typeof c === "string" ? [c] : c.map((p) => p.text));
  const system: string[] = [];
  const said: string[] = [];
  const images: string[] = [];
  const calls: { id: string; name: string; args: unknown }[] = [];
  const results: { id: string; text: string; error: boolean }[] = [];
  for (const m of req.messages) {
    if (m.role === "system" || m.role === "developer") system.push(...partsText(m.content));
    else if (m.role === "assistant") {
      for (const t of partsText(m.content)) said.push(`assistant: ${t}`);
      for (const c of m.tool_calls ?? []) calls.push({ id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) });
    } else if (m.role === "tool") results.push({ id: m.tool_call_id, text: partsText(m.content).join(""), error: m.is_error === true });
    else if (typeof m.content === "string") said.push(`user: ${m.content}`);
    else
      for (const p of m.content) {
        if (p.type === "text") said.push(`user: ${p.text}`);
        else if (p.type === "image_url") images.push(p.image_url.url);
      }
  }
  return { system, said, images, calls, results, tools: (req.tools ?? []).map((t) => [t.function.name, t.function.description]) };
}

test("property: every valid canonical request maps to an Anthropic request Anthropic accepts", () => {
  fc.assert(
    fc.property(chatRequest, (req) => {
      accepted(anthropicAcceptedRequest, toAnthropicRequest(req, { model: "claude-x", onUnsupported: "drop" }).body);
      try {
        accepted(anthropicAcceptedRequest, toAnthropicRequest(req, { model: "claude-x", onUnsupported: "reject" }).body);
      } catch (e) {
        if (!(e instanceof UnsupportedFieldError)) throw e;
      }
    }),
    RUNS,
  );
});

test("property: every valid canonical request maps to a Gemini request Gemini accepts", () => {
  fc.assert(
    fc.property(chatRequest, (req) => {
      accepted(geminiAcceptedRequest, toGeminiRequest(req, { model: "gemini-x", onUnsupported: "drop" }).body);
    }),
    RUNS,
  );
});

test("property: canonical → Anthropic → canonical keeps every text, image, system text, tool call and result", () => {
  fc.assert(
    fc.property(chatRequest, (req) => {
      const back = fromAnthropicRequest(toAnthropicRequest(req, { model: "claude-x", onUnsupported: "drop" }).body);
      const a = meaning(req);
      const b = meaning(back);
      assert.deepEqual(b, a);
      // Tool schemas survive unchanged (Anthropic takes JSON Schema as is).
      const plain = (v: unknown) => JSON.parse(JSON.stringify(v ?? null));
      assert.deepEqual(
        plain(back.tools?.map((t) => t.function.parameters)),
        plain(req.tools?.map((t) => t.function.parameters ?? { type: "object", properties: {} })),
      );
    }),
    RUNS,
  );
});

test("property: canonical → Gemini → canonical keeps every text, image, system text, tool call and result", () => {
  fc.assert(
    fc.property(chatRequest, (req) => {
      const back = fromGeminiRequest(toGeminiRequest(req, { model: "gemini-x", onUnsupported: "drop" }).body, {
        model: "gemini-x",
        stream: false,
      });
      assert.deepEqual(meaning(back), meaning(req));
    }),
    RUNS,
  );
});

test("property: canonical → OpenAI body → canonical is the identity on what OpenAI carries", () => {
  fc.assert(
    fc.property(chatRequest, (req) => {
      const { body } = toOpenAIRequest(req, { model: "canonical-model", onUnsupported: "drop", streamUsage: false });
      const back = fromOpenAIRequest(JSON.parse(JSON.stringify(body)));
      const strip = (r: ChatRequest) =>
        JSON.parse(JSON.stringify({ ...r, messages: r.messages.map((m) => (m.role === "tool" ? { ...m, is_error: undefined } : m)) }));
      assert.deepEqual(strip(back), strip(req));
    }),
    RUNS,
  );
});

type Pair = { name: string; client: () => FromCanonicalStream; upstream: () => ToCanonicalStream; argsExact: boolean };
const PAIRS: Pair[] = [
  {
    name: "anthropic",
    client: () => new CanonicalToAnthropicStream({ model: "m" }),
    upstream: () => new AnthropicToCanonicalStream({ includeUsage: true }),
    argsExact: true,
  },
  {
    name: "gemini",
    client: () => new CanonicalToGeminiStream({ model: "m" }),
    upstream: () => new GeminiToCanonicalStream({ includeUsage: true }),
    argsExact: false,
  },
  {
    name: "openai",
    client: () => new CanonicalToOpenAIStream({ includeUsage: true }),
    upstream: () => new OpenAIToCanonicalStream(),
    argsExact: true,
  },
];

for (const pair of PAIRS) {
  test(`property: canonical stream → ${pair.name} events → wire cut anywhere → canonical keeps text, tool calls, finish, usage`, () => {
    fc.assert(
      fc.property(chunkStream, fc.array(fc.nat(4000), { maxLength: 8 }), (s, cuts) => {
        const client = pair.client();
        let wireText = "";
        for (const c of s.chunks) for (const ev of client.push(structuredClone(c))) wireText += encodeSse(ev);
        for (const ev of client.end()) wireText += encodeSse(ev);
        const bytes = Buffer.from(wireText, "utf8");
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parser = new SseParser();
        const up = pair.upstream();
        const out = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          for (const ev of parser.push(bytes.subarray(prev, p))) out.push(...up.push(ev));
          prev = p;
        }
        for (const ev of parser.end()) out.push(...up.push(ev));
        out.push(...up.end());
        assert.equal(up.error, null);
        const a = assemble(out);
        assert.equal(a.text[0] ?? "", s.text);
        assert.equal(a.tools[0]?.length ?? 0, s.tools.length);
        s.tools.forEach((t, k) => {
          const got = a.tools[0]?.[k];
          assert.ok(got !== undefined, `tool call ${k} arrived`);
          assert.equal(got.name, t.name);
          assert.equal(got.id, t.id);
          if (pair.argsExact) assert.equal(got.args, t.args);
          else assert.deepEqual(JSON.parse(got.args), JSON.parse(t.args));
        });
        assert.deepEqual(a.finish, [s.finish]);
        assert.deepEqual(a.usage, s.usage);
      }),
      RUNS,
    );
  });
}
