import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { rawRequest, postJson } from "../helpers/http.js";
import { startGateway, chatBody } from "../helpers/harness.js";

/** An upstream that records what it received and answers with the headers we want to see filtered. */
const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
const upstream = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    res.writeHead(200, {
      "content-type": "application/json",
      "x-upstream": "yes",
      "set-cookie": "s=1",
      "x-hop": "drop-me",
      connection: "x-hop",
    });
    res.end(JSON.stringify({ ok: true, url: req.url }));
  });
});
await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const gw = await startGateway({
  routes: [
    {
      name: "chat",
      surface: "openai",
      models: ["demo", "smart"],
      targets: [{ id: "up", provider: "openai", base_url: `${base}/v1`, key: "sk-provider-secret-9876", model: "gpt-4o" }],
    },
    {
      name: "wild",
      surface: "openai",
      prefix: "/lb",
      models: ["*"],
      targets: [{ id: "lb", provider: "openai-compatible", base_url: `${base}/openai`, key: "sk-lb-1111" }],
    },
    {
      name: "quotes",
      surface: "rest",
      service: "quotes",
      targets: [
        {
          id: "vendor",
          provider: "rest",
          base_url: `${base}/api`,
          key: "rest-secret-4242",
          auth: { type: "query", name: "apikey" },
          headers: { "x-vendor": "v1" },
        },
      ],
    },
  ],
});
after(async () => {
  await gw.close();
  upstream.close();
});

test("the gateway injects the target's key, never forwards the client's, and rewrites an aliased model", async () => {
  seen.length = 0;
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody("smart"), {
    authorization: "Bearer client-key",
    "x-api-key": "client-x",
    "x-request-id": "req-abc-123",
    "x-custom": "kept",
  });
  assert.equal(r.status, 200);
  const got = seen[0]!;
  assert.equal(got.url, "/v1/chat/completions");
  assert.equal(got.headers.authorization, "Bearer sk-provider-secret-9876");
  assert.equal(got.headers["x-api-key"], undefined);
  assert.equal(got.headers["x-request-id"], "req-abc-123");
  assert.equal(got.headers["x-custom"], "kept");
  assert.equal(JSON.parse(got.body).model, "gpt-4o");
  // Response: request id returned, hop-by-hop and Connection-named headers stripped, cookies not passed.
  assert.equal(r.headers.get("x-request-id"), "req-abc-123");
  assert.equal(r.headers.get("x-switchyard-target"), "up");
  assert.equal(r.headers.get("x-upstream"), "yes");
  assert.equal(r.headers.get("x-hop"), null);
  assert.equal(r.headers.get("set-cookie"), null);
});

test("a request id is generated when the client sends none, and sent upstream", async () => {
  seen.length = 0;
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody("demo"));
  const id = r.headers.get("x-request-id");
  assert.match(String(id), /^[0-9a-f-]{36}$/);
  assert.equal(seen[0]!.headers["x-request-id"], id);
});

test("a prefixed wildcard route serves any model under its prefix", async () => {
  seen.length = 0;
  const r = await postJson(`${gw.url}/lb/v1/chat/completions`, chatBody("anything-goes"));
  assert.equal(r.status, 200);
  assert.equal(seen[0]!.url, "/openai/chat/completions");
  assert.equal(seen[0]!.headers.authorization, "Bearer sk-lb-1111");
});

test("REST pass-through: method, path, query, auth in the query, extra headers", async () => {
  seen.length = 0;
  const res = await fetch(`${gw.url}/rest/quotes/v1/quote?symbol=IBM`, { headers: { authorization: "Bearer client" } });
  assert.equal(res.status, 200);
  const got = seen[0]!;
  assert.equal(got.method, "GET");
  assert.equal(got.url, "/api/v1/quote?symbol=IBM&apikey=rest-secret-4242");
  assert.equal(got.headers.authorization, undefined);
  assert.equal(got.headers["x-vendor"], "v1");
  const post = await fetch(`${gw.url}/rest/quotes/v1/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"q":1}',
  });
  assert.equal(post.status, 200);
  assert.equal(seen[1]!.method, "POST");
  assert.equal(seen[1]!.body, '{"q":1}');
});

test("REST paths that climb out of the base path are refused", async () => {
  for (const p of ["/rest/quotes/../admin", "/rest/quotes/%2e%2e/admin", "/rest/quotes/a%2fb"]) {
    // Sent raw: fetch and undici would normalise the dot segments away before sending.
    const res = await rawRequest(gw.url, `GET ${p} HTTP/1.1`);
    assert.equal(res.status, 400, p);
    assert.equal(JSON.parse(res.body).error.code, "invalid_request");
  }
});

test("GET /v1/models lists the routes' models; /healthz answers", async () => {
  const models = (await (await fetch(`${gw.url}/v1/models`)).json()) as any;
  assert.equal(models.object, "list");
  assert.deepEqual(models.data.map((m: any) => m.id).sort(), ["demo", "smart"]);
  const health = await fetch(`${gw.url}/healthz`);
  assert.deepEqual(await health.json(), { status: "ok" });
});

test("admin status shows routes, strategies and targets with keys masked to the last 4", async () => {
  const status = await gw.status();
  const text = JSON.stringify(status);
  assert.doesNotMatch(text, /sk-provider-secret|rest-secret|sk-lb-1111/);
  const chat = status.routes.find((r: any) => r.name === "chat");
  assert.equal(chat.strategy, "round-robin");
  assert.equal(chat.targets[0].key, "****9876");
  assert.equal(typeof chat.targets[0].stats.requests, "number");
  assert.equal(chat.targets[0].eligible, true);
  assert.ok(status.totals.requests > 0);
});
