/**
 * GET /v1/models (and Gemini's GET /v1beta/models) list what clients may ask for: the model
 * names routes configure and, for a route serving any model ("*"), its targets' own models — a
 * target's `model`, else the list its provider's cheap call returns (with the target's key,
 * cached). Before, a "*" route listed nothing.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway } from "../helpers/harness.js";

const oai = await startSimProvider({ dialect: "openai", name: "oai-models" });
const claude = await startSimProvider({ dialect: "anthropic", name: "claude-models" });
const gem = await startSimProvider({ dialect: "gemini", name: "gemini-models" });
const gw = await startGateway({
  routes: [
    {
      name: "named",
      surface: "openai",
      models: ["house-model"],
      targets: [{ id: "n", provider: "openai", base_url: `${oai.url}`, key: "sk-models-0001" }],
    },
    {
      name: "anything",
      surface: "openai",
      models: ["*"],
      targets: [
        { id: "oai", provider: "openai", base_url: `${oai.url}`, key: "sk-models-0002" },
        { id: "claude", provider: "anthropic", base_url: claude.url, key: "sk-ant-models-0003" },
        { id: "pinned", provider: "openai", base_url: `${oai.url}`, key: "sk-models-0004", model: "pinned-model" },
      ],
    },
    {
      name: "gem-any",
      surface: "gemini",
      models: ["*"],
      targets: [{ id: "gem", provider: "gemini", base_url: gem.url, key: "gem-models-0005" }],
    },
  ],
});
after(async () => {
  await gw.close();
  for (const s of [oai, claude, gem]) await s.close();
});

test("a * route lists its targets' own models (their providers' lists, a pinned model), after the configured names", async () => {
  const res = await fetch(`${gw.url}/v1/models`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { object: string; data: { id: string; owned_by: string }[] };
  assert.equal(body.object, "list");
  const byId = Object.fromEntries(body.data.map((m) => [m.id, m.owned_by]));
  assert.equal(body.data[0]?.id, "house-model", "configured names first");
  assert.equal(byId["house-model"], "switchyard:named");
  for (const id of ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "claude-haiku-4-5", "pinned-model"])
    assert.equal(byId[id], "switchyard:anything", id);
  assert.equal(new Set(body.data.map((m) => m.id)).size, body.data.length, "no id twice (demo is in two lists)");
});

test("the lists are fetched with each target's key and cached", async () => {
  const seen = oai
    .stats()
    .log.filter((e) => e.path === "/v1/models")
    .map((e) => e.key);
  assert.deepEqual(seen, ["sk-models-0002"], "one fetch, with the * route's target key");
  await fetch(`${gw.url}/v1/models`);
  assert.equal(oai.stats().log.filter((e) => e.path === "/v1/models").length, 1, "the second listing comes from the cache");
});

test("Gemini clients get the Gemini shape", async () => {
  const body = (await (await fetch(`${gw.url}/v1beta/models`)).json()) as { models: { name: string }[] };
  assert.deepEqual(body.models.map((m) => m.name).sort(), [
    "models/demo",
    "models/gemini-2.5-flash",
    "models/gemini-2.5-pro",
    "models/text-embedding-004",
  ]);
});
