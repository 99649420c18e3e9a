/**
 * Provider answers, fuzzed. In process: every dialect's answer and error readers, the answer
 * translation to every client dialect, and every adapter's rate-limit and model-list readers,
 * against bodies shaped like the real ones with fields dropped or of the wrong type. Over HTTP: a
 * node:http upstream answers each request with a fuzzed status, headers and body (JSON or a
 * stream), and the client always gets an answer it can read in its own dialect, while the gateway
 * lives on.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { Pool } from "undici";
import type { Dialect, Usage } from "../../src/providers/canonical.js";
import { UpstreamFormatError } from "../../src/errors.js";
import { PROVIDERS } from "../../src/providers/registry.js";
import { translateErrorAnswer, translateJsonAnswer } from "../../src/exchange/answer-translation.js";
import type { Target } from "../../src/core/target.js";
import { startGateway } from "../helpers/harness.js";
import { isDialectError } from "../helpers/dialect-error.js";
import { mutated, notJson, wrongValue } from "./hostile-json.js";

const DIALECT_NAMES: readonly Dialect[] = ["openai", "anthropic", "gemini"];

const ANSWERS: Record<Dialect, unknown> = {
  openai: {
    id: "c1",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: "hi",
          refusal: null,
          tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
        },
        finish_reason: "stop",
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, prompt_tokens_details: { cached_tokens: 0 } },
  },
  anthropic: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "m",
    content: [
      { type: "text", text: "hi" },
      { type: "tool_use", id: "t1", name: "f", input: { a: 1 } },
      { type: "thinking", thinking: "t", signature: "s" },
    ],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 2, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  },
  gemini: {
    candidates: [
      {
        content: { role: "model", parts: [{ text: "hi" }, { functionCall: { name: "f", args: { a: 1 } }, thoughtSignature: "s" }] },
        finishReason: "STOP",
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 },
    promptFeedback: { blockReason: "SAFETY" },
    modelVersion: "m",
    responseId: "r",
  },
};

const ERRORS: Record<Dialect, unknown> = {
  openai: { error: { message: "no", type: "invalid_request_error", param: "model", code: "model_not_found" } },
  anthropic: { type: "error", error: { type: "overloaded_error", message: "busy" } },
  gemini: {
    error: {
      code: 429,
      message: "slow",
      status: "RESOURCE_EXHAUSTED",
      details: [
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7s" },
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" },
        { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel" }] },
      ],
    },
  },
};

function assertUsage(u: Usage | null | undefined, what: string): void {
  if (u === null || u === undefined) return;
  for (const k of ["prompt_tokens", "completion_tokens", "total_tokens"] as const) {
    const v = u[k];
    assert.ok(typeof v === "number" && Number.isFinite(v) && v >= 0, `${what}: ${k} = ${String(v)}`);
  }
}

const fakeTarget = { label: "t (fuzz)", maskKeyIn: (s: string) => s } as unknown as Target;
const status = fc.oneof(fc.integer({ min: 400, max: 599 }), fc.constantFrom(400, 401, 403, 404, 408, 429, 500, 502, 503, 529));

for (const up of DIALECT_NAMES)
  test(`fuzz: a hostile ${up} answer translates to every client dialect or is refused as UpstreamFormatError (the upstream's fault)`, () => {
    fc.assert(
      fc.property(
        fc.oneof({ weight: 6, arbitrary: mutated(ANSWERS[up], 5).map((v) => JSON.stringify(v) ?? "") }, { weight: 1, arbitrary: notJson }),
        (text) => {
          for (const client of DIALECT_NAMES) {
            let out;
            try {
              out = translateJsonAnswer(up, client, text);
            } catch (err) {
              assert.ok(err instanceof UpstreamFormatError, `${up} → ${client}: ${(err as Error).message}`);
              continue;
            }
            assertUsage(out.usage, `${up} → ${client}`);
            assert.doesNotThrow(() => JSON.parse(out.body) as unknown);
          }
        },
      ),
      { seed: 0xa5 + up.length, numRuns: 1_500 },
    );
  });

test("regression: an answer a translator trips on (no id, for an Anthropic client) is the upstream's malformed answer, not a gateway 500", () => {
  for (const [up, text] of [
    ["openai", '{"choices":[]}'],
    ["gemini", '{"responseId":0}'],
  ] as const)
    assert.throws(
      () => translateJsonAnswer(up, "anthropic", text),
      (err: unknown) => err instanceof UpstreamFormatError,
    );
});

for (const up of DIALECT_NAMES)
  test(`fuzz: a hostile ${up} error answer becomes an error status and body in every client dialect`, () => {
    fc.assert(
      fc.property(
        status,
        fc.oneof(
          mutated(ERRORS[up], 4).map((v) => JSON.stringify(v) ?? ""),
          notJson,
        ),
        (st, text) => {
          for (const client of DIALECT_NAMES) {
            const out = translateErrorAnswer(up, client, st, text, fakeTarget);
            assert.ok(out.status >= 400 && out.status < 600, `${up} → ${client}: status ${out.status}`);
            assert.doesNotThrow(() => JSON.parse(out.body) as unknown);
          }
        },
      ),
      { seed: 0xe5 + up.length, numRuns: 1_000 },
    );
  });

const headerValue = fc.oneof(
  fc.constantFrom(
    "0",
    "-1",
    "1e309",
    "NaN",
    "",
    " ",
    "1.5",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Thu, 01 Jan 2099 00:00:00 GMT",
    "6m0s",
    "1h2m3.5s",
    "abc",
  ),
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
  fc.double().map(String),
);
const RATE_HEADERS = [
  "retry-after",
  "retry-after-ms",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-limit-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-reset-tokens",
  "anthropic-ratelimit-requests-remaining",
  "anthropic-ratelimit-requests-limit",
  "anthropic-ratelimit-requests-reset",
  "anthropic-ratelimit-tokens-remaining",
  "anthropic-ratelimit-tokens-reset",
  "x-ratelimit-remaining",
  "x-ratelimit-limit",
  "x-ratelimit-reset",
  "ratelimit",
  "ratelimit-policy",
];
const headers = fc.dictionary(fc.constantFrom(...RATE_HEADERS), fc.oneof(headerValue, fc.array(headerValue, { maxLength: 2 })), {
  maxKeys: 8,
});

test("fuzz: every adapter reads hostile rate-limit headers and error bodies into finite numbers (counts and delays >= 0)", () => {
  const now = Date.UTC(2030, 0, 1);
  fc.assert(
    fc.property(
      headers,
      fc.oneof(
        mutated(ERRORS.gemini, 3).map((v) => JSON.stringify(v) ?? ""),
        notJson,
      ),
      fc.oneof(mutated({ data: [{ id: "m" }], models: [{ name: "models/m" }] }, 3), wrongValue),
      (h, errorBody, list) => {
        for (const [name, adapter] of Object.entries(PROVIDERS)) {
          const info = adapter.rateLimit(h, errorBody, now);
          // Reset times are epoch ms (a date in the past only means "not limited now"); the rest are counts and delays.
          for (const [k, v] of Object.entries(info))
            assert.ok(
              v === undefined || (typeof v === "number" && Number.isFinite(v) && (k.endsWith("AtMs") || v >= 0)),
              `${name}.${k} = ${String(v)}`,
            );
          for (const id of adapter.models(list)) assert.equal(typeof id, "string", `${name} model id`);
          for (const st of adapter.keyProblemStatuses) adapter.keyProblem(st, errorBody);
        }
      },
    ),
    { seed: 0x7a7e, numRuns: 1_000 },
  );
});

// ─── over HTTP ──────────────────────────────────────────────────────────────────────────────

/** What the upstream answers next: set by the property before each request. */
interface Script {
  status: number;
  headers: Record<string, string>;
  /** Parts of the body, written one by one (a stream's events, or a JSON body in pieces). */
  parts: string[];
  /** Reset the connection after the parts instead of ending the answer. */
  reset: boolean;
}
let script: Script = { status: 200, headers: {}, parts: [], reset: false };
const upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  req.on("end", () => answer(res, script));
});
function answer(res: ServerResponse, s: Script): void {
  try {
    res.writeHead(s.status, s.headers);
  } catch {
    res.writeHead(s.status);
  }
  for (const p of s.parts) res.write(p);
  if (s.reset) res.destroy();
  else res.end();
}
await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
const upUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

