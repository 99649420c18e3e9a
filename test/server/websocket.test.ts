/**
 * The WebSocket front (GET /v1/stream): many LLM requests per connection through the same
 * pipeline as HTTP, against a real gateway, simulated providers and a real `ws` client. What it
 * guards: streams equal to HTTP SSE, failover before the first token, upstream calls aborted by
 * a cancel or a closed socket, backpressure down to the upstream, errors in the client's dialect,
 * client keys at the upgrade, the close codes, keepalive, shutdown, and the README example.
 */
import { test, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket, type ClientOptions } from "ws";
import { chatBody, startGateway } from "../helpers/harness.js";
import { simRoute } from "../helpers/sim-route.js";
import { call, rawRequest } from "../helpers/http.js";
import { parseSse } from "../helpers/sse.js";
import { eventually, sleep } from "../helpers/wait.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import type { RequestRecord } from "../../src/core/events.js";

/**
 * A raw OpenAI-compatible upstream streaming BIG_EVENTS events of 16 KB (32 MB: several times what
 * the loopback's socket buffers hold), honouring backpressure, counting what it wrote.
 */
const BIG_EVENTS = 2000;
const PAD = "x".repeat(16_000);
const bigFrame = (i: number): string => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `${i} ${PAD}` } }] })}\n\n`;
let BIG_TOTAL = 0;
for (let i = 0; i < BIG_EVENTS; i++) BIG_TOTAL += bigFrame(i).length;
const big = { written: 0, finished: false };
const bigUpstream: Server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    let i = 0;
    const pump = (): void => {
      while (i < BIG_EVENTS) {
        const frame = bigFrame(i++);
        big.written += frame.length;
        if (!res.write(frame)) return void res.once("drain", pump);
      }
      res.end("data: [DONE]\n\n", () => (big.finished = true));
    };
    pump();
  });
});
await new Promise<void>((resolve) => bigUpstream.listen(0, "127.0.0.1", resolve));
const bigUrl = `http://127.0.0.1:${(bigUpstream.address() as AddressInfo).port}/v1`;

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "paced", stream_chunks: 12, chunk_interval_ms: 5 },
    { dialect: "openai", name: "dropper", drop_after_chunks: 0 },
    { dialect: "openai", name: "backup", stream_chunks: 12, chunk_interval_ms: 5 },
    { dialect: "openai", name: "slow", stream_chunks: 50, chunk_interval_ms: 20 },
    { dialect: "anthropic", name: "claude" },
    { dialect: "gemini", name: "gemini" },
  ],
  routes: ([paced, dropper, backup, slow, claude, gemini]) => [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      targets: [{ id: "paced", provider: "openai", base_url: paced.url, key: "sk-ws-0001" }],
    },
    {
      name: "flaky",
      surface: "openai",
      models: ["flaky"],
      strategy: "tiered",
      retry: { attempts: 2 },
      targets: [
        { id: "dropper", provider: "openai", base_url: dropper.url, key: "sk-ws-0002", tier: 1 },
        { id: "backup", provider: "openai", base_url: backup.url, key: "sk-ws-0003", tier: 2 },
      ],
    },
    {
      name: "slow",
      surface: "openai",
      models: ["slow"],
      targets: [{ id: "slow", provider: "openai", base_url: slow.url, key: "sk-ws-0004" }],
    },
    { name: "big", surface: "openai", models: ["big"], targets: [{ id: "big", provider: "openai", base_url: bigUrl, key: "sk-ws-0005" }] },
    {
      name: "claude",
      surface: "anthropic",
      models: ["claude-demo"],
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ws-0006" }],
    },
    {
      name: "gemini",
      surface: "gemini",
      models: ["gemini-demo"],
      targets: [{ id: "gemini", provider: "gemini", base_url: gemini.url, key: "gm-ws-0007" }],
    },
  ],
});
const [, dropper, , slow] = f.sims;
/** The request events the access log and metrics subscribe to. */
const records: RequestRecord[] = [];
f.gw.gateway.events.onRequest((r) => records.push(r));
after(async () => {
  await f.close();
  await new Promise((resolve) => bigUpstream.close(resolve));
});

const wsUrl = (url: string, query = ""): string => `${url.replace(/^http/, "ws")}/v1/stream${query}`;

type Message = { type: string; id: string | null; status?: number; event?: string; data?: any; body?: any; error?: any; headers?: any };

