/**
 * Translation cost, per dialect pair (client dialect → upstream dialect):
 * - request: client body (parsed JSON) → canonical → upstream body, plus upstream response
 *   (parsed JSON) → canonical → client response; JSON parse/stringify excluded (every proxy pays it);
 * - stream: µs per upstream event for bytes → SseParser → <upstream>ToCanonical →
 *   CanonicalTo<client> → encodeSse, on a realistic stream (≈4-character text deltas + one tool call).
 *
 * Run: node --import tsx bench/translation.bench.ts
 * Writes bench/results/translation-<YYYY-MM-DD>.json and prints a table.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Dialect } from "../src/providers/canonical.js";
import { DIALECTS } from "../src/providers/translators.js";
import { SseParser, encodeSse } from "../src/providers/sse.js";

const DIALECT_LIST: Dialect[] = ["openai", "anthropic", "gemini"];
const opts = { model: "upstream-model", onUnsupported: "drop" as const };

const request: ChatRequest = {
  model: "smart",
  messages: [
    { role: "system", content: "You are a helpful assistant for a travel agency. Answer briefly and call tools when you need live data." },
    { role: "user", content: "I'm flying to Lisbon next week. What's the weather going to be like, and do I need a jacket?" },
    {
      role: "assistant",
      content: "Let me look that up.",
      tool_calls: [
        {
          id: "call_abc123",
          type: "function",
          function: { name: "get_forecast", arguments: '{"city":"Lisbon","days":7,"unit":"celsius"}' },
        },
      ],
    },
    {
      role: "tool",
      tool_call_id: "call_abc123",
      content: '{"forecast":[{"day":"Mon","high":22,"low":14,"rain":0.1},{"day":"Tue","high":21,"low":13,"rain":0.3}]}',
    },
    { role: "assistant", content: "Highs around 21–22°C and lows near 13–14°C, with a little rain on Tuesday." },
    {
      role: "user",
      content: [
        { type: "text", text: "Great. And here's my itinerary, anything I should change?" },
        { type: "image_url", image_url: { url: "data:image/png;base64," + "iVBORw0KGgo".repeat(200) } },
      ],
    },
  ],
  tools: [
    {
      type: "function",
      function: {
        name: "get_forecast",
        description: "Weather forecast for a city",
        parameters: {
          type: "object",
          properties: {
            city: { type: "string" },
            days: { type: "integer", minimum: 1, maximum: 14 },
            unit: { type: "string", enum: ["celsius", "fahrenheit"] },
          },
          required: ["city"],
          additionalProperties: false,
        },
      },
    },
    {
      type: "function",
      function: {
        name: "book_hotel",
        description: "Book a hotel",
        parameters: {
          type: "object",
          properties: { city: { type: "string" }, nights: { type: "integer" }, budget: { type: ["number", "null"] } },
          required: ["city", "nights"],
        },
      },
    },
  ],
  tool_choice: "auto",
  temperature: 0.7,
  max_tokens: 800,
  stream: false,
};

const completion: ChatCompletion = {
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1700000000,
  model: "upstream-model",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content:
          "Your itinerary looks good. Pack a light jacket for the evenings; consider moving the Sintra day trip to Monday, when it's dry.",
        tool_calls: [
          { id: "call_def456", type: "function", function: { name: "book_hotel", arguments: '{"city":"Sintra","nights":1,"budget":150}' } },
        ],
      },
      finish_reason: "tool_calls",
    },
  ],
  usage: { prompt_tokens: 1250, completion_tokens: 64, total_tokens: 1314, prompt_tokens_details: { cached_tokens: 1024 } },
};

function canonicalStream(): ChatCompletionChunk[] {
  const base = { id: "chatcmpl-s", object: "chat.completion.chunk" as const, created: 1700000000, model: "upstream-model" };
  const text =
    "Lisbon next week looks mild: highs of 21 to 22 degrees, lows near 13, and a chance of light rain on Tuesday. A light jacket will do. ".repeat(
      3,
    );
  const out: ChatCompletionChunk[] = [{ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }];
  for (let i = 0; i < text.length; i += 4)
    out.push({ ...base, choices: [{ index: 0, delta: { content: text.slice(i, i + 4) }, finish_reason: null }] });
  out.push({
    ...base,
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, id: "call_s1", type: "function", function: { name: "get_forecast", arguments: "" } }] },
        finish_reason: null,
      },
    ],
  });
  for (const frag of ['{"ci', 'ty":"Li', 'sbon","da', 'ys":3}'])
    out.push({
      ...base,
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: frag } }] }, finish_reason: null }],
    });
  out.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] });
  out.push({ ...base, choices: [], usage: { prompt_tokens: 900, completion_tokens: 120, total_tokens: 1020 } });
  return out;
}

/** Client bodies and upstream answers in each dialect, made by the translators themselves. */
const clientBody: Record<Dialect, unknown> = {
  openai: request,
  anthropic: DIALECTS.anthropic.toUpstreamRequest(request, opts).body,
  gemini: DIALECTS.gemini.toUpstreamRequest(request, opts).body,
};
const upstreamResponse: Record<Dialect, unknown> = {
  openai: JSON.parse(JSON.stringify(completion)),
  anthropic: JSON.parse(JSON.stringify(DIALECTS.anthropic.toClientResponse(completion))),
  gemini: JSON.parse(JSON.stringify(DIALECTS.gemini.toClientResponse(completion))),
};
const chunks = canonicalStream();
const upstreamWire = {} as Record<Dialect, { bytes: Buffer; events: number }>;
for (const d of DIALECT_LIST) {
  const t = DIALECTS[d].clientStream({ model: "upstream-model", includeUsage: true });
  const evs = [...chunks.flatMap((c) => t.push(structuredClone(c))), ...t.end()];
  upstreamWire[d] = { bytes: Buffer.from(evs.map(encodeSse).join(""), "utf8"), events: evs.length };
}

