/**
 * The bar: 10,000 generated hostile requests, each a clear 4xx (or, for raw garbage, a
 * 4xx or a closed connection), the process alive, its memory flat, and the good requests sent
 * between them all served.
 *
 * The gateway runs as its own process (the CLI through tsx, with a config file), so its RSS is
 * its own; the inspector (on 127.0.0.1, this test only) lets the test force a garbage collection
 * before each reading. The upstreams are simulators in this process.
 *
 * RSS bound: after a warm-up of 1,000 requests (pools, JIT, buffers at their working size), the
 * 10,000 hostile ones may add less than 30 MB. A leak of 3 KB per request (a context, a body, a
 * socket kept) would pass that; heap churn between two forced collections stays well under it.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { Pool, WebSocket } from "undici";
import type { Surface } from "../../src/config/schema.js";
import { surfaceOfPath } from "../../src/server/router.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startCli } from "../helpers/cli.js";
import { isDialectError } from "../helpers/dialect-error.js";
import { notJson } from "./hostile-json.js";

const HOSTILE = 10_000;
const WARM_UP = 1_000;
const GOOD_EVERY = 100;
const CONCURRENCY = 16;
const RSS_BOUND_MB = 30;
const BODY_LIMIT = 64 * 1024;
const MAX_HEADERS = 50;

// ─── the gateway under test ─────────────────────────────────────────────────────────────────

const openai = await startSimProvider({ dialect: "openai", name: "openai" });
const rest = await startSimProvider({ dialect: "rest", name: "rest" });
const dir = mkdtempSync(join(tmpdir(), "switchyard-hostile-"));
const file = join(dir, "switchyard.yaml");
// Anthropic and Gemini clients are translated to the OpenAI simulator: their bodies are read in full.
writeFileSync(
  file,
  `server: { port: 0, max_body_bytes: ${BODY_LIMIT}, max_headers: ${MAX_HEADERS}, max_header_bytes: 8192, headers_timeout_ms: 5000, request_timeout_ms: 10000 }
log: { level: warn }
store: { path: ":memory:" }
routes:
  - { name: chat, surface: openai, models: [demo], targets: [{ id: oai, provider: openai, base_url: "${openai.url}", key: sk-hostile-0001 }] }
  - { name: messages, surface: anthropic, models: [demo], targets: [{ id: ant, provider: openai, base_url: "${openai.url}", key: sk-hostile-0002 }] }
  - { name: gemini, surface: gemini, models: [demo], targets: [{ id: gem, provider: openai, base_url: "${openai.url}", key: sk-hostile-0003 }] }
  - { name: api, surface: rest, service: api, targets: [{ id: rest, provider: rest, base_url: "${rest.url}" }] }
`,
);
const READY = /listening on (http:\/\/\S+) \(/;
const cli = await startCli(["start", "--config", file], READY, { NODE_OPTIONS: "--inspect=127.0.0.1:0" });
const url = READY.exec(cli.output())?.[1] as string;
const pid = cli.child.pid as number;
const pool = new Pool(url, { connections: CONCURRENCY, headersTimeout: 30_000, bodyTimeout: 30_000 });
after(async () => {
  await pool.close();
  cli.child.kill("SIGTERM");
  await cli.exited;
  await openai.close();
  await rest.close();
  rmSync(dir, { recursive: true, force: true });
});

// ─── the requests ───────────────────────────────────────────────────────────────────────────

interface HttpCase {
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer | undefined;
  /** The dialect an error body must be in. */
  readonly surface: Surface;
}
interface RawCase {
  readonly kind: string;
  readonly raw: Buffer;
}
type Case = HttpCase | RawCase;

const JSON_CT = { "content-type": "application/json" };
const LLM = [
  { path: "/v1/chat/completions", surface: "openai" as Surface },
  { path: "/v1/embeddings", surface: "openai" as Surface },
  { path: "/v1/messages", surface: "anthropic" as Surface },
  { path: "/v1beta/models/demo:generateContent", surface: "gemini" as Surface },
];
const llm = fc.constantFrom(...LLM);
const http = (
  kind: string,
  method: string,
  path: string,
  surface: Surface,
  body?: string | Buffer,
  headers: Record<string, string> = JSON_CT,
): HttpCase => ({
  kind,
  method,
  path,
  headers,
  body,
  surface,
});

