/**
 * The listener's limits against slow and oversized clients (server.headers_timeout_ms,
 * request_timeout_ms, keep_alive_timeout_ms, max_requests_per_socket, max_headers,
 * max_header_bytes), over bare sockets. Timing margins: a slow client here would take 8 s or more
 * to finish, the limits are under a second, so "cut before it finished" holds on a loaded machine.
 */
import { test, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { simRoute } from "../helpers/sim-route.js";
import { rawExchange, rawRequest } from "../helpers/raw-socket.js";

const f = await simRoute({
  config: {
    server: {
      headers_timeout_ms: 500,
      request_timeout_ms: 1_000,
      keep_alive_timeout_ms: 300,
      max_requests_per_socket: 2,
      max_headers: 20,
      max_header_bytes: 4_096,
    },
  },
  sims: [{ dialect: "openai", name: "chat" }],
  target: [{ id: "chat", key: "sk-limits-0001" }],
});
const { url } = f;
const sim = f.sims[0];
after(() => f.close());
beforeEach(() => sim.resetStats());

const CHAT = JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] });
const chat = (headers: string[] = []) =>
  rawRequest(url, "POST", "/v1/chat/completions", ["content-type: application/json", `content-length: ${CHAT.length}`, ...headers], CHAT);
const bytes = (s: string) => s.split("");

test("a slowloris sending its headers a byte every 200 ms is cut with 408 at headers_timeout_ms", async () => {
  const parts = bytes(`GET /v1/models HTTP/1.1\r\nhost: ${new URL(url).host}\r\nx-slow: ${"z".repeat(20)}\r\n\r\n`);
  const r = await rawExchange(url, parts, { gapMs: 200, waitMs: 1_000 });
  assert.deepEqual(r.statuses, [408]);
  assert.ok(r.closedByServer, "the server closed the connection");
  assert.ok(r.written < parts.length, `cut after ${r.written} of ${parts.length} bytes`);
});

test("a body trickling a byte every 200 ms is cut with 408 at request_timeout_ms; the upstream never sees it", async () => {
  const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: ${new URL(url).host}\r\ncontent-type: application/json\r\ncontent-length: ${CHAT.length}\r\n\r\n`;
  const parts = [head, ...bytes(CHAT)];
  const r = await rawExchange(url, parts, { gapMs: 200, waitMs: 1_000 });
  assert.deepEqual(r.statuses, [408]);
  assert.ok(r.closedByServer);
  assert.ok(r.written < parts.length, `cut after ${r.written} of ${parts.length} parts`);
  assert.equal(sim.stats().requests, 0);
});

test("a connection that never sends a byte is closed", async () => {
  const r = await rawExchange(url, [], { waitMs: 8_000 });
  assert.ok(r.closedByServer);
  assert.deepEqual(r.statuses, [408]);
});

test("an idle keep-alive connection is closed after keep_alive_timeout_ms", async () => {
  const r = await rawExchange(url, [chat()], { waitMs: 8_000 });
  assert.deepEqual(r.statuses, [200]);
  assert.ok(r.closedByServer, "closed by the server, long before the client's 8 s");
});

test("max_requests_per_socket: the last answer says connection: close and the server closes", async () => {
  const r = await rawExchange(url, [chat(), chat()], { inTurn: true, waitMs: 8_000 });
  assert.deepEqual(r.statuses, [200, 200]);
  const second = r.text.slice(r.text.lastIndexOf("HTTP/1.1 "));
  assert.match(second, /\r\nconnection: close\r\n/i);
  assert.ok(r.closedByServer);
  assert.equal(sim.stats().requests, 2);
});

test("more than max_headers headers: 431 in the path's dialect; exactly the limit passes", async () => {
  const extra = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: v`);
  // Host, content-type, content-length and connection are four of the twenty.
  const ok = await rawExchange(url, [chat([...extra(16), "connection: close"])]);
  assert.deepEqual(ok.statuses, [200]);
  const over = await rawExchange(url, [chat([...extra(17), "connection: close"])]);
  assert.deepEqual(over.statuses, [431]);
  assert.match(over.text, /x-switchyard-error: invalid_request/);
  const body = JSON.parse(over.text.slice(over.text.indexOf("\r\n\r\n") + 4)) as { error: { message: string; type: string } };
  assert.equal(body.error.type, "invalid_request_error", "OpenAI's error shape");
  assert.match(body.error.message, /more than 20 headers \(server\.max_headers\)/);
  const gemini = await rawExchange(url, [
    rawRequest(url, "POST", "/v1beta/models/demo:generateContent", [...extra(20), "connection: close"]),
  ]);
  assert.deepEqual(gemini.statuses, [431]);
  assert.match(gemini.text, /"status":"INVALID_ARGUMENT"/, "Gemini's error shape");
  assert.equal(sim.stats().requests, 1);
});

test("headers over max_header_bytes: 431 and the connection closed; under it passes", async () => {
  const over = await rawExchange(url, [chat([`x-big: ${"a".repeat(5_000)}`])]);
  assert.deepEqual(over.statuses, [431]);
  assert.ok(over.closedByServer);
  const under = await rawExchange(url, [chat([`x-big: ${"a".repeat(3_000)}`, "connection: close"])]);
  assert.deepEqual(under.statuses, [200]);
});

test("CONNECT is refused 405 and the connection closed (the gateway opens no tunnel)", async () => {
  const r = await rawExchange(url, [`CONNECT 127.0.0.1:${sim.port} HTTP/1.1\r\nhost: 127.0.0.1:${sim.port}\r\n\r\n`]);
  assert.deepEqual(r.statuses, [405]);
  assert.ok(r.closedByServer);
  assert.equal(sim.stats().requests, 0);
});

test("headers_timeout_ms above request_timeout_ms is capped at it (Node would refuse to start)", async () => {
  const g = await simRoute({
    config: { server: { headers_timeout_ms: 5_000, request_timeout_ms: 400 } },
    sims: [{ dialect: "openai", name: "capped" }],
  });
  try {
    const parts = bytes(`GET /v1/models HTTP/1.1\r\nhost: x\r\nx-slow: ${"z".repeat(40)}\r\n\r\n`);
    const r = await rawExchange(g.url, parts, { gapMs: 200, waitMs: 1_000 });
    assert.deepEqual(r.statuses, [408]);
    assert.ok(r.written < parts.length);
  } finally {
    await g.close();
  }
});
