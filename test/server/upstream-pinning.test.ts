/**
 * No client input picks the host or climbs the path the gateway calls: Host, X-Forwarded-Host,
 * Forwarded, an absolute URL in the request line, dot segments and encoded slashes in REST paths,
 * model names with "/" or "..". Each request is aimed at a gateway whose targets are simulators,
 * while an "evil" simulator's address is what the client names; the targets must get exactly the
 * expected path, and the evil one nothing at all.
 */
import { test, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway } from "../helpers/harness.js";
import { rawExchange, rawRequest } from "../helpers/raw-socket.js";

const rest = await startSimProvider({ dialect: "rest", name: "rest" });
const bare = await startSimProvider({ dialect: "rest", name: "bare" });
const openai = await startSimProvider({ dialect: "openai", name: "openai" });
const gemini = await startSimProvider({ dialect: "gemini", name: "gemini" });
const azure = await startSimProvider({ dialect: "rest", name: "azure" });
const evil = await startSimProvider({ dialect: "rest", name: "evil" });
const sims = [rest, bare, openai, gemini, azure, evil];
const gw = await startGateway({
  routes: [
    { name: "api", surface: "rest", service: "api", targets: [{ id: "rest", provider: "rest", base_url: `${rest.url}/base` }] },
    // A bare origin: the sub-path is the whole upstream path.
    { name: "bare", surface: "rest", service: "bare", targets: [{ id: "bare", provider: "rest", base_url: bare.url }] },
    {
      name: "chat",
      surface: "openai",
      models: ["*"],
      targets: [{ id: "oai", provider: "openai", base_url: openai.url, key: "sk-pin-0001" }],
    },
    {
      name: "gem",
      surface: "gemini",
      models: ["*"],
      targets: [{ id: "gem", provider: "gemini", base_url: gemini.url, key: "gk-pin-0001" }],
    },
    {
      name: "az",
      surface: "openai",
      prefix: "/az",
      models: ["*"],
      targets: [{ id: "az", provider: "azure", base_url: `${azure.url}/openai/deployments/{model}`, key: "az-pin-0001" }],
    },
  ],
});
after(async () => {
  await gw.close();
  await Promise.all(sims.map((s) => s.close()));
});
beforeEach(() => {
  for (const s of sims) s.resetStats();
});

const evilHost = new URL(evil.url).host;

/** What every simulator saw, as "METHOD path" lines per sim (only the sims that saw something). */
function seen(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of sims) {
    const log = s.stats().log.map((e) => `${e.method} ${e.path}`);
    if (log.length > 0) out[s.options.name ?? ""] = log;
  }
  return out;
}

/** One request on its own connection, exactly as written; its status, and the whole answer in `last`. */
let last = "";
async function send(method: string, path: string, headers: string[] = [], body = "") {
  const h = body === "" ? headers : [...headers, "content-type: application/json", `content-length: ${Buffer.byteLength(body)}`];
  const r = await rawExchange(gw.url, [rawRequest(gw.url, method, path, [...h, "connection: close"], body)]);
  last = r.text;
  return r.statuses[0];
}

test("Host, X-Forwarded-Host, Forwarded and URL-override headers change neither the host nor the path called", async () => {
  const status = await send("GET", "/rest/api/items", [
    `x-forwarded-host: ${evilHost}`,
    "x-forwarded-proto: http",
    `forwarded: host=${evilHost};proto=http`,
    "x-original-url: /admin/status",
    "x-rewrite-url: /admin/status",
    `x-forwarded-prefix: /${evilHost}`,
  ]);
  assert.equal(status, 200);
  const host = await rawExchange(gw.url, [`GET /rest/api/items HTTP/1.1\r\nhost: ${evilHost}\r\nconnection: close\r\n\r\n`]);
  assert.deepEqual(host.statuses, [200]);
  assert.deepEqual(seen(), { rest: ["GET /base/items", "GET /base/items"] });
});