/** Clients a test opened: whatever it left open (a failed assertion) is cut after it, so the next test starts clean. */
const clients = new Set<StreamClient>();
afterEach(() => {
  for (const c of clients) c.ws.terminate();
  clients.clear();
});

/** A `ws` client that files the gateway's messages by request id. */
class StreamClient {
  readonly log: Message[] = [];
  private readonly waiting = new Map<string | null, (m: Message[]) => void>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse((data as Buffer).toString("utf8")) as Message;
      this.log.push(m);
      const w = this.waiting.get(m.id);
      if (w !== undefined && (m.id === null || m.type === "done" || m.type === "response" || m.type === "error")) {
        this.waiting.delete(m.id);
        w(this.of(m.id));
      }
    });
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
  }

  /** Opens a connection; rejects with the HTTP status and body of a refused upgrade. */
  static open(url: string, options?: ClientOptions): Promise<StreamClient> {
    const ws = new WebSocket(url, options);
    const client = new StreamClient(ws);
    clients.add(client);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += String(c)));
        res.on("end", () =>
          reject(
            Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
              status: res.statusCode,
              body: JSON.parse(text),
              headers: res.headers,
            }),
          ),
        );
      });
      ws.once("error", reject);
    });
  }

  of(id: string | null): Message[] {
    return this.log.filter((m) => m.id === id);
  }

  /** Resolves with every message of `id` once its last one (done, response, error) came; for id null, the next error without id. */
  next(id: string | null): Promise<Message[]> {
    return new Promise((resolve) => this.waiting.set(id, id === null ? (all) => resolve([all.at(-1)!]) : resolve));
  }

  /** Sends a request message and resolves with its messages once it ended. */
  request(id: string, body: unknown, extra: Record<string, unknown> = {}): Promise<Message[]> {
    const answer = this.next(id);
    this.ws.send(JSON.stringify({ type: "request", id, body, ...extra }));
    return answer;
  }

  /** Resolves at the first event message of `id`. */
  firstEvent(id: string): Promise<void> {
    return eventually(() => this.log.some((m) => m.id === id && m.type === "event"), 5000, `a first event of ${id}`);
  }

  close(): Promise<unknown> {
    this.ws.close();
    return this.closed;
  }
}

/** Events without what differs between two identical calls (ids, timestamps). */
function normal(events: { event?: string | undefined; data: unknown }[]): unknown {
  return JSON.parse(JSON.stringify(events, (k, v) => (k === "id" || k === "created" || k === "responseId" ? undefined : v)));
}

function eventsOf(messages: Message[]): { event?: string; data: unknown }[] {
  return messages
    .filter((m) => m.type === "event")
    .map((m) => (m.event === undefined ? { data: m.data } : { event: m.event, data: m.data }));
}

/** The same request over HTTP SSE: its events, `[DONE]` left out as the WebSocket front does. */
async function httpEvents(path: string, body: unknown): Promise<{ event?: string; data: unknown }[]> {
  const r = await call(`${f.url}${path}`, { body });
  assert.equal(r.status, 200);
  return parseSse(r.text)
    .filter((e) => e.data !== "[DONE]")
    .map((e) => (e.event === undefined ? { data: JSON.parse(e.data) } : { event: e.event, data: JSON.parse(e.data) }));
}

const question = (model: string, i: number, extra: Record<string, unknown> = {}) =>
  chatBody(model, { messages: [{ role: "user", content: `question number ${i}` }], ...extra });

