/**
 * CORS through the real server: preflights answered by the gateway, and the allow headers on every
 * kind of answer (plain JSON, SSE streams, 4xx and 5xx errors, operator endpoints, a relayed REST
 * answer) for an allowed Origin and not for another; credentials mode; off; a reload.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { createGateway, fileSource, loadConfigFile, startServer, type ConfigInput } from "../../src/index.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startGateway } from "../helpers/harness.js";
import { call, type Reply } from "../helpers/http.js";
import { chatBody } from "../helpers/harness.js";

const APP = "https://app.example.com";
const EVIL = "https://evil.example.net";

const sim = await startSimProvider({ dialect: "openai", stream_chunks: 3 });
const broken = await startSimProvider({ dialect: "openai", error_rate: 1, error_status: 500 });
/** A REST vendor that sends CORS headers of its own (they speak for it, not for the gateway). */
const vendor = createServer((req, res) => {
  req.resume();
  res.writeHead(200, {
    "content-type": "application/json",
    "access-control-allow-origin": "*",
    "access-control-allow-credentials": "true",
    vary: "Accept-Encoding",
  });
  res.end('{"ok":true}');
});
await new Promise<void>((resolve) => vendor.listen(0, "127.0.0.1", resolve));
const vendorUrl = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
after(async () => {
  await Promise.all([sim.close(), broken.close(), new Promise((r) => vendor.close(r))]);
});

function routes(): ConfigInput["routes"] {
  return [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      targets: [{ id: "sim", provider: "openai", base_url: sim.url, key: "sk-sim-0001" }],
    },
    {
      name: "broken",
      surface: "openai",
      models: ["broken"],
      retry: { attempts: 1 },
      targets: [{ id: "broken", provider: "openai", base_url: broken.url, key: "sk-sim-0002" }],
    },
    { name: "quotes", surface: "rest", service: "quotes", targets: [{ id: "vendor", provider: "rest", base_url: vendorUrl }] },
  ];
}

const EXPOSE = "x-request-id, x-switchyard-target, retry-after, ratelimit, ratelimit-policy";

/** The access-control-* headers of an answer, and its Vary. */
function corsOf(r: Reply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (k.startsWith("access-control-") || k === "vary") out[k] = v;
  return out;
}