test("proxy headers that name another host or path are not passed upstream", async () => {
  const seenHeaders: IncomingHttpHeaders[] = [];
  const recorder = createServer((req, res) => {
    seenHeaders.push(req.headers);
    req.resume();
    res.setHeader("content-type", "application/json");
    res.end("{}");
  });
  await new Promise<void>((r) => recorder.listen(0, "127.0.0.1", r));
  const port = (recorder.address() as AddressInfo).port;
  const g = await startGateway({
    routes: [
      { name: "rec", surface: "rest", service: "rec", targets: [{ id: "rec", provider: "rest", base_url: `http://127.0.0.1:${port}` }] },
    ],
  });
  try {
    const r = await rawExchange(g.url, [
      rawRequest(g.url, "GET", "/rest/rec/items", [
        `x-forwarded-host: ${evilHost}`,
        "x-forwarded-proto: https",
        "x-forwarded-port: 1",
        "x-forwarded-prefix: /evil",
        `forwarded: host=${evilHost}`,
        "x-original-url: /admin",
        "x-rewrite-url: /admin",
        "x-kept: yes",
        "connection: close",
      ]),
    ]);
    assert.deepEqual(r.statuses, [200]);
    const h = seenHeaders[0] ?? {};
    assert.equal(h.host, `127.0.0.1:${port}`);
    for (const name of [
      "x-forwarded-host",
      "x-forwarded-proto",
      "x-forwarded-port",
      "x-forwarded-prefix",
      "forwarded",
      "x-original-url",
      "x-rewrite-url",
    ])
      assert.equal(h[name], undefined, name);
    assert.equal(h["x-kept"], "yes", "other client headers still go");
  } finally {
    await g.close();
    await new Promise<void>((r) => recorder.close(() => r()));
  }
});

test("an absolute URL in the request line is not a route: 404, and no upstream is called", async () => {
  for (const target of [
    `http://${evilHost}/rest/api/items`,
    `http://${new URL(gw.url).host}/rest/api/items`,
    `${evil.url}/v1/chat/completions`,
  ])
    assert.equal(await send("GET", target), 404, target);
  assert.equal(await send("POST", `http://${evilHost}/v1/chat/completions`, [], '{"model":"m","messages":[]}'), 404);
  assert.deepEqual(seen(), {});
});

test("REST paths that climb, hide a slash or start a new authority are refused 400; the upstream sees none", async () => {
  const climbs = [
    "/rest/api/../../admin",
    "/rest/api/%2e%2e/admin",
    "/rest/api/.%2E/admin",
    "/rest/api/a/./b",
    "/rest/api/a%2fb",
    "/rest/api/a%5cb",
    "/rest/api/a\\..\\b",
    "/rest/bare//evil.example/x",
    `/rest/bare//${evilHost}/items`,
    "/rest/api/a//b",
  ];
  for (const p of climbs) {
    assert.equal(await send("GET", p), 400, p);
    assert.match(last, /x-switchyard-error: invalid_request/, p);
  }
  assert.deepEqual(seen(), {});
});

test("REST paths that only look odd go through as they are, under the target's base path", async () => {
  for (const p of ["/rest/api/a..b/c", "/rest/api/.well-known/x", "/rest/api/%252e%252e/x", "/rest/bare/@evil.example/x"])
    assert.equal(await send("GET", p), 200, p);
  assert.deepEqual(seen(), {
    rest: ["GET /base/a..b/c", "GET /base/.well-known/x", "GET /base/%252e%252e/x"],
    bare: ["GET /@evil.example/x"],
  });
});

test("a Gemini model with '/' or '..' stays one segment of the upstream path", async () => {
  const body = '{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}';
  for (const model of ["..%2F..%2Fadmin", "a%2Fb", "..", "x%3AstreamGenerateContent%3Falt%3Dsse"])
    assert.ok((await send("POST", `/v1beta/models/${model}:generateContent`, [], body)) !== undefined, model);
  assert.deepEqual(seen(), {
    gemini: [
      "POST /v1beta/models/..%2F..%2Fadmin:generateContent",
      "POST /v1beta/models/a%2Fb:generateContent",
      "POST /v1beta/models/..:generateContent",
      "POST /v1beta/models/x%3AstreamGenerateContent%3Falt%3Dsse:generateContent",
    ],
  });
});

test("a model in the body never reaches the path of an OpenAI target", async () => {
  const chat = (model: string) => JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] });
  for (const model of ["../../admin", `http://${evilHost}/x`, "a/b"])
    assert.equal(await send("POST", "/v1/chat/completions", [], chat(model)), 200);
  assert.deepEqual(seen(), { openai: ["POST /v1/chat/completions", "POST /v1/chat/completions", "POST /v1/chat/completions"] });
});

test("an Azure deployment slot takes the model as one encoded segment; '.' and '..' are refused 400", async () => {
  const chat = (model: string) => JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] });
  for (const model of ["..", "."]) {
    assert.equal(await send("POST", "/az/v1/chat/completions", [], chat(model)), 400, model);
    assert.match(last, /"param":"model","code":"invalid_request"/, model);
  }
  for (const model of ["gpt-4o", "../../admin", "a/b"])
    assert.ok((await send("POST", "/az/v1/chat/completions", [], chat(model))) !== undefined);
  assert.deepEqual(seen(), {
    azure: [
      "POST /openai/deployments/gpt-4o/chat/completions",
      "POST /openai/deployments/..%2F..%2Fadmin/chat/completions",
      "POST /openai/deployments/a%2Fb/chat/completions",
    ],
  });
});