test("ten requests over one WebSocket, some concurrent, one failing over before its first token: each gets its whole stream and a done, as over HTTP SSE", async () => {
  const c = await StreamClient.open(wsUrl(f.url));
  const model = (i: number) => (i === 3 ? "flaky" : "demo");
  // r0..r5 at once (r3's first target drops its connection after the 200, before any event), then r6..r9 in turn.
  const answers = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => c.request(`r${i}`, question(model(i), i, { stream: true }))));
  for (let i = 6; i < 10; i++) answers.push(await c.request(`r${i}`, question(model(i), i, { stream: true })));
  await c.close();

  assert.equal(dropper.stats().requests, 1, "the failing target was tried once");
  assert.equal(dropper.stats().dropped, 1);
  for (let i = 0; i < 10; i++) {
    const messages = answers[i]!;
    const last = messages.at(-1)!;
    assert.deepEqual([last.type, last.status], ["done", 200], `r${i} ends with done 200`);
    assert.ok(
      messages.slice(0, -1).every((m) => m.type === "event"),
      `r${i}: events, then done`,
    );
    assert.equal(messages[0]!.headers?.["x-switchyard-target"], i === 3 ? "backup" : "paced", `r${i}'s target, in its first message`);
    assert.equal(messages[0]!.headers?.["x-switchyard-attempts"], i === 3 ? "2" : "1");
    assert.ok(
      messages.slice(1).every((m) => m.headers === undefined),
      "headers only on the first message",
    );
    const events = eventsOf(messages);
    assert.ok(events.length >= 12, `r${i} got its whole stream (${events.length} events)`);
    assert.deepEqual(
      normal(events),
      normal(await httpEvents("/v1/chat/completions", question(model(i), i, { stream: true }))),
      `r${i} as over HTTP`,
    );
  }
  // The concurrent ones were interleaved on the connection, not served one after another.
  const log = c.log;
  const firstOfR1 = log.findIndex((m) => m.id === "r1");
  const doneOfR0 = log.findIndex((m) => m.id === "r0" && m.type === "done");
  assert.ok(firstOfR1 < doneOfR0, "r1 began before r0 ended");
});

test("closing the socket mid-stream aborts the upstream call", async () => {
  slow.resetStats();
  const c = await StreamClient.open(wsUrl(f.url));
  c.ws.send(JSON.stringify({ type: "request", id: "s1", body: question("slow", 1, { stream: true }) }));
  await c.firstEvent("s1");
  await c.close();
  await eventually(() => slow.stats().aborted === 1, 5000, "the upstream call to be aborted");
  assert.equal(slow.stats().completed, 0);
  assert.equal(slow.stats().log[0]?.aborted, true);
});

test("a cancel message aborts its request's upstream call and ends it with 499; the connection serves on", async () => {
  slow.resetStats();
  const c = await StreamClient.open(wsUrl(f.url));
  const answer = c.request("c1", question("slow", 2, { stream: true }));
  await c.firstEvent("c1");
  c.ws.send(JSON.stringify({ type: "cancel", id: "c1" }));
  const last = (await answer).at(-1)!;
  assert.equal(last.type, "error");
  assert.equal(last.status, 499);
  assert.equal(last.error.error.code, "client_closed");
  await eventually(() => slow.stats().aborted === 1, 5000, "the upstream call to be aborted");
  assert.equal(slow.stats().completed, 0);
  // Published with its answer's status, as an HTTP stream whose client left.
  const record = records.find((r) => r.requestId === last.headers["x-request-id"]);
  assert.equal(record?.status, 200);
  // A cancel for an id no longer in flight is ignored; the connection carries on.
  c.ws.send(JSON.stringify({ type: "cancel", id: "c1" }));
  const again = await c.request("c2", question("demo", 2));
  assert.equal(again.length, 1);
  assert.equal(again[0]!.type, "response");
  await c.close();
});

test("a non-streamed request gets one response message with the body HTTP gets", async () => {
  const c = await StreamClient.open(wsUrl(f.url));
  const [m, ...more] = await c.request("n1", question("demo", 7));
  await c.close();
  assert.equal(more.length, 0);
  assert.equal(m!.type, "response");
  assert.equal(m!.status, 200);
  assert.equal(m!.headers["x-switchyard-target"], "paced");
  assert.match(m!.headers["x-request-id"], /^[0-9a-f-]{36}$/);
  // Published like an HTTP request's: the access log and the metrics see it.
  const record = records.find((r) => r.requestId === m!.headers["x-request-id"]);
  assert.ok(record !== undefined, "a request event was published");
  assert.deepEqual(
    [record.method, record.path, record.route, record.target, record.status],
    ["POST", "/v1/chat/completions", "chat", "paced", 200],
  );
  const http = await call(`${f.url}/v1/chat/completions`, { body: question("demo", 7) });
  assert.deepEqual(normal([m!.body]), normal([http.json]));
  assert.equal(m!.body.choices[0].message.content, http.json.choices[0].message.content);
});

