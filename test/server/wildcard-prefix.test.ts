import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { simRoute } from "../helpers/sim-route.js";
import { call } from "../helpers/http.js";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { Router } from "../../src/server/router.js";

/** One sim per dialect; routes on the plain paths, under a literal prefix, and under /{tenant}/lb. */
const f = await simRoute({
  sims: [{ dialect: "anthropic" }, { dialect: "gemini" }, { dialect: "openai" }] as const,
  routes: ([ant, gem, oai]) => [
    {
      name: "claude",
      surface: "anthropic",
      prefix: "/{tenant}/lb",
      models: ["*"],
      targets: [{ id: "a", provider: "anthropic", base_url: ant.url, key: "sk-ant-0001" }],
    },
    {
      name: "gemini",
      surface: "gemini",
      prefix: "/{tenant}/lb",
      models: ["gemini-test"],
      targets: [{ id: "g", provider: "gemini", base_url: gem.url, key: "AIza-0002" }],
    },
    {
      name: "chat",
      surface: "openai",
      prefix: "/{tenant}/lb",
      models: ["gpt-test"],
      targets: [{ id: "o", provider: "openai", base_url: oai.url, key: "sk-oai-0003" }],
    },
    {
      name: "plain",
      surface: "openai",
      models: ["gpt-plain"],
      targets: [{ id: "p", provider: "openai", base_url: oai.url, key: "sk-oai-0004" }],
    },
    {
      name: "literal",
      surface: "openai",
      prefix: "/fixed",
      models: ["gpt-fixed"],
      targets: [{ id: "l", provider: "openai", base_url: oai.url, key: "sk-oai-0005" }],
    },
  ],
});
after(() => f.close());

const message = { model: "claude-test", max_tokens: 16, messages: [{ role: "user", content: "hello" }] };
const contents = { contents: [{ role: "user", parts: [{ text: "hello" }] }] };
const chat = (model: string) => ({ model, messages: [{ role: "user", content: "hello" }] });

test("a {tenant} prefix is reached with any uuid on the Anthropic and Gemini paths", async () => {
  for (const uuid of [randomUUID(), randomUUID()]) {
    const base = `${f.url}/${uuid}/lb`;
    const m = await call(`${base}/v1/messages`, { body: message });
    assert.equal(m.status, 200, m.text);
    assert.equal(m.json.type, "message");
    const g = await call(`${base}/v1beta/models/gemini-test:generateContent`, { body: contents });
    assert.equal(g.status, 200, g.text);
    assert.ok(Array.isArray(g.json.candidates));
    const s = await call(`${base}/v1beta/models/gemini-test:streamGenerateContent?alt=sse`, { body: contents });
    assert.equal(s.status, 200, s.text);
    assert.match(s.text, /^data: /m);
    const list = await call(`${base}/v1beta/models`);
    assert.deepEqual(
      list.json.models.map((x: { name: string }) => x.name),
      ["models/gemini-test"],
    );
  }
  assert.equal(f.sims[0].stats().requests, 2);
});

test("the OpenAI paths under a {tenant} prefix: chat (with and without /v1), embeddings, models", async () => {
  const base = `${f.url}/${randomUUID()}/lb`;
  for (const path of ["/v1/chat/completions", "/chat/completions"]) {
    const r = await call(`${base}${path}`, { body: chat("gpt-test") });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.equal(r.json.object, "chat.completion");
  }
  const e = await call(`${base}/v1/embeddings`, { body: { model: "gpt-test", input: "hello" } });
  assert.equal(e.status, 200, e.text);
  const models = await call(`${base}/v1/models`);
  assert.deepEqual(
    models.json.data.map((m: { id: string }) => m.id),
    ["gpt-test"],
  );
});

test("POST /chat/completions is served like /v1/chat/completions under every prefix", async () => {
  for (const [path, model] of [
    ["/chat/completions", "gpt-plain"],
    ["/fixed/chat/completions", "gpt-fixed"],
    [`/${randomUUID()}/lb/chat/completions`, "gpt-test"],
  ] as const) {
    const r = await call(`${f.url}${path}`, { body: chat(model) });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.equal(r.json.object, "chat.completion");
  }
});

