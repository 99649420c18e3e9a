/**
 * The HTTP server and the library are two fronts over one request pipeline: every behaviour of a
 * request (the deadline, the queue priority, REST path checks, body limits, admission, headers,
 * translation warnings, the request event) comes out the same through both. Each row runs once
 * through each front and the two results, and the two request events, must be equal.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { GatewayError } from "../../src/index.js";
import type { RequestRecord } from "../../src/core/events.js";
import type { InProcessRequest } from "../../src/pipeline/library.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway } from "../helpers/harness.js";
import { Client } from "undici";

const oai = await startSimProvider({ dialect: "openai", name: "oai", latency_ms: 2 });
const slow = await startSimProvider({ dialect: "openai", name: "slow", latency_ms: 2_000 });
const claude = await startSimProvider({ dialect: "anthropic", name: "claude" });
const vendor = await startSimProvider({
  dialect: "rest",
  name: "vendor",
  rest_response: (r) => ({ symbol: r.query.symbol ?? null, path: r.path }),
});
const gw = await startGateway({
  server: { max_body_bytes: 2048 },
  routes: [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      targets: [{ id: "oai", provider: "openai", base_url: oai.url, key: "sk-fronts-0001" }],
    },
    {
      name: "slow",
      surface: "openai",
      models: ["slow-model"],
      timeouts: { total_ms: 150 },
      targets: [{ id: "slow", provider: "openai", base_url: slow.url, key: "sk-fronts-0002" }],
    },
    {
      name: "smart",
      surface: "openai",
      models: ["smart"],
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ant-fronts-0003", model: "claude-sonnet-4" }],
    },
    {
      name: "quotes",
      surface: "rest",
      service: "quotes",
      targets: [{ id: "vendor", provider: "rest", base_url: vendor.url, key: "rest-fronts-0004" }],
    },
  ],
});
// An admission step: the seam client keys and limits plug into, run by both fronts.
gw.gateway.use({
  name: "deny-on-header",
  admit(ctx) {
    if (ctx.headers["x-deny"] !== undefined) throw new GatewayError("unauthorized", "denied by the test's admission step");
  },
});
const records: RequestRecord[] = [];
gw.gateway.events.onRequest((r) => records.push(r));
// An undici Client sends the path exactly as given: no client-side normalisation of `%2e%2e`.
const client = new Client(gw.url);
after(async () => {
  await client.close();
  await gw.close();
  for (const s of [oai, slow, claude, vendor]) await s.close();
});

/** What a front gave back, in one shape: enough to say two fronts behaved the same. */
interface Result {
  status: number;
  code: string | null;
  target: string | null;
  attempts: string | null;
  retryAfter: boolean;
  warnings: string | null;
  body: unknown;
}

interface Row {
  name: string;
  /** The server front: method, path (as sent on the wire), headers, body. */
  http: { method: string; path: string; headers?: Record<string, string>; body?: string };
  /** The library front: route name and request. */
  lib: { route: string; req: InProcessRequest };
  /** What both must give. */
  expect: Partial<Result>;
  /** Compare the bodies too (deterministic answers only). */
  sameBody?: boolean;
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "hello fronts" }],
  ...extra,
});

const ROWS: Row[] = [
  {
    name: "a plain chat completion",
    http: { method: "POST", path: "/v1/chat/completions", body: JSON.stringify(chat("demo")) },
    lib: { route: "chat", req: { body: chat("demo") } },
    expect: { status: 200, code: null, target: "oai", attempts: "1", retryAfter: false },
  },
  {
    name: "the route's total_ms deadline: 504 upstream_timeout with Retry-After",
    http: { method: "POST", path: "/v1/chat/completions", body: JSON.stringify(chat("slow-model")) },
    lib: { route: "slow", req: { body: chat("slow-model") } },
    expect: { status: 504, code: "upstream_timeout", retryAfter: true },
  },
  {
    name: "a queue priority that is not one: 400 naming the header",
    http: {
      method: "POST",
      path: "/v1/chat/completions",
      headers: { "x-switchyard-priority": "urgent" },
      body: JSON.stringify(chat("demo")),
    },
    lib: { route: "chat", req: { headers: { "x-switchyard-priority": "urgent" }, body: chat("demo") } },
    expect: { status: 400, code: "invalid_request" },
  },
  {
    name: "a valid queue priority passes",
    http: {
      method: "POST",
      path: "/v1/chat/completions",
      headers: { "x-switchyard-priority": "high" },
      body: JSON.stringify(chat("demo")),
    },
    lib: { route: "chat", req: { headers: { "x-switchyard-priority": "high" }, body: chat("demo") } },
    expect: { status: 200, target: "oai" },
  },
  {
    name: "a REST path with dot segments is refused",
    http: { method: "GET", path: "/rest/quotes/v1/%2e%2e/admin" },
    lib: { route: "quotes", req: { path: "/v1/%2e%2e/admin" } },
    expect: { status: 400, code: "invalid_request" },
  },
  {
    name: "a REST path with an encoded slash is refused",
    http: { method: "GET", path: "/rest/quotes/v1%2Fadmin" },
    lib: { route: "quotes", req: { path: "/v1%2Fadmin" } },
    expect: { status: 400, code: "invalid_request" },
  },
  {
    name: "a REST call with its query",
    http: { method: "GET", path: "/rest/quotes/v1/quote?symbol=IBM" },
    lib: { route: "quotes", req: { path: "/v1/quote?symbol=IBM" } },
    expect: { status: 200, target: "vendor", attempts: "1" },
    sameBody: true,
  },
  {
    name: "a body over server.max_body_bytes: 413",
    http: { method: "POST", path: "/v1/chat/completions", body: JSON.stringify(chat("demo", { pad: "x".repeat(4096) })) },
    lib: { route: "chat", req: { body: chat("demo", { pad: "x".repeat(4096) }) } },
    expect: { status: 413, code: "body_too_large" },
  },
  {
    name: "a body that is not JSON: 400 invalid_json",
    http: { method: "POST", path: "/v1/chat/completions", body: "{not json" },
    lib: { route: "chat", req: { body: "{not json" } },
    expect: { status: 400, code: "invalid_json" },
  },
  {
    name: "a body without a model: 400 missing_model",
    http: { method: "POST", path: "/v1/chat/completions", body: JSON.stringify({ messages: [] }) },
    lib: { route: "chat", req: { body: { messages: [] } } },
    expect: { status: 400, code: "missing_model" },
  },
  {
    name: "an admission step refuses: 401 in the client's dialect, before any attempt",
    http: { method: "POST", path: "/v1/chat/completions", headers: { "x-deny": "1" }, body: JSON.stringify(chat("demo")) },
    lib: { route: "chat", req: { headers: { "x-deny": "1" }, body: chat("demo") } },
    expect: { status: 401, code: "unauthorized", attempts: null },
  },
  {
    name: "a translated answer carries what the translation dropped",
    http: { method: "POST", path: "/v1/chat/completions", body: JSON.stringify(chat("smart", { seed: 7 })) },
    lib: { route: "smart", req: { body: chat("smart", { seed: 7 }) } },
    expect: { status: 200, target: "claude" },
  },
];

