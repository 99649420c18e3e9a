/**
 * A REST service with alternative vendors: three market-data vendors with their own paths,
 * parameter names, auth placement and JSON shapes, each mapped by its response mapper to one
 * shape, so the client gets the same answer whichever vendor served it; with the first vendor
 * down, the next one serves.
 */
import { test, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { SimProvider } from "../../src/simulator/sim-provider.js";
import type { RestRequestInfo } from "../../src/simulator/sim-options.js";
import { createGateway, ConfigError } from "../../src/index.js";
import { loadResponseMappers } from "../../src/providers/rest/response-mapper.js";
import { simRoute } from "../helpers/sim-route.js";

const MAPPERS = fileURLToPath(new URL("../fixtures/mappers/", import.meta.url));
const seen: Record<string, RestRequestInfo[]> = { a: [], b: [], c: [] };

const vendors = ([a, b, c]: readonly [SimProvider, SimProvider, SimProvider], tiers: boolean) => [
  // A: symbol in the path, key in a header.
  {
    id: "vendor-a",
    provider: "rest" as const,
    base_url: a.url,
    key: "key-a-0001",
    auth: { type: "header" as const, name: "x-api-key" },
    path: "/v2/quote/{symbol}",
    response_mapper: "vendor-a.mjs",
    tier: 1,
  },
  // B: one query endpoint with a fixed function, the symbol renamed, the key in the query.
  {
    id: "vendor-b",
    provider: "rest" as const,
    base_url: b.url,
    key: "key-b-0002",
    auth: { type: "query" as const, name: "apikey" },
    path: "/query",
    query: { function: "GLOBAL_QUOTE" },
    params: { symbol: "ticker" },
    response_mapper: "vendor-b.ts",
    tier: tiers ? 2 : 1,
  },
  // C: a path per client path, the symbol renamed, a bearer key.
  {
    id: "vendor-c",
    provider: "rest" as const,
    base_url: `${c.url}/api`,
    key: "key-c-0003",
    path: { "/quote": "/prices" },
    params: { symbol: "s" },
    response_mapper: "vendor-c.mjs",
    tier: tiers ? 3 : 1,
  },
];
const f = await simRoute({
  sims: [
    {
      dialect: "rest",
      name: "vendor-a",
      rest_response: (r) => {
        seen.a!.push(r);
        return { quote: { ticker: decodeURIComponent(r.path.split("/").pop()!), last: 101.5, currency: "USD" } };
      },
    },
    {
      dialect: "rest",
      name: "vendor-b",
      rest_response: (r) => {
        seen.b!.push(r);
        return { "Global Quote": { "01. symbol": r.query.ticker, "05. price": "101.5000" } };
      },
    },
    {
      dialect: "rest",
      name: "vendor-c",
      rest_response: (r) => {
        seen.c!.push(r);
        return {
          data: [
            { s: "MSFT", p: 40000, scale: 2, ccy: "USD" },
            { s: r.query.s, p: 10150, scale: 2, ccy: "USD" },
          ],
        };
      },
    },
  ],
  routes: (sims) => [
    { name: "quotes", surface: "rest", service: "quotes", strategy: "round-robin", targets: vendors(sims, false) },
    {
      name: "quotes-ordered",
      surface: "rest",
      service: "quotes-ordered",
      strategy: "tiered",
      retry: { attempts: 3 },
      targets: vendors(sims, true),
    },
  ],
});
const {
  gw,
  sims: [a, b, c],
} = f;
await loadResponseMappers(gw.gateway.config, MAPPERS);
after(() => f.close());
beforeEach(async () => {
  for (const s of [a, b, c]) await s.set({ down: false });
  for (const k of Object.keys(seen)) seen[k] = [];
});

const EXPECTED = { symbol: "IBM", price: 101.5, currency: "USD" };

async function quote(service: string, symbol = "IBM") {
  const res = await fetch(`${gw.url}/rest/${service}/quote?symbol=${symbol}&range=1d`);
  const text = await res.text();
  return {
    status: res.status,
    target: res.headers.get("x-switchyard-target"),
    length: res.headers.get("content-length"),
    body: JSON.parse(text),
    text,
  };
}

test("three vendors of different shapes give the client the same mapped JSON", async () => {
  const targets = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const r = await quote("quotes");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, EXPECTED, `from ${r.target}`);
    assert.equal(Number(r.length), Buffer.byteLength(r.text));
    targets.add(r.target!);
  }
  assert.deepEqual([...targets].sort(), ["vendor-a", "vendor-b", "vendor-c"]);

  // Each vendor was called in its own way.
  assert.equal(seen.a![0]!.path, "/v2/quote/IBM");
  assert.deepEqual(seen.a![0]!.query, { range: "1d" });
  assert.equal(seen.a![0]!.key, "key-a-0001");
  assert.equal(seen.b![0]!.path, "/query");
  assert.deepEqual(seen.b![0]!.query, { ticker: "IBM", range: "1d", function: "GLOBAL_QUOTE", apikey: "key-b-0002" });
  assert.equal(seen.c![0]!.path, "/api/prices");
  assert.deepEqual(seen.c![0]!.query, { s: "IBM", range: "1d" });
  assert.equal(seen.c![0]!.key, "key-c-0003");
});

test("with the first vendor down, the next one serves the same answer", async () => {
  const first = await quote("quotes-ordered");
  assert.equal(first.target, "vendor-a");
  await a.set({ down: true });
  const r = await quote("quotes-ordered");
  assert.equal(r.status, 200);
  assert.equal(r.target, "vendor-b");
  assert.deepEqual(r.body, EXPECTED);
  await b.set({ down: true });
  const r2 = await quote("quotes-ordered");
  assert.equal(r2.target, "vendor-c");
  assert.deepEqual(r2.body, EXPECTED);
});

test("the library maps too: without loadResponseMappers, a mapper module loads on first use", async () => {
  const lib = createGateway({
    routes: [
      { name: "q", surface: "rest", service: "q", targets: [{ ...vendors(f.sims, false)[2]!, response_mapper: `${MAPPERS}vendor-c.mjs` }] },
    ],
  });
  try {
    const res = await lib.request("q", { path: "/quote?symbol=IBM" });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, EXPECTED);
  } finally {
    await lib.close();
  }
});

test("a mapper module that is missing or exports no function stops start-up with the field's path", async () => {
  const bad = createGateway({
    routes: [
      {
        name: "q",
        surface: "rest",
        service: "q",
        targets: [
          { id: "x", provider: "rest", base_url: a.url, response_mapper: "missing.mjs" },
          { id: "y", provider: "rest", base_url: a.url, response_mapper: "../../helpers/sse.ts" },
        ],
      },
    ],
  });
  await assert.rejects(loadResponseMappers(bad.config, MAPPERS), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /routes\[0\]\.targets\[0\]\.response_mapper: cannot load "missing\.mjs"/);
    assert.match(err.message, /routes\[0\]\.targets\[1\]\.response_mapper: "\.\.\/\.\.\/helpers\/sse\.ts" exports no function/);
    return true;
  });
  await bad.close();
});

test("config: path, params and response_mapper belong to rest targets only", () => {
  assert.throws(
    () =>
      createGateway({
        routes: [
          {
            name: "c",
            surface: "openai",
            models: ["m"],
            targets: [{ id: "o", provider: "openai", base_url: a.url, path: "/x", response_mapper: "m.mjs" }],
          },
        ],
      }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /targets\[0\]\.path: only applies to provider rest/.test(err.message) &&
      /response_mapper: only applies/.test(err.message),
  );
});
