import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createGateway, GatewayError } from "../../src/index.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";

const rest = await startSimProvider({ dialect: "rest", name: "vendor-a", rest_response: (r) => ({ symbol: r.query.symbol, price: 42 }) });
const chat = await startSimProvider({ dialect: "openai", name: "oai" });
const gw = createGateway({
  routes: [
    {
      name: "quotes",
      surface: "rest",
      service: "quotes",
      targets: [
        { id: "a", provider: "rest", base_url: rest.url, key: "rest-key-0001" },
        { id: "dead", provider: "rest", base_url: "http://127.0.0.1:1", key: "x" },
      ],
    },
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      targets: [{ id: "oai", provider: "openai", base_url: chat.url, key: "sk-lib-0002" }],
    },
  ],
});
after(async () => {
  await gw.close();
  await rest.close();
  await chat.close();
});

test("the library runs the same routes and failover without a server", async () => {
  for (let i = 0; i < 4; i++) {
    const res = await gw.request("quotes", { path: "/v1/quote?symbol=IBM" });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { symbol: "IBM", price: 42 });
    assert.equal(res.target, "a");
  }
  const status = gw.status();
  assert.ok(status.routes[0]!.targets[1]!.stats.by_outcome.connection_failure >= 1, "the dead target was tried and failed over");
});

test("the library serves a chat completion and rejects unknown routes with a coded error", async () => {
  const res = await gw.request("chat", { body: { model: "demo", messages: [{ role: "user", content: "hi" }] } });
  assert.equal(res.status, 200);
  assert.equal((res.body as { object: string }).object, "chat.completion");
  await assert.rejects(gw.request("nope"), (e: unknown) => e instanceof GatewayError && e.code === "unknown_route");
});