/** Every client surface against an upstream of every dialect: same dialect (relayed) and crossed (translated). */
const gw = await startGateway({
  routes: DIALECT_NAMES.flatMap((client) =>
    DIALECT_NAMES.map((wire) => ({
      name: `${client}-${wire}`,
      surface: client,
      models: [`${wire}-model`],
      retry: { attempts: 1 },
      targets: [
        {
          id: `${client}-${wire}`,
          provider: wire,
          base_url: wire === "openai" ? `${upUrl}/v1` : upUrl,
          key: "sk-fuzz-answers-0001",
          timeouts: { first_byte_ms: 2_000, idle_ms: 2_000 },
        },
      ],
    })),
  ),
});
const client = new Pool(gw.url, { connections: 1 });
after(async () => {
  await client.close();
  await gw.close();
  await new Promise<void>((r) => upstream.close(() => r()));
});

function requestFor(clientDialect: Dialect, wire: Dialect, stream: boolean): { path: string; body: string } {
  const model = `${wire}-model`;
  switch (clientDialect) {
    case "openai":
      return { path: "/v1/chat/completions", body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }) };
    case "anthropic":
      return { path: "/v1/messages", body: JSON.stringify({ model, stream, max_tokens: 16, messages: [{ role: "user", content: "hi" }] }) };
    case "gemini":
      return {
        path: `/v1beta/models/${model}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
      };
  }
}

const STREAM_EVENT: Record<Dialect, unknown[]> = {
  openai: [{ choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1 } }],
  anthropic: [
    { type: "message_start", message: { id: "m", model: "m", usage: { input_tokens: 1 } } },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi" } },
    { type: "message_stop" },
  ],
  gemini: [{ candidates: [{ content: { parts: [{ text: "hi" }] }, finishReason: "STOP" }] }],
};

const upstreamScript = (wire: Dialect, stream: boolean): fc.Arbitrary<Script> =>
  fc.record({
    status: fc.oneof(
      { weight: 3, arbitrary: fc.constant(200) },
      { weight: 2, arbitrary: status },
      { weight: 1, arbitrary: fc.integer({ min: 200, max: 399 }) },
    ),
    headers: fc.oneof(
      fc.constant({ "content-type": stream ? "text/event-stream" : "application/json" }),
      fc.dictionary(fc.constantFrom("content-type", "retry-after", "x-ratelimit-remaining-requests", "x-junk"), headerValue, {
        maxKeys: 3,
      }),
    ),
    parts: stream
      ? fc.array(
          fc.oneof(
            {
              weight: 4,
              arbitrary: fc.oneof(...STREAM_EVENT[wire].map((t) => mutated(t, 4))).map((v) => `data: ${JSON.stringify(v) ?? ""}\n\n`),
            },
            { weight: 1, arbitrary: notJson.map((t) => `data: ${t}\n\n`) },
            { weight: 1, arbitrary: fc.constantFrom("data: [DONE]\n\n", ": ping\n\n", "event: error\n", "\n", "data: {") },
          ),
          { maxLength: 6 },
        )
      : fc.oneof(
          mutated(ANSWERS[wire], 4).map((v) => [JSON.stringify(v) ?? ""]),
          mutated(ERRORS[wire], 3).map((v) => [JSON.stringify(v) ?? ""]),
          notJson.map((t) => [t]),
        ),
    reset: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });

const exchange = fc
  .tuple(fc.constantFrom(...DIALECT_NAMES), fc.boolean())
  .chain(([wire, stream]) => fc.record({ wire: fc.constant(wire), stream: fc.constant(stream), script: upstreamScript(wire, stream) }));

for (const c of DIALECT_NAMES)
  test(`fuzz over HTTP: whatever the upstream answers, a client of the ${c} dialect gets an answer or an error in its dialect`, async () => {
    await fc.assert(
      fc.asyncProperty(exchange, async ({ wire, stream, script: s }) => {
        script = s;
        const req = requestFor(c, wire, stream);
        const res = await client.request({
          path: req.path,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: req.body,
        });
        let text: string;
        try {
          text = await res.body.text();
        } catch (err) {
          // Only a stream already under way may be cut: its 200 went out before the upstream broke.
          assert.ok(stream && res.statusCode === 200, `${wire} → ${c}: ${res.statusCode} cut (${(err as Error).message})`);
          return;
        }
        const what = `${wire} → ${c} (stream ${stream}) upstream ${s.status}: ${res.statusCode} ${text.slice(0, 300)}`;
        assert.ok(res.statusCode >= 200 && res.statusCode < 600, what);
        assert.notEqual(res.headers["x-switchyard-error"], "internal_error", what);
        if (res.headers["x-switchyard-error"] !== undefined || (res.statusCode >= 400 && (wire !== c || s.status < 400))) {
          assert.ok(isDialectError(c, res.statusCode, JSON.parse(text)), what);
        } else if (res.statusCode < 300 && wire !== c && !stream) {
          assert.doesNotThrow(() => JSON.parse(text) as unknown, what);
        }
      }),
      { seed: 0x477 + c.length, numRuns: 150 },
    );
    const health = await client.request({ path: "/healthz", method: "GET" });
    assert.equal(health.statusCode, 200);
    await health.body.text();
  });
