/**
 * The usage of a translated answer is on the request context, canonical, by the time its attempt
 * ends (attempt listeners see it): for cost accounting, whether or not the client asked for it.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { Usage } from "../../src/providers/canonical.js";
import { createGateway } from "../../src/index.js";
import { simRoute } from "../helpers/sim-route.js";
import { postJson } from "../helpers/http.js";

const f = await simRoute({
  sims: [
    { dialect: "anthropic", name: "claude", stream_chunks: 3 },
    { dialect: "gemini", name: "gem", stream_chunks: 3 },
  ],
  routes: ([claude, gem]) => [
    {
      name: "a",
      surface: "openai",
      models: ["smart"],
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ant-0001", model: "claude-sonnet-4" }],
    },
    {
      name: "g",
      surface: "anthropic",
      models: ["smart"],
      targets: [{ id: "gem", provider: "gemini", base_url: gem.url, key: "g-0002", model: "gemini-2.5-flash" }],
    },
    {
      name: "gm",
      surface: "gemini",
      models: ["smart"],
      targets: [{ id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ant-0001", model: "claude-sonnet-4" }],
    },
  ],
});
const { gw, config } = f;
const seen: (Usage | null)[] = [];
gw.gateway.events.onAttempt(({ outcome }, ctx) => {
  if (outcome.kind === "ok") seen.push(ctx.usage);
});
after(() => f.close());

test("JSON and streamed translated answers leave their usage on the context before the attempt ends", async () => {
  seen.length = 0;
  await postJson(`${gw.url}/v1/chat/completions`, { model: "smart", messages: [{ role: "user", content: "hello usage" }] });
  // The client did not ask for stream usage: it is withheld from the client, still counted.
  const streamed = await postJson(`${gw.url}/v1/chat/completions`, {
    model: "smart",
    stream: true,
    messages: [{ role: "user", content: "hello usage" }],
  });
  assert.ok(!streamed.text.includes('"usage"'));
  await postJson(`${gw.url}/v1/messages`, {
    model: "smart",
    max_tokens: 50,
    stream: true,
    messages: [{ role: "user", content: "hello usage" }],
  });
  assert.equal(seen.length, 3);
  for (const u of seen) {
    assert.ok(u !== null && u.prompt_tokens > 0 && u.completion_tokens === 16, JSON.stringify(u));
    assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  }
});

test("the library translates too, JSON and streamed (buffered), with the same usage", async () => {
  const lib = createGateway(config);
  try {
    const r = await lib.request("a", { body: { model: "smart", messages: [{ role: "user", content: "hi" }] } });
    assert.equal(r.status, 200);
    const body = r.body as { object: string; model: string; usage: Usage };
    assert.equal(body.object, "chat.completion");
    assert.equal(body.model, "claude-sonnet-4");
    assert.equal(body.usage.completion_tokens, 16);
    const s = await lib.request("g", {
      body: { model: "smart", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi" }] },
    });
    assert.equal(s.status, 200);
    assert.match(String(s.headers["content-type"]), /text\/event-stream/);
    assert.match(String(s.body), /^event: message_start\n/);
    assert.match(String(s.body), /event: message_stop\n/);
    // A Gemini body names its model beside the contents in library calls; no warning about it.
    const g = await lib.request("gm", { body: { model: "smart", contents: [{ role: "user", parts: [{ text: "hi" }] }] } });
    assert.equal(g.status, 200);
    assert.equal((g.body as { modelVersion: string }).modelVersion, "claude-sonnet-4");
    assert.equal(g.headers["x-switchyard-warnings"], undefined);
  } finally {
    await lib.close();
  }
});