/** Not a JSON value: whatever it starts as, a trailing "{" makes it invalid. */
const badJson = fc.tuple(llm, notJson).map(([e, s]) => http("malformed JSON", "POST", e.path, e.surface, `${s}{`));

/** A value of a JSON type that no checked field takes (model: string, messages/contents: list, stream: boolean). */
const notString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
const notList = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.string({ maxLength: 8 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
const notBool = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 2 }));
const msgs = [{ role: "user", content: "hi" }];
const wrongTypes = fc.oneof(
  notString.map((m) =>
    http("model of the wrong type", "POST", "/v1/chat/completions", "openai", JSON.stringify({ model: m, messages: msgs })),
  ),
  notList.map((m) =>
    http("messages of the wrong type", "POST", "/v1/chat/completions", "openai", JSON.stringify({ model: "demo", messages: m })),
  ),
  notBool.map((s) =>
    http(
      "stream of the wrong type",
      "POST",
      "/v1/chat/completions",
      "openai",
      JSON.stringify({ model: "demo", stream: s, messages: msgs }),
    ),
  ),
  notString.map((m) =>
    http("embeddings model of the wrong type", "POST", "/v1/embeddings", "openai", JSON.stringify({ model: m, input: "x" })),
  ),
  fc.constant(http("embeddings without input", "POST", "/v1/embeddings", "openai", JSON.stringify({ model: "demo" }))),
  notList.map((m) =>
    http(
      "anthropic messages of the wrong type",
      "POST",
      "/v1/messages",
      "anthropic",
      JSON.stringify({ model: "demo", max_tokens: 8, messages: m }),
    ),
  ),
  notString.map((r) =>
    http(
      "anthropic role of the wrong type",
      "POST",
      "/v1/messages",
      "anthropic",
      JSON.stringify({ model: "demo", max_tokens: 8, messages: [{ role: r, content: "hi" }] }),
    ),
  ),
  notList.map((c) =>
    http("gemini contents of the wrong type", "POST", "/v1beta/models/demo:generateContent", "gemini", JSON.stringify({ contents: c })),
  ),
  fc
    .string({ maxLength: 12 })
    .map((m) => http("unknown model", "POST", "/v1/chat/completions", "openai", JSON.stringify({ model: `zz-${m}`, messages: msgs }))),
  fc
    .string({ maxLength: 12 })
    .map((m) =>
      http(
        "unknown gemini model",
        "POST",
        `/v1beta/models/zz-${encodeURIComponent(m)}:generateContent`,
        "gemini",
        JSON.stringify({ contents: [] }),
      ),
    ),
);

/** Big and deep, within the body limit: the parser and the checks must stay linear and bounded. */
const bigAndDeep = fc.oneof(
  fc
    .integer({ min: 100, max: 20_000 })
    .map((d) =>
      http("model nested deep", "POST", "/v1/chat/completions", "openai", `{"model":${"[".repeat(d)}${"]".repeat(d)},"messages":[]}`),
    ),
  fc
    .integer({ min: 1_000, max: 30_000 })
    .map((d) => http("nesting past the parser", "POST", "/v1/messages", "anthropic", `${"[".repeat(d)}${"]".repeat(d)}`)),
  fc
    .integer({ min: 1_000, max: BODY_LIMIT - 100 })
    .map((n) =>
      http("a huge model name", "POST", "/v1/chat/completions", "openai", JSON.stringify({ model: "z".repeat(n), messages: msgs })),
    ),
  fc.integer({ min: 100, max: 5_000 }).map((n) => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < n; i++) wide[`k${i}`] = i;
    return http("a wide body without model", "POST", "/v1/chat/completions", "openai", JSON.stringify(wide));
  }),
  fc
    .integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 2 })
    .map((n) => http("a body over the limit", "POST", "/v1/chat/completions", "openai", "x".repeat(n))),
  fc
    .uint8Array({ minLength: 1, maxLength: 16 })
    .map((bytes) =>
      http(
        "invalid UTF-8 in the model",
        "POST",
        "/v1/chat/completions",
        "openai",
        Buffer.concat([Buffer.from('{"model":"zz'), Buffer.from(bytes.map((b) => 0x80 | b)), Buffer.from('","messages":[]}')]),
      ),
    ),
);