test("Anthropic and Gemini paths: named events, and a streamGenerateContent path streamed without a stream field", async () => {
  const c = await StreamClient.open(wsUrl(f.url));
  const claudeBody = { model: "claude-demo", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hello claude" }] };
  const claude = await c.request("a1", claudeBody, { path: "/v1/messages" });
  assert.equal(claude.at(-1)!.type, "done");
  const events = eventsOf(claude);
  assert.equal(events[0]!.event, "message_start");
  assert.equal(events.at(-1)!.event, "message_stop");
  assert.deepEqual(normal(events), normal(await httpEvents("/v1/messages", claudeBody)));

  const geminiBody = { contents: [{ role: "user", parts: [{ text: "hello gemini" }] }] };
  const path = "/v1beta/models/gemini-demo:streamGenerateContent?alt=sse";
  const gemini = await c.request("g1", geminiBody, { path });
  assert.equal(gemini.at(-1)!.type, "done");
  assert.ok(eventsOf(gemini).length > 1);
  assert.deepEqual(normal(eventsOf(gemini)), normal(await httpEvents(path, geminiBody)));
  await c.close();
});

test("a request's own error comes in its dialect with HTTP's status; the connection stays usable", async () => {
  const c = await StreamClient.open(wsUrl(f.url));
  const [openai] = await c.request("e1", question("no-such-model", 1));
  assert.equal(openai!.type, "error");
  assert.equal(openai!.status, 404);
  assert.equal(openai!.error.error.code, "unknown_model");
  assert.equal(openai!.headers["x-switchyard-error"], "unknown_model");
  const http = await call(`${f.url}/v1/chat/completions`, { body: question("no-such-model", 1) });
  assert.deepEqual(openai!.error, http.json);

  const [anthropic] = await c.request("e2", { model: "nope", max_tokens: 8, messages: [] }, { path: "/v1/messages" });
  assert.equal(anthropic!.status, 404);
  assert.equal(anthropic!.error.type, "error");
  assert.equal(anthropic!.error.error.code, "unknown_model");

  const [route] = await c.request("e3", question("demo", 1), { path: "/v1/models" });
  assert.equal(route!.status, 405);
  const [rest] = await c.request("e4", question("demo", 1), { path: "/nowhere" });
  assert.equal(rest!.status, 404);
  assert.equal(rest!.error.error.code, "unknown_route");

  const [ok] = await c.request("e5", question("demo", 1));
  assert.equal(ok!.type, "response");
  await c.close();
});

test("protocol mistakes are error messages (id null when unknown), and the connection stays open", async () => {
  const c = await StreamClient.open(wsUrl(f.url));
  const mistake = async (send: string | Buffer, id: string | null = null): Promise<Message> => {
    const next = c.next(id);
    c.ws.send(send);
    return (await next).at(-1)!;
  };
  const bad = await mistake("{not json");
  assert.deepEqual([bad.type, bad.id, bad.status, bad.error.error.code], ["error", null, 400, "invalid_json"]);
  const binary = await mistake(Buffer.from([1, 2, 3]));
  assert.deepEqual([binary.status, binary.error.error.code], [400, "invalid_request"]);
  assert.match(binary.error.error.message, /binary frames/);
  const noId = await mistake(JSON.stringify({ type: "request", body: {} }));
  assert.match(noId.error.error.message, /^invalid message: id: /);
  const badType = await mistake(JSON.stringify({ type: "hello", id: "x" }), "x");
  assert.match(badType.error.error.message, /type: must be "request" or "cancel"/);
  const badPath = await mistake(JSON.stringify({ type: "request", id: "p1", path: "v1/chat", body: {} }), "p1");
  assert.match(badPath.error.error.message, /path: must start with "\/"/);
  const unknownField = await mistake(JSON.stringify({ type: "request", id: "p2", boby: {} }), "p2");
  assert.equal(unknownField.status, 400);
  const auth = await mistake(JSON.stringify({ type: "request", id: "p3", headers: { Authorization: "Bearer other" }, body: {} }), "p3");
  assert.match(auth.error.error.message, /headers\.authorization: cannot be set per message/);
  const noBody = await mistake(JSON.stringify({ type: "request", id: "p4" }), "p4");
  assert.match(noBody.error.error.message, /body: is required/);
  const emptyBody = await mistake(JSON.stringify({ type: "request", id: "p5", body: "" }), "p5");
  assert.deepEqual([emptyBody.status, emptyBody.error.error.code], [400, "invalid_request"]);

  // A duplicate id in flight: an error without id (the first request goes on), then too many in flight: 429.
  const front = f.gw.server.websocket;
  front.maxInFlight = 2;
  try {
    const d1 = c.request("d1", question("slow", 1, { stream: true }));
    const dup = await mistake(JSON.stringify({ type: "request", id: "d1", body: question("demo", 1) }));
    assert.match(dup.error.error.message, /"d1" is already in flight/);
    const d2 = c.request("d2", question("slow", 2, { stream: true }));
    const [over] = await c.request("d3", question("demo", 3));
    assert.deepEqual([over!.type, over!.status, over!.error.error.code], ["error", 429, "gateway_rate_limited"]);
    c.ws.send(JSON.stringify({ type: "cancel", id: "d1" }));
    c.ws.send(JSON.stringify({ type: "cancel", id: "d2" }));
    assert.equal((await d1).at(-1)!.status, 499);
    assert.equal((await d2).at(-1)!.status, 499);
  } finally {
    front.maxInFlight = 32;
  }
  const [ok] = await c.request("after", question("demo", 1));
  assert.equal(ok!.status, 200);
  await c.close();
});

test("a slow reader pauses the upstream: backpressure reaches the provider, and the whole stream arrives after", async () => {
  big.written = 0;
  big.finished = false;
  const c = await StreamClient.open(wsUrl(f.url));
  const answer = c.request("b1", question("big", 1, { stream: true }));
  await c.firstEvent("b1");
  c.ws.pause();
  // Wait until the upstream stops making progress (its writes wait on drain), then check it is not done.
  let last = -1;
  let still = 0;
  while (still < 8) {
    await sleep(25);
    if (big.written === last) still++;
    else [last, still] = [big.written, 0];
  }
  assert.ok(big.written < BIG_TOTAL, `the upstream wrote its whole stream (${BIG_TOTAL} bytes) while the client read nothing`);
  const held = f.gw.server.websocket.bufferedBytes;
  assert.ok(held < 1024 * 1024, `the gateway holds ${held} bytes for the paused client: its writes did not wait for drain`);
  c.ws.resume();
  const messages = await answer;
  assert.equal(messages.at(-1)!.type, "done");
  assert.equal(eventsOf(messages).length, BIG_EVENTS);
  assert.equal(big.finished, true);
  await c.close();
});

test("a plain GET /v1/stream is 426; other Upgrade requests are served as plain HTTP", async () => {
  const plain = await call(`${f.url}/v1/stream`);
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.upgrade, "websocket");
  assert.equal(plain.json.error.type, "invalid_request_error");
  const body = JSON.stringify(question("demo", 1));
  const h2c = await rawRequest(
    f.url,
    "POST /v1/chat/completions HTTP/1.1",
    {
      connection: "Upgrade, HTTP2-Settings, close",
      upgrade: "h2c",
      "http2-settings": "AAMAAABkAAQAoAAAAAIAAAAA",
      "content-type": "application/json",
    },
    body,
  );
  assert.equal(h2c.status, 200);
  assert.equal(JSON.parse(h2c.body).object, "chat.completion");
  const otherPath = await rawRequest(f.url, "GET /v1/models HTTP/1.1", {
    connection: "Upgrade, close",
    upgrade: "websocket",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
  });
  assert.equal(otherPath.status, 200);
  assert.ok(Array.isArray(JSON.parse(otherPath.body).data));
});

