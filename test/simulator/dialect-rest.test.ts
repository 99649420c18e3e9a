import { test } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { call } from "../helpers/http.js";

test("rest echo: any method and path, query and body echoed, no key needed by default", async () => {
  const sim = await startSimProvider({ dialect: "rest", name: "quotes-a" });
  try {
    const r = await call(`${sim.url}/v1/quote?symbol=IBM&x=1`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      source: "quotes-a",
      name: "quotes-a",
      method: "GET",
      path: "/v1/quote",
      query: { symbol: "IBM", x: "1" },
      body: null,
    });
    const p = await call(`${sim.url}/orders`, { method: "PUT", body: { qty: 3 } });
    assert.deepEqual(p.json.body, { qty: 3 });
    assert.equal(p.json.method, "PUT");
    assert.equal(p.headers["x-ratelimit-limit"], "10000");
  } finally {
    await sim.close();
  }
});

test("rest_response shapes the body and sees the key; require_key and quota apply to rest too", async () => {
  const sim = await startSimProvider({
    dialect: "rest",
    require_key: true,
    key_quota: { requests: 1, window_s: 30 },
    rest_response: (req) => ({ price: 42, symbol: req.query.symbol, key: req.key }),
  });
  try {
    assert.equal((await call(`${sim.url}/q?symbol=AAPL`)).status, 401);
    const ok = await call(`${sim.url}/q?symbol=AAPL&apikey=k1`);
    assert.deepEqual(ok.json, { price: 42, symbol: "AAPL", key: "k1" });
    assert.equal(ok.headers["x-ratelimit-remaining"], "0");
    assert.match(ok.headers["ratelimit-policy"] ?? "", /q=1;w=30/);
    const over = await call(`${sim.url}/q?symbol=AAPL`, { headers: { "x-api-key": "k1" } });
    assert.equal(over.status, 429);
    assert.equal(over.json.error.status, 429);
    assert.ok(Number(over.headers["retry-after"]) > 0);
    await sim.set({ rest_response: () => Promise.resolve({ later: true }) }); // an answer may be a promise
    assert.deepEqual((await call(`${sim.url}/q`, { headers: { authorization: "Bearer k2" } })).json, { later: true });
  } finally {
    await sim.close();
  }
});