const segment = fc.stringMatching(/^[a-zA-Z0-9._~-]{1,10}$/);
const unknownRoute = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/zz/${s.join("/")}`),
  segment.map((s) => `/v1/zz${s}`),
  segment.map((s) => `/v1beta/zz${s}`),
  segment.map((s) => `/rest/zz${s}/x`),
);
const routes = fc
  .tuple(unknownRoute, fc.constantFrom("GET", "POST", "DELETE"))
  .map(([p, m]) => http("unknown route", m, p, surfaceOfPath(p), m === "POST" ? "{}" : undefined));

const badMethod = fc
  .tuple(llm, fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "TRACE", "FOO"))
  .map(([e, m]) =>
    http(
      "method not allowed",
      m,
      e.path,
      e.surface,
      m === "GET" || m === "DELETE" || m === "TRACE" || m === "FOO" ? undefined : JSON.stringify({ model: "demo", messages: msgs }),
    ),
  );

const badEscape = fc.oneof(
  fc
    .constantFrom("%E0", "%zz", "%", "%E0%A4%A", "a%FFb", "%C0%AF")
    .map((e) => http("bad percent-escape (gemini model)", "POST", `/v1beta/models/${e}:generateContent`, "gemini", "{}")),
  fc
    .constantFrom("%E0", "%zz", "%")
    .map((e) => http("bad percent-escape (admin)", "POST", `/admin/routes/${e}/targets/x/enable`, "rest", undefined, {})),
  fc
    .constantFrom("%2e%2e", "..", "a%2fb", "a%5cb", ".%2E")
    .map((e) => http("a REST path that climbs", "GET", `/rest/api/${e}/x`, "rest", undefined, {})),
);

const wrongType = fc
  .tuple(
    llm,
    fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "text/json"),
  )
  .map(([e, ct]) =>
    http("wrong content type", "POST", e.path, e.surface, JSON.stringify({ model: "demo", messages: msgs }), { "content-type": ct }),
  );

/** Extra headers within the limits (the request's own count against max_headers), on top of an otherwise hostile request. */
const headerBomb = fc
  .tuple(fc.oneof(badJson, wrongTypes, badMethod), fc.integer({ min: 10, max: MAX_HEADERS - 6 }), fc.integer({ min: 1, max: 100 }))
  .map(([c, n, len]) => {
    const headers = { ...c.headers };
    for (let i = 0; i < n; i++) headers[`x-bomb-${i}`] = "b".repeat(len);
    return { ...c, kind: `${c.kind} + ${n} headers`, headers };
  });
const overHeaders = fc.oneof(
  llm.map((e) => {
    const headers: Record<string, string> = { ...JSON_CT };
    for (let i = 0; i < MAX_HEADERS + 5; i++) headers[`x-many-${i}`] = "m";
    return http("headers over max_headers", "POST", e.path, e.surface, "{}", headers);
  }),
  llm.map((e) => http("headers over max_header_bytes", "POST", e.path, e.surface, "{}", { ...JSON_CT, "x-big": "g".repeat(9_000) })),
);

/** Bytes no HTTP client sends: garbage, smuggling shapes, requests cut short. */
const raw = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => ({ kind: "raw bytes", raw: Buffer.from(b) })),
  fc
    .constantFrom(
      "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd",
      "GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a: a\r\n b\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
      "GET /v1/models HTTP/1.1\nhost: x\n\n",
      "GET /v1/\x01models HTTP/1.1\r\nhost: x\r\n\r\n",
      "GET /v1/m\xffodels HTTP/1.1\r\nhost: x\r\n\r\n",
      "GET /v1/models HTTP/9.9\r\nhost: x\r\n\r\n",
      "GET /v1/models HTTP/1.1\r\n\r\n",
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"model"',
      "GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    )
    .map((s) => ({ kind: "raw request", raw: Buffer.from(s, "latin1") })),
);

const hostile: fc.Arbitrary<Case> = fc.oneof(
  { weight: 15, arbitrary: badJson },
  { weight: 20, arbitrary: wrongTypes },
  { weight: 8, arbitrary: bigAndDeep },
  { weight: 10, arbitrary: routes },
  { weight: 10, arbitrary: badMethod },
  { weight: 8, arbitrary: badEscape },
  { weight: 5, arbitrary: wrongType },
  { weight: 12, arbitrary: headerBomb },
  { weight: 2, arbitrary: overHeaders },
  { weight: 5, arbitrary: raw },
);

const GOOD: readonly HttpCase[] = [
  http("good", "POST", "/v1/chat/completions", "openai", JSON.stringify({ model: "demo", messages: msgs })),
  http("good", "POST", "/v1/messages", "anthropic", JSON.stringify({ model: "demo", max_tokens: 8, messages: msgs })),
  http(
    "good",
    "POST",
    "/v1beta/models/demo:generateContent",
    "gemini",
    JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
  ),
  http("good", "GET", "/rest/api/quote?symbol=IBM", "rest", undefined, {}),
  http("good", "POST", "/v1/embeddings", "openai", JSON.stringify({ model: "demo", input: "hi" })),
];

// ─── sending ────────────────────────────────────────────────────────────────────────────────

interface Result {
  kind: string;
  good: boolean;
  status: number;
  /** Raw: the connection was closed without an answer. */
  closed: boolean;
  problem: string;
}

async function sendHttp(c: HttpCase): Promise<{ status: number; text: string; type: string }> {
  const res = await pool.request({ method: c.method, path: c.path, headers: c.headers, body: c.body });
  const text = await res.body.text();
  const type = res.headers["content-type"];
  return { status: res.statusCode, text, type: typeof type === "string" ? type : "" };
}

function sendRaw(bytes: Buffer): Promise<{ status: number; closed: boolean }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    let out = "";
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(out);
      resolve({ status: m ? Number(m[1]) : 0, closed: true });
    };
    s.setEncoding("latin1");
    s.on("data", (d: string) => (out += d));
    s.on("end", finish);
    s.on("close", finish);
    s.on("error", finish);
    // Written whole, then the write side closed: an unfinished request meets the end of its stream.
    s.end(bytes);
  });
}

async function run(c: Case, good: boolean): Promise<Result> {
  if ("raw" in c) {
    const r = await sendRaw(c.raw);
    const ok = r.status === 0 || (r.status >= 400 && r.status < 500);
    return {
      kind: c.kind,
      good,
      status: r.status,
      closed: r.status === 0,
      problem: ok ? "" : `raw ${JSON.stringify(c.raw.toString("latin1").slice(0, 80))} → ${r.status}`,
    };
  }
  let r;
  try {
    r = await sendHttp(c);
  } catch (err) {
    return { kind: c.kind, good, status: 0, closed: true, problem: `${c.method} ${c.path}: ${(err as Error).message}` };
  }
  const what = `${c.kind}: ${c.method} ${c.path.slice(0, 80)} → ${r.status} ${r.text.slice(0, 200)}`;
  if (good) return { kind: c.kind, good, status: r.status, closed: false, problem: r.status === 200 ? "" : what };
  if (r.status < 400 || r.status >= 500) return { kind: c.kind, good, status: r.status, closed: false, problem: what };
  if (r.text.length > 0 && r.type.startsWith("application/json")) {
    let body: unknown;
    try {
      body = JSON.parse(r.text);
    } catch {
      return { kind: c.kind, good, status: r.status, closed: false, problem: `not JSON: ${what}` };
    }
    if (!isDialectError(c.surface, r.status, body))
      return { kind: c.kind, good, status: r.status, closed: false, problem: `not ${c.surface}'s error shape: ${what}` };
  }
  return { kind: c.kind, good, status: r.status, closed: false, problem: "" };
}