test("keepalive: a peer that never answers pings is terminated, a live one stays", async () => {
  const front = f.gw.server.websocket;
  await eventually(() => front.size === 0, 5000, "earlier connections to close");
  front.pingIntervalMs = 40;
  const dead = connect(Number(new URL(f.url).port), "127.0.0.1");
  try {
    const live = await StreamClient.open(wsUrl(f.url));
    let text = "";
    dead.on("data", (d) => (text += String(d)));
    let deadClosed = false;
    dead.once("close", () => (deadClosed = true));
    dead.write(
      "GET /v1/stream HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
    );
    await eventually(() => text.startsWith("HTTP/1.1 101"), 5000, "the raw handshake");
    await eventually(() => deadClosed, 5000, "the silent peer to be terminated");
    assert.equal(live.ws.readyState, WebSocket.OPEN, "the live client answered the pings");
    const [ok] = await live.request("k1", question("demo", 1));
    assert.equal(ok!.status, 200);
    await live.close();
  } finally {
    dead.destroy();
    front.pingIntervalMs = 30_000;
  }
});

// Client keys, browser origins, the message size limit, the README example: a gateway with keys.
const KEY = "sk-ws-client-key-0001";
const keySim = await startSimProvider({ dialect: "openai", name: "keyed" });
const k = await startGateway({
  server: { max_body_bytes: 4096 },
  client_keys: [{ name: "ws-app", key: KEY }],
  cors: { origins: ["https://app.example.com"] },
  routes: [
    {
      name: "chat",
      surface: "openai",
      models: ["gpt-4o-mini"],
      targets: [{ id: "keyed", provider: "openai", base_url: keySim.url, key: "sk-ws-target-0001" }],
    },
  ],
});
after(async () => {
  await k.close();
  await keySim.close();
});