test("a path only like the wildcard prefix is not served; a wrong method is a 405", async () => {
  assert.equal((await call(`${f.url}//lb/v1/messages`, { body: message })).status, 404, "an empty {tenant} segment");
  assert.equal((await call(`${f.url}/a/b/lb/v1/messages`, { body: message })).status, 404);
  assert.equal((await call(`${f.url}/${randomUUID()}/other/v1/messages`, { body: message })).status, 404);
  const get = await call(`${f.url}/${randomUUID()}/lb/v1/messages`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, "POST");
  assert.equal((await call(`${f.url}/${randomUUID()}/lb/v1beta/models/gemini-test:generateContent`)).status, 405);
  const unknownModel = await call(`${f.url}/${randomUUID()}/lb/v1beta/models/other:generateContent`, { body: contents });
  assert.equal(unknownModel.status, 404, "a model no route under the prefix serves");
});

test("exact paths stay one Map lookup: the same shared match whatever wildcard prefixes exist", () => {
  const router = new Router(f.gw.gateway.table, true);
  const a = router.match("POST", "/v1/chat/completions");
  assert.equal(a.kind, "llm");
  assert.equal(router.match("POST", "/v1/chat/completions"), a, "no object made per request");
  const w = router.match("POST", "/t-1/lb/v1/messages");
  assert.ok(w.kind === "llm" && w.prefix === "/{tenant}/lb");
  assert.equal(router.match("POST", "/t-2/lb/v1/messages"), w, "a wildcard path's match is shared too");
});

test("prefixes that could match the same path are a config error; wildcards only on LLM routes", () => {
  const route = (name: string, prefix: string, surface = "anthropic", models = ["*"]) => ({
    name,
    surface,
    prefix,
    models,
    targets: [{ id: "t", provider: surface === "gemini" ? "gemini" : "anthropic", base_url: "http://127.0.0.1:1" }],
  });
  const problems = (routes: unknown[]) => {
    try {
      parseConfig({ routes }, "test");
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
  };
  assert.deepEqual(problems([route("a", "/{tenant}/lb"), route("b", "/{tenant}/lb", "gemini")]), [], "one prefix, two surfaces");
  assert.deepEqual(problems([route("a", "/{tenant}/lb"), route("b", "/{tenant}/other")]), []);
  assert.deepEqual(problems([route("a", "/{tenant}/lb"), route("b", "/{tenant}/lb", "anthropic", ["m"])]), [], "a model beside * as today");
  assert.match(
    problems([route("a", "/{tenant}/lb"), route("b", "/{tenant}/lb")]).join("\n"),
    /routes\[1\]\.models\[0\]: model "\*" is already served/,
  );
  assert.match(
    problems([route("a", "/{tenant}/lb"), route("b", "/{uuid}/lb", "gemini")]).join("\n"),
    /^routes\[1\]\.prefix: "\/\{uuid\}\/lb" could match the same paths as prefix "\/\{tenant\}\/lb" of route "a"/,
  );
  assert.match(
    problems([route("a", "/{tenant}/lb"), route("b", "/acme/lb")]).join("\n"),
    /routes\[1\]\.prefix: .*could match the same paths/,
  );
  assert.match(problems([route("a", "/{t}/lb"), route("b", "/x/{u}")]).join("\n"), /could match the same paths/);
  assert.match(problems([route("a", "/lb/{x")]).join("\n"), /routes\[0\]\.prefix: must start with \//);
  assert.match(problems([route("a", "/a{x}")]).join("\n"), /routes\[0\]\.prefix: must start with \//);
  const rest = {
    name: "r",
    surface: "rest",
    service: "q",
    prefix: "/{t}/q",
    targets: [{ id: "v", provider: "rest", base_url: "http://127.0.0.1:1" }],
  };
  assert.match(problems([rest]).join("\n"), /routes\[0\]\.prefix: \{name\} segments are only for LLM routes/);
});