/** Sends the cases with at most CONCURRENCY in flight, a good request after every GOOD_EVERY hostile ones. */
async function send(cases: readonly Case[]): Promise<Result[]> {
  const queue: { c: Case; good: boolean }[] = [];
  cases.forEach((c, i) => {
    queue.push({ c, good: false });
    if ((i + 1) % GOOD_EVERY === 0) queue.push({ c: GOOD[((i / GOOD_EVERY) % GOOD.length) | 0] as HttpCase, good: true });
  });
  const results: Result[] = [];
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const item = queue[next++] as { c: Case; good: boolean };
      results.push(await run(item.c, item.good));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

// ─── memory ─────────────────────────────────────────────────────────────────────────────────

/** Talks to the gateway's inspector: forces full collections, reads the heap. */
async function inspector<T>(fn: (call: (method: string) => Promise<any>) => Promise<T>): Promise<T> {
  const ws = /Debugger listening on (ws:\/\/\S+)/.exec(cli.output())?.[1];
  assert.ok(ws !== undefined, "the gateway's inspector is listening");
  const socket = new WebSocket(ws);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error("inspector connection failed")), { once: true });
  });
  let id = 0;
  const pending = new Map<number, (v: any) => void>();
  socket.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const call = (method: string) =>
    new Promise<any>((resolve) => {
      pending.set(++id, resolve);
      socket.send(JSON.stringify({ id, method }));
    });
  try {
    return await fn(call);
  } finally {
    socket.close();
  }
}