function preflight(url: string, path: string, origin: string, method = "POST"): Promise<Reply> {
  return call(`${url}${path}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": "content-type, authorization" },
  });
}

/** Every kind of answer, asked from `origin`: [what, status, reply]. */
async function answers(url: string, origin: string): Promise<[string, number, Reply][]> {
  const h = { origin };
  const out: [string, number, Reply][] = [];
  out.push(["chat", 200, await call(`${url}/v1/chat/completions`, { headers: h, body: chatBody() })]);
  out.push(["stream", 200, await call(`${url}/v1/chat/completions`, { headers: h, body: chatBody("demo", { stream: true }) })]);
  out.push(["missing model 400", 400, await call(`${url}/v1/chat/completions`, { headers: h, body: { messages: [] } })]);
  out.push(["unknown route 404", 404, await call(`${url}/nowhere`, { headers: h })]);
  out.push(["upstream 5xx", 502, await call(`${url}/v1/chat/completions`, { headers: h, body: chatBody("broken") })]);
  out.push(["admin status", 200, await call(`${url}/admin/status`, { headers: h })]);
  out.push(["healthz", 200, await call(`${url}/healthz`, { headers: h })]);
  out.push(["models", 200, await call(`${url}/v1/models`, { headers: h })]);
  return out;
}

test("a preflight from an allowed origin is answered 204 with exactly the allow headers", async () => {
  const gw = await startGateway({ cors: { origins: [APP, "https://other.example.com/"] }, routes: routes() });
  try {
    for (const path of ["/v1/chat/completions", "/rest/quotes/v1/quote", "/admin/status", "/v1beta/models/demo:generateContent"]) {
      const r = await preflight(gw.url, path, APP, path === "/admin/status" ? "GET" : "POST");
      assert.equal(r.status, 204, path);
      assert.equal(r.text, "");
      assert.deepEqual(corsOf(r), {
        "access-control-allow-origin": APP,
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": "authorization, content-type, x-api-key, x-goog-api-key, anthropic-version",
        "access-control-max-age": "600",
        vary: "Origin",
      });
      assert.ok(r.headers["x-request-id"]);
    }
    // A listed origin written with a trailing slash matches the browser's form.
    assert.equal(
      (await preflight(gw.url, "/v1/chat/completions", "https://other.example.com")).headers["access-control-allow-origin"],
      "https://other.example.com",
    );
  } finally {
    await gw.close();
  }
});

test("a preflight from another origin gets 204 without any allow header; one for a path not served is not a preflight (404)", async () => {
  const gw = await startGateway({ cors: { origins: [APP] }, routes: routes() });
  try {
    const r = await preflight(gw.url, "/v1/chat/completions", EVIL);
    assert.equal(r.status, 204);
    assert.deepEqual(corsOf(r), { vary: "Origin" });
    const nowhere = await preflight(gw.url, "/nowhere", APP);
    assert.equal(nowhere.status, 404);
    assert.equal(nowhere.json.error.code, "unknown_route");
    // OPTIONS without Access-Control-Request-Method is an ordinary request: 405 as before.
    const plain = await call(`${gw.url}/v1/chat/completions`, { method: "OPTIONS", headers: { origin: APP } });
    assert.equal(plain.status, 405);
    assert.equal(plain.headers["access-control-allow-origin"], APP);
  } finally {
    await gw.close();
  }
});

test("every answer to an allowed origin carries Allow-Origin, Expose-Headers and Vary: Origin; none to another origin", async () => {
  const gw = await startGateway({ cors: { origins: [APP] }, routes: routes() });
  try {
    for (const [what, status, r] of await answers(gw.url, APP)) {
      assert.equal(r.status, status, what);
      assert.deepEqual(
        corsOf(r),
        { "access-control-allow-origin": APP, "access-control-expose-headers": EXPOSE, vary: "Origin" },
        `${what}: ${JSON.stringify(corsOf(r))}`,
      );
    }
    for (const [what, status, r] of await answers(gw.url, EVIL)) {
      assert.equal(r.status, status, what);
      assert.deepEqual(corsOf(r), { vary: "Origin" }, what);
    }
    const stream = await call(`${gw.url}/v1/chat/completions`, { headers: { origin: APP }, body: chatBody("demo", { stream: true }) });
    assert.match(stream.headers["content-type"] ?? "", /text\/event-stream/);
    assert.match(stream.text, /data: \[DONE\]/);
  } finally {
    await gw.close();
  }
});

test("a relayed answer's own CORS headers give way to the gateway's, and its Vary keeps Origin", async () => {
  const gw = await startGateway({ cors: { origins: [APP] }, routes: routes() });
  try {
    const r = await call(`${gw.url}/rest/quotes/v1/quote`, { headers: { origin: APP } });
    assert.equal(r.status, 200);
    assert.deepEqual(corsOf(r), {
      "access-control-allow-origin": APP,
      "access-control-expose-headers": EXPOSE,
      vary: "Accept-Encoding, Origin",
    });
    const other = await call(`${gw.url}/rest/quotes/v1/quote`, { headers: { origin: EVIL } });
    assert.deepEqual(corsOf(other), { vary: "Accept-Encoding, Origin" });
  } finally {
    await gw.close();
  }
});

test("credentials mode echoes the origin (never *), with Allow-Credentials, even for origins: ['*']", async () => {
  const gw = await startGateway({
    cors: { origins: ["*"], credentials: true, max_age_s: 60, headers: ["content-type"] },
    routes: routes(),
  });
  try {
    const p = await preflight(gw.url, "/v1/chat/completions", APP);
    assert.equal(p.status, 204);
    assert.deepEqual(corsOf(p), {
      "access-control-allow-origin": APP,
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": "content-type",
      "access-control-max-age": "60",
      "access-control-allow-credentials": "true",
      vary: "Origin",
    });
    for (const [what, , r] of await answers(gw.url, EVIL)) {
      assert.equal(r.headers["access-control-allow-origin"], EVIL, what);
      assert.equal(r.headers["access-control-allow-credentials"], "true", what);
    }
    // The relayed vendor said `*` and credentials: the gateway's echo stands.
    const rest = await call(`${gw.url}/rest/quotes/v1/quote`, { headers: { origin: APP } });
    assert.equal(rest.headers["access-control-allow-origin"], APP);
    // A sandboxed frame's "null" origin is not echoed with credentials.
    assert.deepEqual(corsOf(await preflight(gw.url, "/v1/chat/completions", "null")), { vary: "Origin" });
  } finally {
    await gw.close();
  }
});

test("origins: ['*'] without credentials answers Allow-Origin: *", async () => {
  const gw = await startGateway({ cors: { origins: ["*"] }, routes: routes() });
  try {
    const p = await preflight(gw.url, "/v1/chat/completions", EVIL);
    assert.equal(p.headers["access-control-allow-origin"], "*");
    assert.equal(p.headers["access-control-allow-credentials"], undefined);
    for (const [what, , r] of await answers(gw.url, APP)) assert.equal(r.headers["access-control-allow-origin"], "*", what);
  } finally {
    await gw.close();
  }
});

test("CORS off (no origins, the default): no CORS header at all, and OPTIONS is 405 as any other method", async () => {
  const gw = await startGateway({ routes: routes() });
  try {
    for (const [what, status, r] of await answers(gw.url, APP)) {
      assert.equal(r.status, status, what);
      assert.deepEqual(corsOf(r), {}, what);
    }
    const p = await preflight(gw.url, "/v1/chat/completions", APP);
    assert.equal(p.status, 405);
    assert.deepEqual(corsOf(p), {});
    // A relayed vendor's own headers pass as they always did.
    const rest = await call(`${gw.url}/rest/quotes/v1/quote`, { headers: { origin: APP } });
    assert.equal(rest.headers["access-control-allow-origin"], "*");
  } finally {
    await gw.close();
  }
});

test("a reload that changes cors applies to the next request", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-cors-"));
  const file = join(dir, "switchyard.yaml");
  const config = (origins: string[]) => ({ store: { path: ":memory:" }, log: { level: "silent" }, cors: { origins }, routes: routes() });
  writeFileSync(file, stringify(config([])));
  const gateway = createGateway(loadConfigFile(file));
  const server = await startServer(gateway, { port: 0, host: "127.0.0.1", logger: createLogger("silent"), source: fileSource(file) });
  try {
    const ask = () => call(`${server.url}/v1/chat/completions`, { headers: { origin: APP }, body: chatBody() });
    assert.equal((await ask()).headers["access-control-allow-origin"], undefined);
    writeFileSync(file, stringify(config([APP])));
    assert.equal((await call(`${server.url}/admin/reload`, { method: "POST" })).status, 200);
    assert.equal((await ask()).headers["access-control-allow-origin"], APP);
    assert.equal((await preflight(server.url, "/v1/chat/completions", APP)).status, 204);
    writeFileSync(file, stringify(config([])));
    assert.equal((await call(`${server.url}/admin/reload`, { method: "POST" })).status, 200);
    assert.deepEqual(corsOf(await ask()), {});
  } finally {
    await server.shutdown(0);
    rmSync(dir, { recursive: true, force: true });
  }
});