/** Median µs per op over `rounds` rounds, each long enough to be measurable. */
function measure(fn: () => void, opsPerCall: number): number {
  let iters = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    if (Number(process.hrtime.bigint() - t0) > 20e6) break;
    iters *= 2;
  }
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / iters / opsPerCall);
  }
  samples.sort((a, b) => a - b);
  return samples[3]!; // the median of the 7 rounds just pushed
}

let sink = 0;
type Case = { client: Dialect; upstream: Dialect; req: () => void; res: () => void; stream: () => void; events: number };
const cases: Case[] = [];
for (const client of DIALECT_LIST) {
  for (const upstream of DIALECT_LIST) {
    const c = DIALECTS[client];
    const u = DIALECTS[upstream];
    const { bytes, events } = upstreamWire[upstream];
    cases.push({
      client,
      upstream,
      events,
      req: () => {
        const canonical = c.fromClientRequest(clientBody[client], { model: "smart", stream: false });
        sink += (u.toUpstreamRequest(canonical, opts).body as object) ? 1 : 0;
      },
      res: () => {
        sink += c.toClientResponse(u.fromUpstreamResponse(upstreamResponse[upstream]), "smart") ? 1 : 0;
      },
      stream: () => {
        const parser = new SseParser();
        const up = u.upstreamStream({ includeUsage: true });
        const down = c.clientStream({ model: "smart", includeUsage: true });
        // Fed in network-sized pieces (1 KiB), cut wherever they fall.
        for (let i = 0; i < bytes.length; i += 1024) {
          for (const ev of parser.push(bytes.subarray(i, i + 1024)))
            for (const ch of up.push(ev)) for (const out of down.push(ch)) sink += encodeSse(out).length;
        }
        for (const ev of parser.end()) for (const ch of up.push(ev)) for (const out of down.push(ch)) sink += encodeSse(out).length;
        up.end();
        for (const out of down.end()) sink += encodeSse(out).length;
      },
    });
  }
}
// Warm every pair first, so each is measured in the same steady state (all dialects' code hot,
// as in a gateway serving mixed traffic) rather than favouring whichever runs first.
for (let round = 0; round < 200; round++) {
  for (const k of cases) {
    k.req();
    k.res();
    k.stream();
  }
}

const rows = cases.map((k) => ({
  client: k.client,
  upstream: k.upstream,
  request_us: round(measure(k.req, 1)),
  response_us: round(measure(k.res, 1)),
  stream_us_per_event: round(measure(k.stream, k.events)),
  stream_events: k.events,
}));

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const date = new Date().toISOString().slice(0, 10);
const result = {
  bench: "translation",
  date,
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  note: "all pairs warmed first; median of 7 rounds; request/response exclude JSON parse/stringify; stream includes SSE parse, both translators and SSE encode",
  request_fixture: { messages: request.messages.length, tools: request.tools!.length, image_base64_chars: 2200 },
  rows,
};
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, "results"), { recursive: true });
const file = join(here, "results", `translation-${date}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + "\n");

console.log(`translation bench — ${result.node}, ${result.cpu}`);
console.log("client     → upstream    request µs  response µs  stream µs/event (events)");
for (const r of rows) {
  console.log(
    `${r.client.padEnd(10)} → ${r.upstream.padEnd(10)} ${String(r.request_us).padStart(10)} ${String(r.response_us).padStart(12)} ${String(r.stream_us_per_event).padStart(16)} (${r.stream_events})`,
  );
}
// Reading `sink` keeps the measured work observable, so the JIT cannot drop it.
console.log(`wrote ${file} (checksum ${sink % 1000})`);
