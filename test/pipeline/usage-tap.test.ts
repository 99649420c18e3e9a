/**
 * Reading usage from passed-through answers never breaks an answer: any upstream bytes (garbage,
 * truncated JSON, hostile SSE) go to the client unchanged and never throw; well-formed answers
 * give their usage, however the body is cut into chunks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { usageOfJson, usageTapFor } from "../../src/pipeline/usage-tap.js";
import type { BodyTransform } from "../../src/pipeline/body-transform.js";
import type { Committed } from "../../src/engine/committed.js";
import { RequestContext } from "../../src/core/request-context.js";
import { ENDPOINTS } from "../../src/core/endpoint.js";

const PASS: BodyTransform = { push: (c) => c, end: () => "", broken: () => null, failure: null };

function committed(surface: "openai" | "anthropic" | "gemini", json: Record<string, unknown>): { c: Committed; ctx: RequestContext } {
  const endpoint = surface === "openai" ? ENDPOINTS.chat : surface === "anthropic" ? ENDPOINTS.messages : ENDPOINTS.stream_generate;
  const ctx = new RequestContext("r", endpoint, "POST", {});
  ctx.json = json;
  ctx.stream = json["stream"] === true;
  const target = { streamUsage: true, wire: surface };
  return { c: { ctx, status: 200, target } as unknown as Committed, ctx };
}

/** The bytes cut at the given points. */
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out.filter((b) => b.length > 0);
}

test("any bytes through the JSON and SSE taps: relayed as they came (or, for SSE, whole events), never a throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (raw, cuts, sse) => {
      const { c } = committed("openai", { stream: sse, stream_options: { include_usage: true } });
      const tap = usageTapFor(c, PASS, sse);
      let out = "";
      for (const ch of chunks(Buffer.from(raw), cuts)) out += tap.push(ch).toString("latin1");
      out += tap.end().toString();
      assert.equal(out, Buffer.from(raw).toString("latin1"));
    }),
    { numRuns: 500 },
  );
});

test("usageOfJson never throws on garbage and finds the usage of a real answer in any dialect", () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 300 }),
      fc.constantFrom<"openai" | "anthropic" | "gemini">("openai", "anthropic", "gemini"),
      (s, d) => {
        usageOfJson(Buffer.from(s), d);
        usageOfJson(Buffer.from(`{"usage":${s}`), d);
        usageOfJson(Buffer.from(`{"usageMetadata": {${s}`), d);
      },
    ),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.nat(100_000), fc.nat(100_000), fc.string({ maxLength: 80 }), (input, output, text) => {
      const openai = usageOfJson(
        Buffer.from(
          JSON.stringify({
            choices: [{ message: { content: `"usage": ${text}` } }],
            usage: { prompt_tokens: input, completion_tokens: output },
          }),
        ),
        "openai",
      );
      assert.deepEqual([openai?.prompt_tokens, openai?.completion_tokens], [input, output]);
      const anthropic = usageOfJson(
        Buffer.from(JSON.stringify({ content: [{ type: "text", text }], usage: { input_tokens: input, output_tokens: output } })),
        "anthropic",
      );
      assert.deepEqual([anthropic?.prompt_tokens, anthropic?.completion_tokens], [input, output]);
      const gemini = usageOfJson(
        Buffer.from(
          JSON.stringify(
            { candidates: [{ content: { parts: [{ text }] } }], usageMetadata: { promptTokenCount: input, candidatesTokenCount: output } },
            null,
            1,
          ),
        ),
        "gemini",
      );
      assert.deepEqual([gemini?.prompt_tokens, gemini?.completion_tokens], [input, output]);
    }),
    { numRuns: 300 },
  );
});

test("a streamed OpenAI answer cut anywhere: the usage is read, and the usage chunk is hidden from a client that did not ask", () => {
  const events = [
    { choices: [{ index: 0, delta: { content: "Hel" } }], usage: null },
    { choices: [{ index: 0, delta: { content: "lo" }, finish_reason: "stop" }], usage: null },
    { choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } },
  ];
  const body = `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("")}data: [DONE]\n\n`;
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (cuts, asked) => {
      const { c, ctx } = committed("openai", { stream: true, ...(asked ? { stream_options: { include_usage: true } } : {}) });
      // The SSE relay before the tap cuts on event boundaries; the tap sees whole events.
      let held = "";
      const relay: BodyTransform = {
        push(ch) {
          const text = held + ch.toString();
          const last = text.lastIndexOf("\n\n");
          const cut = last === -1 ? 0 : last + 2;
          held = text.slice(cut);
          return Buffer.from(text.slice(0, cut));
        },
        end: () => held,
        broken: () => null,
        failure: null,
      };
      const tap = usageTapFor(c, relay, true);
      let out = "";
      for (const ch of chunks(Buffer.from(body), cuts)) out += tap.push(ch).toString();
      out += tap.end().toString();
      assert.deepEqual([ctx.usage?.prompt_tokens, ctx.usage?.completion_tokens], [7, 2]);
      assert.equal(out.includes('"prompt_tokens"'), asked, asked ? "the client asked: the usage chunk reaches it" : "hidden");
      assert.ok(out.endsWith("data: [DONE]\n\n"));
      assert.equal(out.split("\n\n").length - 1, asked ? 4 : 3);
    }),
    { numRuns: 300 },
  );
});
