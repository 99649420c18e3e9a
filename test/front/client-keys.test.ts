/**
 * Client keys: the registry (config keys, API keys, reloads), the gate before the body is read
 * (401 / 403 in the client's dialect, whichever header the key came in), the route and model
 * scope after, the admin API, the metric, and what never leaves the gateway: the secret.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { parseConfig } from "../../src/config/load.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { Gateway } from "../../src/pipeline/gateway.js";
import { GatewayError } from "../../src/errors.js";
import { ClientKeyRegistry, sha256Hex } from "../../src/front/client-keys.js";
import { installClientKeys } from "../../src/front/authenticate.js";
import { KeyStore } from "../../src/front/key-store.js";
import { Database } from "../../src/state/database.js";
import type { RequestContext } from "../../src/core/request-context.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway } from "../helpers/harness.js";
import { chatBody } from "../helpers/harness.js";

const sim = await startSimProvider({ dialect: "openai", name: "sim-openai" });
const gsim = await startSimProvider({ dialect: "gemini", name: "sim-gemini" });
after(() => Promise.all([sim.close(), gsim.close()]));

const SECRET = "sk-config-secret-0001";
const LIMITED = "sk-limited-secret-0002";
const HASHED = "sk-hashed-secret-0003";

function routes(): ConfigInput["routes"] {
  return [
    {
      name: "chat",
      surface: "openai",
      models: ["demo", "other"],
      queue: { size: 4 },
      targets: [{ id: "t0", provider: "openai", base_url: sim.url, key: "sk-sim-target-0000" }],
    },
    {
      name: "chat-b",
      surface: "openai",
      prefix: "/b",
      models: ["demo"],
      targets: [{ id: "t0", provider: "openai", base_url: sim.url, key: "sk-sim-target-0000" }],
    },
    {
      name: "gem",
      surface: "gemini",
      models: ["gem-demo"],
      targets: [{ id: "g0", provider: "gemini", base_url: gsim.url, key: "gm-sim-target-0000" }],
    },
  ];
}

const KEYS: ConfigInput["client_keys"] = [
  { name: "app", key: SECRET, priority: "low" },
  { name: "limited", key: LIMITED, models: ["demo"], routes: ["chat"] },
  { name: "hashed", key_sha256: sha256Hex(HASHED) },
  { name: "off", key: "sk-disabled-secret-0004", disabled: true },
  { name: "old", key: "sk-expired-secret-0005", expires_at: "2020-01-01T00:00:00Z" },
];

/** A library gateway with client keys installed, and a step after them that notes each request's priority. */
function libraryGateway(keys: ConfigInput["client_keys"] = KEYS) {
  const gateway = new Gateway(parseConfig({ routes: routes(), client_keys: keys }, "test"));
  const registry = installClientKeys(gateway, new KeyStore(Database.open(":memory:")));
  const priorities: string[] = [];
  gateway.use({ name: "probe", admit: (ctx: RequestContext) => void priorities.push(ctx.priority) });
  return { gateway, registry, priorities, close: () => gateway.close().then(() => registry.close()) };
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  assert.fail("the request was not refused");
}

// ---------------------------------------------------------------------------------------------
// the registry

test("registry: no key in the config or the store → open; config keys found by their secret, in clear or as SHA-256", () => {
  const none = new ClientKeyRegistry({ config: parseConfig({ routes: routes() }, "test") });
  assert.equal(none.enabled, false);
  const reg = new ClientKeyRegistry({ config: parseConfig({ routes: routes(), client_keys: KEYS }, "test") });
  assert.equal(reg.enabled, true);
  assert.equal(reg.find(SECRET)?.name, "app");
  assert.equal(reg.find(HASHED)?.name, "hashed");
  assert.equal(reg.find("sk-nobody-secret"), undefined);
  assert.equal(reg.named("limited")?.models?.has("demo"), true);
  const listed = reg.list();
  assert.deepEqual(
    listed.map((k) => [k.name, k.source, k.key]),
    [
      ["app", "config", "****0001"],
      ["limited", "config", "****0002"],
      ["hashed", "config", null],
      ["off", "config", "****0004"],
      ["old", "config", "****0005"],
    ],
  );
  assert.equal(listed.find((k) => k.name === "old")?.expired, true);
  const text = JSON.stringify(listed);
  for (const s of [SECRET, LIMITED, HASHED, sha256Hex(SECRET), sha256Hex(HASHED)]) assert.equal(text.includes(s), false);
});

