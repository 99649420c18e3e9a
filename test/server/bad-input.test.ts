import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { Pool } from "undici";
import { chatBody } from "../helpers/harness.js";
import { simRoute } from "../helpers/sim-route.js";

const f = await simRoute({
  config: { server: { max_body_bytes: 64 * 1024 } },
  sims: [{ dialect: "openai", name: "ok" }],
  target: [{ id: "ok", key: "sk-bad-input-0001" }],
});
const { gw } = f;
const client = new Pool(gw.url, { connections: 8 });
after(async () => {
  await client.close();
  await f.close();
});

interface Case {
  name: string;
  method?: "GET" | "POST" | "PUT";
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  code: string;
  message: RegExp;
}

const big = Buffer.alloc(65 * 1024, "a");
const cases: Case[] = [
  { name: "malformed JSON", body: '{"model": "demo", "messages": [', status: 400, code: "invalid_json", message: /not valid JSON/ },
  {
    name: "wrong content type",
    headers: { "content-type": "text/plain" },
    body: JSON.stringify(chatBody()),
    status: 415,
    code: "unsupported_media_type",
    message: /Content-Type must be application\/json \(got "text\/plain"\)/,
  },
  {
    name: "unknown route",
    path: "/v1/chat/complete",
    body: "{}",
    status: 404,
    code: "unknown_route",
    message: /no route for POST \/v1\/chat\/complete/,
  },
  { name: "body over the limit", body: big, status: 413, code: "body_too_large", message: /larger than the limit of 65536 bytes/ },
  { name: "missing model", body: JSON.stringify({ messages: [] }), status: 400, code: "missing_model", message: /no model/ },
  {
    name: "unknown model",
    body: JSON.stringify(chatBody("gpt-9")),
    status: 404,
    code: "unknown_model",
    message: /model "gpt-9" is not served/,
  },
  {
    name: "model of the wrong type",
    body: JSON.stringify({ model: 7, messages: [] }),
    status: 400,
    code: "invalid_request",
    message: /model: must be a string/,
  },
  {
    name: "messages not an array",
    body: JSON.stringify({ model: "demo", messages: "hi" }),
    status: 400,
    code: "invalid_request",
    message: /messages: must be an array/,
  },
  {
    name: "stream of the wrong type",
    body: JSON.stringify(chatBody("demo", { stream: "yes" })),
    status: 400,
    code: "invalid_request",
    message: /stream: must be a boolean/,
  },
  { name: "a JSON array body", body: "[1,2]", status: 400, code: "invalid_request", message: /must be a JSON object/ },
  { name: "empty body", body: "", status: 400, code: "invalid_json", message: /empty/ },
  {
    name: "wrong method",
    method: "GET",
    path: "/v1/chat/completions",
    status: 405,
    code: "method_not_allowed",
    message: /GET is not allowed/,
  },
];

async function send(c: Case) {
  const res = await client.request({
    method: c.method ?? "POST",
    path: c.path ?? "/v1/chat/completions",
    headers: { "content-type": "application/json", ...c.headers },
    body: c.method === "GET" ? undefined : c.body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

for (const c of cases) {
  test(`bad input: ${c.name} → ${c.status} ${c.code} in the OpenAI error shape`, async () => {
    const r = await send(c);
    assert.equal(r.status, c.status, r.text);
    const body = JSON.parse(r.text);
    assert.equal(body.error.code, c.code);
    assert.equal(typeof body.error.type, "string");
    assert.ok("param" in body.error);
    assert.match(body.error.message, c.message);
    assert.equal(r.headers["x-switchyard-error"], c.code);
  });
}

test("a body over the limit without Content-Length (chunked) is refused too", async () => {
  const res = await client.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body: Readable.from(
      (function* () {
        for (let i = 0; i < 10; i++) yield Buffer.alloc(10 * 1024, "x");
      })(),
    ),
  });
  assert.equal(res.statusCode, 413);
  assert.equal(((await res.body.json()) as any).error.code, "body_too_large");
});

test("1,000 bad requests in a row, then good ones are still served", async () => {
  let bad = 0;
  const queue = Array.from({ length: 1000 }, (_, i) => cases[i % cases.length]!);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let c = queue.pop(); c !== undefined; c = queue.pop()) {
        const r = await send(c);
        assert.equal(r.status, c.status);
        bad++;
      }
    }),
  );
  assert.equal(bad, 1000);
  for (let i = 0; i < 20; i++) {
    const r = await send({ name: "good", body: JSON.stringify(chatBody()), status: 200, code: "", message: /./ });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(JSON.parse(r.text).choices));
  }
  const health = await fetch(`${gw.url}/healthz`);
  assert.equal(health.status, 200);
});
