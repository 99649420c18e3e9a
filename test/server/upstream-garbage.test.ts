import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { createServer } from "node:http";
import { startGateway, chatBody } from "../helpers/harness.js";
import { postJson } from "../helpers/http.js";

/** A "provider" that answers every connection with bytes that are not HTTP. Counts chat calls (not the breaker's GET probes). */
let garbageCalls = 0;
const garbage = createTcpServer((socket) => {
  socket.once("data", (d: Buffer) => {
    if (d.toString("latin1").startsWith("POST ")) garbageCalls++;
    socket.end("SMTP READY \x00\x01\x02 not http at all\r\n\r\n");
  });
});
await new Promise<void>((r) => garbage.listen(0, "127.0.0.1", r));
/** A provider that says 200 application/json but sends broken JSON (for a translated route). */
const brokenJson = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"id": "msg_1", "type": "message", "content": [');
  });
});
await new Promise<void>((r) => brokenJson.listen(0, "127.0.0.1", r));
const port = (s: { address(): unknown }) => (s.address() as AddressInfo).port;

const gw = await startGateway({
  routes: [
    {
      name: "garbage",
      surface: "openai",
      models: ["garbage"],
      targets: [{ id: "garbage", provider: "openai", base_url: `http://127.0.0.1:${port(garbage)}/v1`, key: "sk-garbage-0001" }],
    },
    {
      name: "broken",
      surface: "openai",
      models: ["broken"],
      targets: [
        { id: "broken-anthropic", provider: "anthropic", base_url: `http://127.0.0.1:${port(brokenJson)}`, key: "sk-ant-broken-0002" },
      ],
    },
  ],
});
after(async () => {
  await gw.close();
  garbage.close();
  brokenJson.close();
});

test("an upstream speaking garbage instead of HTTP: 502 in the OpenAI shape naming the target, and the gateway keeps serving", async () => {
  const codes: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody("garbage"));
    codes.push(`${r.status} ${r.json.error.code}`);
    assert.match(r.json.error.message, /garbage/);
  }
  // Each request fails cleanly (502 naming the target, after its retries) until the breaker opens
  // on 5 consecutive failures; then the route answers 503 with Retry-After without calling it.
  const first503 = codes.indexOf("503 no_target_available");
  assert.ok(first503 > 0, codes.join(", "));
  assert.deepEqual(codes.slice(0, first503), Array(first503).fill("502 upstream_error"));
  assert.deepEqual(codes.slice(first503), Array(20 - first503).fill("503 no_target_available"));
  assert.equal(garbageCalls, 5, "the breaker stopped the calls after 5 failures");
  const health = await fetch(`${gw.url}/healthz`);
  assert.equal(health.status, 200);
});

test("a translated upstream answering 200 with broken JSON: a clear 502, not a crash", async () => {
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody("broken"));
  assert.equal(r.status, 502);
  assert.equal(r.json.error.code, "upstream_error");
  assert.match(r.json.error.message, /broken-anthropic/);
  assert.doesNotMatch(r.text, /sk-ant-broken-0002/);
});