test("registry: keys follow the running config (a reload swaps it): a new key works, a removed one no longer", () => {
  const source = { config: parseConfig({ routes: routes(), client_keys: KEYS }, "test") };
  const reg = new ClientKeyRegistry(source);
  assert.equal(reg.find(SECRET)?.name, "app");
  source.config = parseConfig({ routes: routes(), client_keys: [{ name: "new", key: "sk-new-secret-0009" }] }, "test");
  assert.equal(reg.find(SECRET), undefined);
  assert.equal(reg.find("sk-new-secret-0009")?.name, "new");
  source.config = parseConfig({ routes: routes() }, "test");
  assert.equal(reg.enabled, false);
});

test("registry: API keys are made, changed and deleted; config keys only listed (409); a config key shadows an API key's name", () => {
  const source = { config: parseConfig({ routes: routes() }, "test") };
  const reg = new ClientKeyRegistry(source, new KeyStore(Database.open(":memory:")));
  const { key, secret } = reg.create({ name: "ci", models: ["demo"] });
  assert.match(secret, /^sk-sy-[A-Za-z0-9_-]{32}$/);
  assert.equal(key.display, `****${secret.slice(-4)}`);
  assert.equal(reg.find(secret)?.name, "ci");
  assert.equal(reg.create({ name: "ci-2" }).secret === secret, false, "every secret is fresh");
  assert.equal(refusalSync(() => reg.create({ name: "ci" })).status, 409);
  assert.equal(refusalSync(() => reg.create({ name: "has space" })).status, 400);
  assert.equal(reg.update("ci", { disabled: true, models: null }).disabled, true);
  assert.equal(reg.find(secret)?.disabled, true);
  assert.equal(reg.find(secret)?.models, null);
  assert.equal(refusalSync(() => reg.update("nobody", {})).status, 404);
  reg.remove("ci");
  assert.equal(reg.find(secret), undefined);
  assert.equal(refusalSync(() => reg.remove("ci")).status, 404);

  const shadowed = reg.create({ name: "app" }).secret;
  source.config = parseConfig({ routes: routes(), client_keys: KEYS }, "test");
  assert.equal(reg.find(shadowed), undefined, "the config's key of that name wins");
  assert.equal(reg.find(SECRET)?.name, "app");
  assert.equal(reg.list().find((k) => k.name === "app" && k.source === "api")?.shadowed, true);
  const e = refusalSync(() => reg.remove("limited"));
  assert.equal(e.status, 409);
  assert.match(e.message, /comes from the config file/);
  assert.equal(refusalSync(() => reg.update("limited", { disabled: true })).status, 409);
  void reg.close();
});

function refusalSync(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  assert.fail("not refused");
}

// ---------------------------------------------------------------------------------------------
// the gate and the scope, through the library front

