/**
 * Client bodies, fuzzed, on every surface: OpenAI chat and embeddings, Anthropic messages, Gemini
 * generateContent, REST. In process, each dialect's request reader and each writer behind it;
 * over HTTP, the real gateway with every client dialect routed to every upstream dialect
 * (simulators). A hostile body is refused 4xx in the client's dialect, or served: never a 5xx,
 * never a crash, and the gateway answers a good request afterwards.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Pool } from "undici";
import type { Dialect } from "../../src/providers/canonical.js";
import { RequestValidationError, UnsupportedFieldError } from "../../src/errors.js";
import { DIALECTS } from "../../src/providers/translators.js";
import type { Surface } from "../../src/config/schema.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway } from "../helpers/harness.js";
import { isDialectError } from "../helpers/dialect-error.js";
import { mutated, notJson, wrongValue } from "./hostile-json.js";

const DIALECT_NAMES: readonly Dialect[] = ["openai", "anthropic", "gemini"];
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk";
const SCHEMA = {
  type: "object",
  properties: { a: { type: "string", enum: ["x"] }, b: { type: "array", items: { type: "number" } } },
  required: ["a"],
};

const OPENAI_CHAT = {
  model: "M",
  messages: [
    { role: "system", content: "be brief" },
    { role: "developer", content: [{ type: "text", text: "dev" }] },
    {
      role: "user",
      content: [
        { type: "text", text: "hi" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "low" } },
        { type: "input_audio", input_audio: { data: PNG, format: "wav" } },
        { type: "file", file: { file_data: `data:application/pdf;base64,${PNG}`, filename: "a.pdf" } },
      ],
      name: "u",
    },
    { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: '{"a":"x"}' } }] },
    { role: "tool", tool_call_id: "t1", content: "42" },
  ],
  tools: [{ type: "function", function: { name: "f", description: "d", parameters: SCHEMA, strict: true } }],
  tool_choice: { type: "function", function: { name: "f" } },
  response_format: { type: "json_schema", json_schema: { name: "s", schema: SCHEMA } },
  stop: ["\n\n"],
  temperature: 0.5,
  top_p: 1,
  max_tokens: 16,
  max_completion_tokens: 16,
  n: 1,
  seed: 1,
  stream: false,
  stream_options: { include_usage: true },
  logit_bias: { "1": 1 },
  user: "u",
  reasoning_effort: "low",
  parallel_tool_calls: true,
};

const OPENAI_EMBEDDINGS = { model: "M", input: ["a", "b"], encoding_format: "float", dimensions: 8, user: "u" };

const ANTHROPIC_MESSAGES = {
  model: "M",
  max_tokens: 16,
  system: [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }],
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "hi" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: PNG } },
      ],
    },
    { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: { a: "x" } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "42", is_error: false }] },
  ],
  tools: [{ name: "f", description: "d", input_schema: SCHEMA }],
  tool_choice: { type: "tool", name: "f" },
  stop_sequences: ["\n\n"],
  temperature: 0.5,
  top_k: 5,
  top_p: 1,
  stream: false,
  thinking: { type: "enabled", budget_tokens: 1024 },
  metadata: { user_id: "u" },
};

const GEMINI_GENERATE = {
  contents: [
    {
      role: "user",
      parts: [
        { text: "hi" },
        { inlineData: { mimeType: "image/png", data: PNG } },
        { fileData: { mimeType: "application/pdf", fileUri: "gs://b/a.pdf" } },
      ],
    },
    { role: "model", parts: [{ functionCall: { name: "f", args: { a: "x" } }, thoughtSignature: "sig" }] },
    { role: "user", parts: [{ functionResponse: { name: "f", response: { result: 42 } } }] },
  ],
  systemInstruction: { parts: [{ text: "be brief" }] },
  tools: [{ functionDeclarations: [{ name: "f", description: "d", parameters: SCHEMA }] }],
  toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["f"] } },
  generationConfig: {
    temperature: 0.5,
    topP: 1,
    topK: 5,
    maxOutputTokens: 16,
    stopSequences: ["\n\n"],
    candidateCount: 1,
    responseMimeType: "application/json",
    responseSchema: SCHEMA,
    thinkingConfig: { thinkingBudget: 128 },
  },
  safetySettings: [{ category: "HARM_CATEGORY_HATE_SPEECH", threshold: "BLOCK_NONE" }],
};

const CHAT_TEMPLATE: Record<Dialect, unknown> = { openai: OPENAI_CHAT, anthropic: ANTHROPIC_MESSAGES, gemini: GEMINI_GENERATE };

/** A hostile body of a surface: a mutated template (its model kept, mostly, so it reaches a route), or not a JSON object at all. */
function hostileBody(template: unknown, model: string | null): fc.Arbitrary<string> {
  const shaped = mutated(template, 5).map((v) => {
    if (model !== null && v !== null && typeof v === "object" && !Array.isArray(v) && (v as { model?: unknown }).model === "M")
      (v as { model: string }).model = model;
    return JSON.stringify(v) ?? "";
  });
  return fc.oneof(
    { weight: 8, arbitrary: shaped },
    { weight: 1, arbitrary: notJson },
    { weight: 1, arbitrary: wrongValue.map((v) => JSON.stringify(v) ?? "") },
  );
}