async function viaServer(row: Row, requestId: string): Promise<Result> {
  const headers = { "content-type": "application/json", "x-request-id": requestId, ...row.http.headers };
  const r = await client.request({ method: row.http.method, path: row.http.path, headers, body: row.http.body });
  const text = await r.body.text();
  const h = r.headers as Record<string, string | undefined>;
  return {
    status: r.statusCode,
    code: h["x-switchyard-error"] ?? null,
    target: h["x-switchyard-target"] ?? null,
    attempts: h["x-switchyard-attempts"] ?? null,
    retryAfter: h["retry-after"] !== undefined,
    warnings: h["x-switchyard-warnings"] ?? null,
    body: parse(text),
  };
}

async function viaLibrary(row: Row, requestId: string): Promise<Result> {
  const req: InProcessRequest = { ...row.lib.req, headers: { "x-request-id": requestId, ...row.lib.req.headers } };
  if (row.lib.req.method === undefined && row.http.method !== "POST") req.method = row.http.method;
  try {
    const r = await gw.gateway.request(row.lib.route, req);
    const h = r.headers;
    return {
      status: r.status,
      code: null,
      target: stringOrNull(h["x-switchyard-target"]),
      attempts: stringOrNull(h["x-switchyard-attempts"]),
      retryAfter: h["retry-after"] !== undefined,
      warnings: stringOrNull(h["x-switchyard-warnings"]),
      body: r.body,
    };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return {
      status: err.status,
      code: err.code,
      target: null,
      attempts: null,
      retryAfter: err.headers?.["retry-after"] !== undefined,
      warnings: null,
      body: null,
    };
  }
}

for (const row of ROWS) {
  test(`both fronts: ${row.name}`, async () => {
    records.length = 0;
    const server = await viaServer(row, `srv-${row.name.length}`);
    const serverRecord = records.at(-1);
    const library = await viaLibrary(row, `srv-${row.name.length}`);
    const libraryRecord = records.at(-1);
    for (const [k, v] of Object.entries(row.expect)) assert.deepEqual(server[k as keyof Result], v, `server: ${k}`);
    for (const key of ["status", "code", "target", "attempts", "retryAfter", "warnings"] as const) {
      // An error the server answers is a thrown GatewayError in the library: its status, code and
      // Retry-After are what both must share; an answer's headers likewise.
      if (server.code !== null && (key === "target" || key === "attempts" || key === "warnings")) continue;
      assert.deepEqual(
        library[key],
        server[key],
        `${key}: library ${JSON.stringify(library[key])} vs server ${JSON.stringify(server[key])}`,
      );
    }
    if (row.sameBody === true) assert.deepEqual(library.body, server.body);
    assert.ok(
      serverRecord !== undefined && libraryRecord !== undefined && serverRecord !== libraryRecord,
      "each front published a request event",
    );
    // Timings differ from run to run; the attempts are compared by what they were.
    const { durationMs: _a, ttfbMs: _c, overheadMs: _e, tries: triesS, ...s } = serverRecord;
    const { durationMs: _b, ttfbMs: _d, overheadMs: _f, tries: triesL, ...l } = libraryRecord;
    const shape = (tries: typeof triesS) => tries.map((a) => [a.target.id, a.outcome.kind, a.outcome.status, a.number, a.hedge]);
    assert.deepEqual(shape(triesL), shape(triesS));
    assert.deepEqual(l, s, "the same request event from both fronts");
  });
}

test("both fronts: a translation's warnings are named in the header", async () => {
  const row = ROWS.find((r) => r.name.startsWith("a translated answer"))!;
  const server = await viaServer(row, "warn-1");
  assert.match(server.warnings ?? "", /seed/);
});

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function stringOrNull(v: string | string[] | undefined): string | null {
  return typeof v === "string" ? v : null;
}