/** RSS (kB → MB) and V8 heap after two forced full collections and a short rest. */
async function settledMemory(): Promise<{ rssMb: number; heapMb: number }> {
  return inspector(async (call) => {
    await call("HeapProfiler.collectGarbage");
    await new Promise((r) => setTimeout(r, 300));
    await call("HeapProfiler.collectGarbage");
    const heap = (await call("Runtime.getHeapUsage")) as { usedSize: number };
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    return { rssMb: kb / 1024, heapMb: heap.usedSize / 1024 / 1024 };
  });
}

// ─── the test ───────────────────────────────────────────────────────────────────────────────

test(`${HOSTILE} hostile requests: each a 4xx in its dialect (or a closed connection for raw garbage), good ones all served, the process alive, RSS flat`, async () => {
  const started = performance.now();
  const warm = fc.sample(hostile, { numRuns: WARM_UP, seed: 0x3a11 });
  const warmResults = await send(warm);
  assert.deepEqual(warmResults.filter((r) => r.problem !== "").slice(0, 5), []);
  const before = await settledMemory();

  const cases = fc.sample(hostile, { numRuns: HOSTILE, seed: 0x4057 });
  const results = await send(cases);
  const after = await settledMemory();
  const seconds = (performance.now() - started) / 1000;

  const problems = results.filter((r) => r.problem !== "");
  assert.deepEqual(
    problems.slice(0, 10).map((r) => r.problem),
    [],
    `${problems.length} of ${results.length} requests were not answered as they should be`,
  );
  const hostileResults = results.filter((r) => !r.good);
  const good = results.filter((r) => r.good);
  assert.equal(hostileResults.length, HOSTILE);
  assert.equal(good.length, HOSTILE / GOOD_EVERY);
  assert.ok(good.every((r) => r.status === 200));

  // Alive: the process is there and still serves.
  assert.equal(cli.child.exitCode, null);
  process.kill(pid, 0);
  const health = await pool.request({ method: "GET", path: "/healthz" });
  assert.equal(health.statusCode, 200);
  await health.body.text();
  // Nothing the gateway took for its own bug.
  assert.doesNotMatch(cli.output(), /"level":50|internal error/);

  const grew = after.rssMb - before.rssMb;
  const byStatus: Record<string, number> = {};
  for (const r of hostileResults)
    byStatus[r.closed ? "closed" : String(r.status)] = (byStatus[String(r.closed ? "closed" : r.status)] ?? 0) + 1;
  const report = {
    hostile: hostileResults.length,
    raw_socket: cases.filter((c) => "raw" in c).length,
    good: good.length,
    seconds: Math.round(seconds * 10) / 10,
    rss_mb: { before: round(before.rssMb), after: round(after.rssMb), grew: round(grew) },
    heap_mb: { before: round(before.heapMb), after: round(after.heapMb) },
    by_status: byStatus,
  };
  console.log(`# hostile-requests ${JSON.stringify(report)}`);
  assert.ok(grew < RSS_BOUND_MB, `RSS grew ${round(grew)} MB (bound ${RSS_BOUND_MB} MB): ${JSON.stringify(report)}`);
});

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