test("client keys at the upgrade: none or unknown is a plain 401 without upgrade; the Authorization header or ?key= opens", async () => {
  await assert.rejects(StreamClient.open(wsUrl(k.url)), (err: any) => {
    assert.equal(err.status, 401);
    assert.equal(err.body.error.code, "unauthorized");
    assert.match(String(err.headers["www-authenticate"]), /Bearer/);
    return true;
  });
  await assert.rejects(StreamClient.open(wsUrl(k.url), { headers: { authorization: "Bearer sk-wrong-key-0000" } }), (err: any) => {
    assert.equal(err.status, 401);
    assert.ok(!JSON.stringify(err.body).includes("sk-wrong"), "the key sent is not echoed");
    return true;
  });
  const c = await StreamClient.open(wsUrl(k.url), { headers: { authorization: `Bearer ${KEY}` } });
  const [m] = await c.request("k1", chatBody("gpt-4o-mini"));
  assert.equal(m!.status, 200);
  await c.close();
  const q = await StreamClient.open(wsUrl(k.url, `?key=${KEY}`));
  const [m2] = await q.request("k2", chatBody("gpt-4o-mini", { stream: true }));
  assert.equal(m2!.type, "event");
  await q.close();
  assert.ok(
    keySim.stats().log.every((e) => e.key === "sk-ws-target-0001"),
    "the upstream saw the target's key only",
  );
});

test("a browser origin not in cors.origins is refused 403; a listed one opens", async () => {
  const headers = { authorization: `Bearer ${KEY}` };
  await assert.rejects(StreamClient.open(wsUrl(k.url), { headers, origin: "https://evil.example" }), (err: any) => {
    assert.equal(err.status, 403);
    assert.equal(err.body.error.code, "forbidden");
    return true;
  });
  const c = await StreamClient.open(wsUrl(k.url), { headers, origin: "https://app.example.com" });
  await c.close();
});

test("a message larger than server.max_body_bytes closes the connection with 1009", async () => {
  const c = await StreamClient.open(wsUrl(k.url), { headers: { authorization: `Bearer ${KEY}` } });
  c.ws.send(JSON.stringify({ type: "request", id: "big", body: chatBody("gpt-4o-mini", { padding: "x".repeat(5000) }) }));
  const { code } = await c.closed;
  assert.equal(code, 1009);
});

test("README's WebSocket example runs against a gateway and prints the streamed answer", async () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## WebSocket streaming"));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code !== undefined, "the section has a js example");
  const file = join(tmpdir(), `switchyard-ws-example-${process.pid}.mjs`);
  writeFileSync(
    file,
    code
      .replace('from "ws"', `from ${JSON.stringify(import.meta.resolve("ws"))}`)
      .replace("ws://127.0.0.1:8080", wsUrl(k.url).replace("/v1/stream", "")),
  );
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [file], { env: { ...process.env, SWITCHYARD_KEY: KEY }, timeout: 20_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const http = await call(`${k.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${KEY}` },
      body: chatBody("gpt-4o-mini", { messages: [{ role: "user", content: "Hello" }] }),
    });
    assert.equal(out.trim(), http.json.choices[0].message.content.trim());
  } finally {
    rmSync(file, { force: true });
  }
});

test("shutdown: a request in flight finishes, then the connection closes with 1001", async () => {
  const sim = await startSimProvider({ dialect: "openai", name: "draining", stream_chunks: 10, chunk_interval_ms: 20 });
  const g = await startGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "d", provider: "openai", base_url: sim.url, key: "sk-ws-drain-01" }],
      },
    ],
  });
  try {
    const c = await StreamClient.open(wsUrl(g.url));
    const answer = c.request("s1", chatBody("demo", { stream: true }));
    await c.firstEvent("s1");
    const down = g.server.shutdown(10_000);
    const messages = await answer;
    assert.deepEqual([messages.at(-1)!.type, messages.at(-1)!.status], ["done", 200]);
    assert.equal(sim.stats().completed, 1);
    assert.equal((await c.closed).code, 1001);
    await down;
  } finally {
    await g.close();
    await sim.close();
  }
});