for (const client of DIALECT_NAMES)
  test(`fuzz: a hostile ${client} request is read or refused with RequestValidationError, and writes to every upstream dialect`, () => {
    fc.assert(
      fc.property(
        mutated(CHAT_TEMPLATE[client], 5),
        fc.boolean(),
        fc.constantFrom<"drop" | "reject">("drop", "reject"),
        (body, stream, onUnsupported) => {
          let req;
          try {
            req = DIALECTS[client].fromClientRequest(body, { model: "m", stream });
          } catch (err) {
            assert.ok(err instanceof RequestValidationError, `${client}: ${(err as Error).stack ?? String(err)}`);
            return;
          }
          for (const wire of DIALECT_NAMES) {
            try {
              const out = DIALECTS[wire].toUpstreamRequest(req, { model: "m", onUnsupported, streamUsage: true });
              assert.equal(typeof JSON.stringify(out.body), "string");
            } catch (err) {
              assert.ok(err instanceof UnsupportedFieldError, `${client} → ${wire}: ${(err as Error).stack ?? String(err)}`);
            }
          }
        },
      ),
      { seed: 0xb0d + client.length, numRuns: 1_500 },
    );
  });

// ─── over HTTP ──────────────────────────────────────────────────────────────────────────────

const sims = {
  openai: await startSimProvider({ dialect: "openai", name: "openai" }),
  anthropic: await startSimProvider({ dialect: "anthropic", name: "anthropic" }),
  gemini: await startSimProvider({ dialect: "gemini", name: "gemini" }),
  rest: await startSimProvider({ dialect: "rest", name: "rest" }),
};
const KEYS = { openai: "sk-fuzz-body-0001", anthropic: "sk-ant-fuzz-0001", gemini: "gk-fuzz-body-0001" };
const gw = await startGateway({
  server: { max_body_bytes: 256 * 1024 },
  routes: [
    ...DIALECT_NAMES.flatMap((client) =>
      DIALECT_NAMES.map((wire) => ({
        name: `${client}-${wire}`,
        surface: client,
        models: [`${wire}-model`],
        targets: [{ id: `${client}-${wire}`, provider: wire, base_url: sims[wire].url, key: KEYS[wire] }],
      })),
    ),
    {
      name: "api",
      surface: "rest" as const,
      service: "api",
      targets: [{ id: "rest", provider: "rest" as const, base_url: sims.rest.url }],
    },
  ],
});
const pool = new Pool(gw.url, { connections: 4 });
after(async () => {
  await pool.close();
  await gw.close();
  await Promise.all(Object.values(sims).map((s) => s.close()));
});

interface Sent {
  surface: Surface;
  path: string;
  method: string;
  contentType: string;
  body: string;
}

async function send(s: Sent): Promise<{ status: number; text: string; error: string | undefined }> {
  const res = await pool.request({
    path: s.path,
    method: s.method,
    headers: s.contentType === "" ? {} : { "content-type": s.contentType },
    body: s.body,
  });
  const text = await res.body.text();
  const error = res.headers["x-switchyard-error"];
  return { status: res.statusCode, text, error: typeof error === "string" ? error : undefined };
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant("application/json") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      "text/plain",
      "application/json; charset=utf-8",
      "application/vnd.api+json",
      "multipart/form-data",
      "application/jsonx",
    ),
  },
);