test("gate: a key in Authorization: Bearer, x-api-key or x-goog-api-key is accepted; the key's name is the request's", async () => {
  const g = libraryGateway();
  const names: string[] = [];
  g.gateway.events.onRequest((r) => names.push(r.clientKey));
  try {
    const styles: Record<string, string>[] = [{ authorization: `Bearer ${SECRET}` }, { "x-api-key": SECRET }, { "x-goog-api-key": SECRET }];
    for (const headers of styles) {
      const res = await g.gateway.request("chat", { body: chatBody("demo"), headers });
      assert.equal(res.status, 200, JSON.stringify(headers));
    }
    // The first header that holds a known key wins: a stray token in another is no refusal.
    const res = await g.gateway.request("chat", {
      body: chatBody("demo"),
      headers: { authorization: "Bearer stray", "x-api-key": SECRET },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(names, ["app", "app", "app", "app"]);
  } finally {
    await g.close();
  }
});

test("gate: no key or an unknown key → 401 unauthorized before the body is read (no 404 for a model, no JSON error)", async () => {
  const g = libraryGateway();
  const before = sim.stats().requests + gsim.stats().requests;
  try {
    const missing = await refusal(g.gateway.request("chat", { body: chatBody("no-such-model") }));
    assert.equal(missing.code, "unauthorized");
    assert.equal(missing.status, 401);
    assert.match(missing.message, /Authorization: Bearer <key>/);
    assert.equal(missing.headers?.["www-authenticate"], 'Bearer realm="switchyard"');
    const wrong = await refusal(g.gateway.request("chat", { body: "{not json", headers: { authorization: "Bearer sk-wrong-key-000" } }));
    assert.equal(wrong.code, "unauthorized");
    assert.doesNotMatch(wrong.message, /sk-wrong/);
    const gem = await refusal(g.gateway.request("gem", { model: "gem-demo", body: { contents: [] } }));
    assert.match(gem.message, /x-goog-api-key/);
    assert.equal(sim.stats().requests + gsim.stats().requests, before, "no refused request reached a provider");
  } finally {
    await g.close();
  }
});

test("gate: a disabled or expired key → 403 forbidden, naming the key (never its secret)", async () => {
  const g = libraryGateway();
  try {
    const off = await refusal(
      g.gateway.request("chat", { body: chatBody("demo"), headers: { authorization: "Bearer sk-disabled-secret-0004" } }),
    );
    assert.equal(off.code, "forbidden");
    assert.equal(off.message, 'client key "off" is disabled');
    const old = await refusal(g.gateway.request("chat", { body: chatBody("demo"), headers: { "x-api-key": "sk-expired-secret-0005" } }));
    assert.equal(old.code, "forbidden");
    assert.equal(old.message, 'client key "old" expired at 2020-01-01T00:00:00.000Z');
  } finally {
    await g.close();
  }
});

test("scope: a key limited to routes and models may not use others (403 naming them); its priority applies unless the request names one", async () => {
  const g = libraryGateway();
  try {
    const limited = { authorization: `Bearer ${LIMITED}` };
    assert.equal((await g.gateway.request("chat", { body: chatBody("demo"), headers: limited })).status, 200);
    const model = await refusal(g.gateway.request("chat", { body: chatBody("other"), headers: limited }));
    assert.equal(model.code, "forbidden");
    assert.equal(model.message, 'client key "limited" may not use model "other"');
    const route = await refusal(g.gateway.request("chat-b", { body: chatBody("demo"), headers: limited }));
    assert.equal(route.message, 'client key "limited" may not use route "chat-b"');

    const app = { authorization: `Bearer ${SECRET}` };
    g.priorities.length = 0;
    await g.gateway.request("chat", { body: chatBody("demo"), headers: app });
    await g.gateway.request("chat", { body: chatBody("demo"), headers: { ...app, "x-switchyard-priority": "critical" } });
    await g.gateway.request("chat", { body: chatBody("demo"), headers: limited });
    assert.deepEqual(g.priorities, ["low", "critical", "normal"]);
  } finally {
    await g.close();
  }
});

test("gate: with no key configured and none stored, every request passes (the demo)", async () => {
  const g = libraryGateway([]);
  try {
    const res = await g.gateway.request("chat", { body: chatBody("demo") });
    assert.equal(res.status, 200);
  } finally {
    await g.close();
  }
});

test("gate: a reload that adds keys closes the gateway at once; one that removes them all opens it", async () => {
  const g = libraryGateway([]);
  try {
    assert.equal((await g.gateway.request("chat", { body: chatBody("demo") })).status, 200);
    g.gateway.engine.apply(parseConfig({ routes: routes(), client_keys: KEYS }, "reload"));
    assert.equal((await refusal(g.gateway.request("chat", { body: chatBody("demo") }))).code, "unauthorized");
    assert.equal((await g.gateway.request("chat", { body: chatBody("demo"), headers: { "x-api-key": SECRET } })).status, 200);
    g.gateway.engine.apply(parseConfig({ routes: routes() }, "reload"));
    assert.equal((await g.gateway.request("chat", { body: chatBody("demo") })).status, 200);
  } finally {
    await g.close();
  }
});

// ---------------------------------------------------------------------------------------------
// over HTTP: dialects, ?key=, model lists, the admin API, the metric, what reaches upstream

test("http: refusals come in the client's dialect; ?key= is accepted on the Gemini surface only", async () => {
  const gw = await startGateway({ routes: routes(), client_keys: KEYS });
  try {
    const oai = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(chatBody("nope")) });
    assert.equal(oai.status, 401);
    assert.equal(oai.headers.get("x-switchyard-error"), "unauthorized");
    const ob = (await oai.json()) as { error: { type: string; code: string } };
    assert.equal(ob.error.type, "authentication_error");
    assert.equal(ob.error.code, "unauthorized");

    const gemUrl = `${gw.url}/v1beta/models/gem-demo:generateContent`;
    const body = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
    const denied = await fetch(`${gemUrl}?key=wrong-key-0000`, { method: "POST", body, headers: { "content-type": "application/json" } });
    assert.equal(denied.status, 401);
    assert.equal(((await denied.json()) as { error: { status: string } }).error.status, "UNAUTHENTICATED");
    const ok = await fetch(`${gemUrl}?key=${encodeURIComponent(SECRET)}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    assert.equal(ok.status, 200, await ok.clone().text());
    // Not on the OpenAI surface: a key in the query would travel on with it.
    const q = await fetch(`${gw.url}/v1/chat/completions?key=${SECRET}`, { method: "POST", body: JSON.stringify(chatBody("demo")) });
    assert.equal(q.status, 401);
    assert.equal(
      gsim.stats().log.some((e) => e.path.includes(SECRET) || e.key === SECRET),
      false,
    );
  } finally {
    await gw.close();
  }
});

test("http: model lists are behind the keys too", async () => {
  const gw = await startGateway({ routes: routes(), client_keys: KEYS });
  try {
    assert.equal((await fetch(`${gw.url}/v1/models`)).status, 401);
    assert.equal((await fetch(`${gw.url}/v1beta/models`)).status, 401);
    const ok = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${SECRET}` } });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${gw.url}/v1beta/models?key=${SECRET}`)).status, 200);
  } finally {
    await gw.close();
  }
});

test("http: admin API — a key made by POST works at once; its secret is in that answer only; PATCH and DELETE act at once", async () => {
  const gw = await startGateway({ routes: routes(), client_keys: [{ name: "app", key: SECRET }] });
  const post = (path: string, init: RequestInit = {}) =>
    fetch(`${gw.url}${path}`, { ...init, headers: { "content-type": "application/json", ...(init.headers as object) } });
  const chat = (key: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify(chatBody("demo")),
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    });
  try {
    const made = await post("/admin/keys", {
      method: "POST",
      body: JSON.stringify({ name: "ci", models: ["demo"], metadata: { team: "qa" } }),
    });
    assert.equal(made.status, 201);
    const created = (await made.json()) as { key: string; name: string; source: string; models: string[] };
    const secret = created.key;
    assert.match(secret, /^sk-sy-/);
    assert.equal(created.source, "api");
    assert.equal((await chat(secret)).status, 200);

    const answers = await Promise.all(
      ["/admin/keys", "/admin/config", "/admin/status"].map((p) => fetch(`${gw.url}${p}`).then((r) => r.text())),
    );
    for (const text of answers) {
      assert.equal(text.includes(secret), false);
      assert.equal(text.includes(sha256Hex(secret)), false);
      assert.equal(text.includes(SECRET), false);
    }
    const list = JSON.parse(answers[0] ?? "{}") as { enabled: boolean; keys: { name: string; source: string; key: string }[] };
    assert.equal(list.enabled, true);
    assert.deepEqual(
      list.keys.map((k) => [k.name, k.source, k.key]),
      [
        ["app", "config", "****0001"],
        ["ci", "api", `****${secret.slice(-4)}`],
      ],
    );

    const bad = await post("/admin/keys", { method: "POST", body: JSON.stringify({ name: "x", priority: "urgent" }) });
    assert.equal(bad.status, 400);
    assert.equal((await post("/admin/keys", { method: "POST", body: JSON.stringify({ name: "ci" }) })).status, 409);

    const off = await post("/admin/keys/ci", { method: "PATCH", body: JSON.stringify({ disabled: true }) });
    assert.equal(off.status, 200);
    assert.equal(((await off.json()) as { disabled: boolean }).disabled, true);
    assert.equal((await chat(secret)).status, 403);
    await post("/admin/keys/ci", { method: "PATCH", body: JSON.stringify({ disabled: false, expires_at: "2020-01-01T00:00:00Z" }) });
    assert.equal((await chat(secret)).status, 403);
    await post("/admin/keys/ci", { method: "PATCH", body: JSON.stringify({ expires_at: null }) });
    assert.equal((await chat(secret)).status, 200);

    const cfgDelete = await fetch(`${gw.url}/admin/keys/app`, { method: "DELETE" });
    assert.equal(cfgDelete.status, 409);
    assert.match(await cfgDelete.text(), /comes from the config file/);
    assert.equal((await fetch(`${gw.url}/admin/keys/nobody`, { method: "DELETE" })).status, 404);
    const del = await fetch(`${gw.url}/admin/keys/ci`, { method: "DELETE" });
    assert.deepEqual(await del.json(), { deleted: "ci" });
    assert.equal((await chat(secret)).status, 401);
    assert.equal((await chat(SECRET)).status, 200);
  } finally {
    await gw.close();
  }
});

test("http: deleting the last API key (none in the config) opens the gateway, and the answer says so", async () => {
  const gw = await startGateway({ routes: routes() });
  try {
    const made = await fetch(`${gw.url}/admin/keys`, { method: "POST", body: JSON.stringify({ name: "only" }) });
    assert.equal(made.status, 201);
    assert.equal((await fetch(`${gw.url}/v1/models`)).status, 401);
    const del = (await (await fetch(`${gw.url}/admin/keys/only`, { method: "DELETE" })).json()) as { warning?: string };
    assert.match(del.warning ?? "", /serves anyone/);
    assert.equal((await fetch(`${gw.url}/v1/models`)).status, 200);
  } finally {
    await gw.close();
  }
});

test("metrics: switchyard_client_requests_total counts by key name and status, and never shows a secret", async () => {
  const gw = await startGateway({ routes: routes(), client_keys: KEYS });
  try {
    const send = (auth: string, model = "demo") =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify(chatBody(model)),
        headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
      }).then((r) => r.arrayBuffer());
    await send(SECRET);
    await send(SECRET);
    await send(LIMITED, "other");
    await send("sk-disabled-secret-0004");
    await send("sk-unknown-secret-000");
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const lines = text.split("\n").filter((l) => l.startsWith("switchyard_client_requests_total{"));
    assert.deepEqual(lines.sort(), [
      'switchyard_client_requests_total{client_key="app",status="200"} 2',
      'switchyard_client_requests_total{client_key="limited",status="403"} 1',
      'switchyard_client_requests_total{client_key="off",status="403"} 1',
    ]);
    for (const s of [SECRET, LIMITED, "sk-disabled-secret-0004", "sk-unknown-secret-000"]) assert.equal(text.includes(s), false);
  } finally {
    await gw.close();
  }
});

test("upstream: the client key never reaches a provider, in whichever header (or query) it came", async () => {
  const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  // A plain upstream that records every byte it is sent and answers one chat completion.
  const upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
      const body = JSON.stringify({
        id: "c1",
        object: "chat.completion",
        created: 1,
        model: "demo",
        choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  const gw = await startGateway({
    client_keys: KEYS,
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "rec", provider: "openai", base_url: base, key: "sk-upstream-0000" }],
      },
      {
        name: "msg",
        surface: "anthropic",
        models: ["demo"],
        targets: [{ id: "rec", provider: "openai", base_url: base, key: "sk-upstream-0000" }],
      },
    ],
  });
  try {
    const body = JSON.stringify({ model: "demo", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    for (const [path, headers] of [
      ["/v1/chat/completions", { authorization: `Bearer ${SECRET}` }],
      ["/v1/chat/completions", { "x-api-key": SECRET }],
      ["/v1/chat/completions", { "x-goog-api-key": SECRET }],
      ["/v1/messages", { "x-api-key": SECRET, "anthropic-version": "2023-06-01" }],
      ["/v1/messages", { authorization: `Bearer ${SECRET}`, "anthropic-version": "2023-06-01" }],
    ] as const) {
      const r = await fetch(`${gw.url}${path}`, { method: "POST", body, headers: { ...headers, "content-type": "application/json" } });
      assert.equal(r.status, 200, `${path} ${JSON.stringify(headers)}: ${await r.text()}`);
    }
    assert.equal(seen.length, 5);
    for (const s of seen) {
      assert.equal(JSON.stringify(s).includes(SECRET), false, JSON.stringify(s));
      assert.equal(s.headers.authorization, "Bearer sk-upstream-0000");
    }
  } finally {
    await gw.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  }
});