function sentFor(client: Dialect, wire: Dialect, body: string, ct: string, stream: boolean): Sent {
  const model = `${wire}-model`;
  if (client === "gemini")
    return {
      surface: "gemini",
      path: `/v1beta/models/${model}:${stream ? "streamGenerateContent" : "generateContent"}`,
      method: "POST",
      contentType: ct,
      body,
    };
  return { surface: client, path: client === "openai" ? "/v1/chat/completions" : "/v1/messages", method: "POST", contentType: ct, body };
}

/** What every hostile request must get: a 2xx or 3xx answer, or a 4xx in the surface's dialect; no 5xx. */
function check(s: Sent, r: { status: number; text: string; error: string | undefined }): void {
  const what = `${s.method} ${s.path} [${s.contentType}] ${s.body.slice(0, 200)} → ${r.status} ${r.text.slice(0, 300)}`;
  assert.ok(r.status < 500, what);
  if (r.status >= 400 && r.error !== undefined) {
    let body: unknown;
    assert.doesNotThrow(() => (body = JSON.parse(r.text)), what);
    assert.ok(isDialectError(s.surface, r.status, body), what);
  }
}

for (const client of DIALECT_NAMES)
  test(`fuzz over HTTP: hostile ${client} bodies, to upstreams of every dialect, get an answer or a 4xx in the ${client} dialect`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...DIALECT_NAMES).chain((wire) =>
          fc.record({
            wire: fc.constant(wire),
            body: hostileBody(CHAT_TEMPLATE[client], `${wire}-model`),
            ct: contentType,
            stream: fc.boolean(),
          }),
        ),
        async ({ wire, body, ct, stream }) => {
          const s = sentFor(client, wire, body, ct, stream);
          check(s, await send(s));
        },
      ),
      { seed: 0x4777 + client.length, numRuns: 250 },
    );
    const ok = await send(sentFor(client, "openai", JSON.stringify(good(client)), "application/json", false));
    assert.equal(ok.status, 200, ok.text);
  });

test("fuzz over HTTP: hostile embeddings bodies get an answer or an OpenAI 4xx", async () => {
  await fc.assert(
    fc.asyncProperty(hostileBody(OPENAI_EMBEDDINGS, "openai-model"), contentType, async (body, ct) => {
      const s: Sent = { surface: "openai", path: "/v1/embeddings", method: "POST", contentType: ct, body };
      check(s, await send(s));
    }),
    { seed: 0xe3b, numRuns: 200 },
  );
});

test("fuzz over HTTP: hostile REST requests (any body, type, method, sub-path) get an answer or a REST 4xx", async () => {
  const segment = fc.oneof(
    fc.stringMatching(/^[a-zA-Z0-9._~-]{1,8}$/),
    fc.constantFrom("..", ".", "%2e%2e", "%2F", "%00", "%E0", "a%20b", "%", "~", "@x"),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(segment, { maxLength: 4 }).map((segs) => `/rest/api/${segs.join("/")}`),
      fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
      fc.oneof(
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        notJson,
      ),
      contentType,
      async (path, method, body, ct) => {
        const withBody = method !== "GET" && method !== "HEAD";
        const s: Sent = { surface: "rest", path, method, contentType: ct, body: withBody ? body : "" };
        const r = await send({ ...s, body: withBody ? body : (undefined as unknown as string) });
        if (method === "HEAD") assert.ok(r.status < 500, `${method} ${path} → ${r.status}`);
        else check(s, r);
      },
    ),
    { seed: 0x7e57, numRuns: 300 },
  );
});

function good(client: Dialect): unknown {
  switch (client) {
    case "openai":
      return { model: "openai-model", messages: [{ role: "user", content: "hi" }] };
    case "anthropic":
      return { model: "openai-model", max_tokens: 8, messages: [{ role: "user", content: "hi" }] };
    case "gemini":
      return { contents: [{ role: "user", parts: [{ text: "hi" }] }] };
  }
}
