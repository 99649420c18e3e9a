/**
 * Budgets end to end: the real server and pipeline, an OpenAI simulator whose every answer has 16
 * completion tokens, priced so that one request costs exactly $0.004 (output $250 per 1M tokens,
 * input free). A $0.01 cap therefore lets requests 1-3 through (0.004, 0.008, 0.012) and refuses
 * the 4th: the request that crosses the cap is served, every one after it is refused.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGateway, startServer, type ConfigInput } from "../../src/index.js";
import { parseConfig } from "../../src/config/load.js";
import { Gateway } from "../../src/pipeline/gateway.js";
import { MemoryStore } from "../../src/state/memory-store.js";
import { SwitchyardServer } from "../../src/server/server.js";
import { GatewayEvents, type RequestRecord } from "../../src/core/events.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { Budgets, type BudgetedGateway } from "../../src/front/budgets.js";
import { budgetsEndpoint } from "../../src/admin/budgets-api.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import type { ConfigError } from "../../src/errors.js";
import { call, type Reply } from "../helpers/http.js";
import { chatBody } from "../helpers/harness.js";

const sim = await startSimProvider({ dialect: "openai", completion_tokens: 16 });
after(() => sim.close());

type RouteInput = ConfigInput["routes"][number];
const COST = { input_per_1m: 0, output_per_1m: 250 };

function route(name: string, models: string[], extra: Partial<RouteInput> = {}): RouteInput {
  return {
    name,
    surface: "openai",
    models,
    ...extra,
    targets: [{ id: `${name}-0`, provider: "openai", base_url: sim.url, key: "sk-sim-0001", cost: COST }],
  };
}

const KEYS = [
  { name: "team-a", key: "sk-team-a-0001", budget: { daily_usd: 0.01 } },
  { name: "team-b", key: "sk-team-b-0001" },
];

/**
 * A gateway with the budgets installed after a stand-in for client-key authentication (another
 * part of the front door): it names the key a request's bearer token belongs to. Built from the
 * Gateway itself, so the step order is this test's whatever createGateway installs.
 */
async function budgetGateway(config: Omit<ConfigInput, "server">) {
  const parsed = parseConfig({ ...config, server: { host: "127.0.0.1", port: 0 } }, "budgets.test");
  const gateway = new Gateway(parsed, { store: new MemoryStore() });
  gateway.start();
  gateway.use({
    name: "test-client-key",
    admit(ctx) {
      const auth = ctx.headers.authorization;
      const key = gateway.config.client_keys.find((k) => auth === `Bearer ${k.key}`);
      if (key !== undefined) ctx.clientKey = key.name;
    },
  });
  const budgets = Budgets.install(gateway);
  const server = new SwitchyardServer(gateway, createLogger("silent"), [budgetsEndpoint(budgets)]);
  await server.listen(0, "127.0.0.1");
  return { gateway, budgets, server, url: server.url, close: () => server.shutdown(0) };
}

function chat(url: string, model = "demo", key?: string): Promise<Reply> {
  return call(`${url}/v1/chat/completions`, {
    body: chatBody(model),
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });
}

/** Seconds from now to the next UTC midnight / month start, as Retry-After counts them. */
function secondsToNextDay(): number {
  const now = Date.now();
  return Math.ceil((Math.floor(now / 86_400_000 + 1) * 86_400_000 - now) / 1000);
}
function secondsToNextMonth(): number {
  const d = new Date();
  return Math.ceil((Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - d.getTime()) / 1000);
}

test("a client key with a $0.01 daily budget is stopped at the request after the one that crosses it", async () => {
  const gw = await budgetGateway({ client_keys: KEYS, routes: [route("chat", ["demo"])] });
  try {
    for (let i = 1; i <= 3; i++) {
      const r = await chat(gw.url, "demo", "sk-team-a-0001");
      assert.equal(r.status, 200, `request ${i} is served`);
      assert.equal(r.json.usage.completion_tokens, 16, "each answer costs exactly $0.004");
      assert.equal(r.json.usage.prompt_tokens > 0, true);
    }
    const before = Date.now();
    const refused = await chat(gw.url, "demo", "sk-team-a-0001");
    assert.equal(refused.status, 402);
    assert.equal(refused.headers["x-switchyard-error"], "budget_exceeded");
    assert.equal(refused.json.error.code, "budget_exceeded");
    assert.match(refused.json.error.message, /client key "team-a" reached its daily budget \(\$0\.012 spent of \$0\.01 this UTC day\)/);
    assert.match(refused.json.error.message, /resets at \d{4}-\d\d-\d\dT00:00:00\.000Z$/);
    const retryAfter = Number(refused.headers["retry-after"]);
    const expected = Math.ceil((Math.floor(before / 86_400_000 + 1) * 86_400_000 - before) / 1000);
    assert.ok(retryAfter >= 1 && retryAfter <= expected && retryAfter >= secondsToNextDay() - 5, `Retry-After ${retryAfter} ≈ ${expected}`);
    // Refused every time after, not only once.
    assert.equal((await chat(gw.url, "demo", "sk-team-a-0001")).status, 402);
    // Another key, and a request without a key, are not concerned.
    assert.equal((await chat(gw.url, "demo", "sk-team-b-0001")).status, 200);
    assert.equal((await chat(gw.url, "demo")).status, 200);

    const report = (await call(`${gw.url}/admin/budgets`)).json;
    assert.deepEqual(report.client_keys, [
      {
        name: "team-a",
        spent_today_usd: 0.012,
        spent_month_usd: 0.012,
        daily_usd: 0.01,
        monthly_usd: null,
        remaining_today_usd: 0,
        remaining_month_usd: null,
        exceeded: "daily",
      },
    ]);
    assert.deepEqual(report.routes, []);
    assert.doesNotMatch(JSON.stringify(report), /sk-team/, "no key in the admin answer");
  } finally {
    await gw.close();
  }
});

test("a route with a $0.01 monthly budget serves 3 requests (all its clients together) and refuses the 4th until the month ends", async () => {
  const gw = await budgetGateway({ client_keys: KEYS, routes: [route("chat", ["demo"], { budget: { monthly_usd: 0.01 } })] });
  try {
    assert.equal((await chat(gw.url, "demo", "sk-team-b-0001")).status, 200);
    // A streamed answer (without a key) counts too: the gateway reads its usage from the stream's
    // last chunk (asked for upstream, kept from this client); were it not counted, the 4th would pass.
    const streamed = await call(`${gw.url}/v1/chat/completions`, { body: chatBody("demo", { stream: true }) });
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /data: \[DONE\]/);
    assert.equal((await chat(gw.url, "demo", "sk-team-b-0001")).status, 200);
    const refused = await chat(gw.url, "demo", "sk-team-b-0001");
    assert.equal(refused.status, 402);
    assert.equal(refused.json.error.code, "budget_exceeded");
    assert.match(refused.json.error.message, /route "chat" reached its monthly budget \(\$0\.012 spent of \$0\.01 this UTC month\)/);
    assert.match(refused.json.error.message, /resets at \d{4}-\d\d-01T00:00:00\.000Z$/);
    const retryAfter = Number(refused.headers["retry-after"]);
    assert.ok(retryAfter > secondsToNextMonth() - 5 && retryAfter <= secondsToNextMonth() + 1, `Retry-After ${retryAfter}`);
    assert.equal((await chat(gw.url)).status, 402, "a request without a key is refused too");

    const report = (await call(`${gw.url}/admin/budgets`)).json;
    assert.deepEqual(report.routes, [
      {
        name: "chat",
        spent_today_usd: 0.012,
        spent_month_usd: 0.012,
        daily_usd: null,
        monthly_usd: 0.01,
        remaining_today_usd: null,
        remaining_month_usd: 0,
        exceeded: "monthly",
        fallback_route: null,
      },
    ]);
  } finally {
    await gw.close();
  }
});

test("a route over its budget sends requests to its fallback_route until that one is over its own, then refuses", async () => {
  const gw = await budgetGateway({
    routes: [
      route("premium", ["demo"], { budget: { daily_usd: 0.01, fallback_route: "cheap" } }),
      route("cheap", ["demo-cheap"], { budget: { daily_usd: 0.008 } }),
    ],
  });
  try {
    for (let i = 1; i <= 3; i++) {
      const r = await chat(gw.url, "demo");
      assert.equal(r.status, 200);
      assert.equal(r.headers["x-switchyard-target"], "premium-0", `request ${i} is served by its own route`);
    }
    for (let i = 4; i <= 5; i++) {
      const r = await chat(gw.url, "demo");
      assert.equal(r.status, 200, `request ${i} is served`);
      assert.equal(r.headers["x-switchyard-target"], "cheap-0", `request ${i} is served by the fallback route`);
    }
    const refused = await chat(gw.url, "demo");
    assert.equal(refused.status, 402);
    assert.match(
      refused.json.error.message,
      /route "premium" reached its daily budget \(\$0\.012 spent of \$0\.01 this UTC day\); its fallback route "cheap" reached its daily budget \(\$0\.008 spent of \$0\.008 this UTC day\)/,
    );
    const report = (await call(`${gw.url}/admin/budgets`)).json;
    assert.deepEqual(
      report.routes.map((r: any) => [r.name, r.spent_today_usd, r.exceeded, r.fallback_route]),
      [
        ["premium", 0.012, "daily", "cheap"],
        ["cheap", 0.008, "daily", null],
      ],
    );
  } finally {
    await gw.close();
  }
});

test("a route's fallback_route must exist, be another route and serve the same surface (checked at load)", () => {
  const bad =
    (fallback: string, surface: "openai" | "anthropic" = "openai") =>
    () =>
      parseConfig(
        {
          routes: [
            route("premium", ["demo"], { budget: { daily_usd: 1, fallback_route: fallback } }),
            { ...route("other", ["demo"]), surface },
          ],
        },
        "t",
      );
  assert.throws(bad("nope", "anthropic"), (e: ConfigError) =>
    e.problems.includes('routes[0].budget.fallback_route: no route named "nope"'),
  );
  assert.throws(bad("premium", "anthropic"), (e: ConfigError) =>
    e.problems.includes("routes[0].budget.fallback_route: must name another route (not this one)"),
  );
  assert.throws(bad("other", "anthropic"), (e: ConfigError) =>
    e.problems.includes('routes[0].budget.fallback_route: route "other" serves surface anthropic, not openai'),
  );
});

test("spend is seeded from the usage ledger at start: a restart on the same store remembers it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-budgets-"));
  const config: ConfigInput = {
    server: { host: "127.0.0.1", port: 0 },
    store: { path: join(dir, "switchyard.db") },
    log: { level: "silent" },
    routes: [route("chat", ["demo"], { budget: { daily_usd: 0.01 } })],
  };
  const start = async () => {
    const gateway = createGateway(config);
    const server = await startServer(gateway, { logger: createLogger("silent") });
    // Installed by createGateway/startServer once wired; install() returns that same one.
    const budgets = Budgets.install(gateway);
    return { gateway, server, budgets, url: server.url };
  };
  try {
    const first = await start();
    assert.equal((await chat(first.url)).status, 200);
    assert.equal((await chat(first.url)).status, 200);
    await first.server.shutdown(0); // the ledger writes what it holds

    const second = await start();
    try {
      // What startServer does at start (seeding twice changes nothing: each window keeps the larger).
      const from = second.budgets.monthStartsAt;
      for (let i = 0; i < 2; i++) {
        const usage = (await call(`${second.url}/admin/usage?group_by=client_key,route,day&from=${from}`)).json;
        second.budgets.seed(usage.rows);
      }
      const line = second.budgets.report().routes[0];
      assert.equal(line?.spent_today_usd, 0.008);
      assert.equal(line?.spent_month_usd, 0.008);
      assert.equal((await chat(second.url)).status, 200, "the 3rd request of the day is served (0.012)");
      const refused = await chat(second.url);
      assert.equal(refused.status, 402, "the 4th is refused across the restart");
      assert.equal(refused.json.error.code, "budget_exceeded");
    } finally {
      await second.server.shutdown(0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Pure time logic: a gateway stand-in and a clock the test moves. */
function clocked(config: unknown, start: number) {
  const clock = { now: start };
  const gateway: BudgetedGateway = {
    config: parseConfig(config, "t"),
    events: new GatewayEvents(),
    route: () => undefined,
    use: () => undefined,
  };
  const budgets = new Budgets(gateway, { now: () => clock.now });
  const spend = (costUsd: number, route = "chat", clientKey = "team-a") =>
    gateway.events.request({ route, clientKey, costUsd } as RequestRecord);
  return { clock, budgets, spend, gateway };
}

test("daily spend starts again at 00:00 UTC and monthly spend on the 1st; costs sum exactly", () => {
  const config = { client_keys: [KEYS[0]], routes: [route("chat", ["demo"], { budget: { daily_usd: 1, monthly_usd: 10 } })] };
  const t = clocked(config, Date.UTC(2027, 0, 31, 23, 59, 59));
  for (let i = 0; i < 10; i++) t.spend(0.1); // 0.1 × 10 is not 1 in floating point; nano-dollars are exact
  let line = t.budgets.report().routes[0]!;
  assert.equal(line.spent_today_usd, 1);
  assert.equal(line.exceeded, "daily");
  assert.equal(t.budgets.report().day_resets_at, "2027-02-01T00:00:00.000Z");

  t.clock.now = Date.UTC(2027, 1, 1, 0, 0, 0); // a new day and a new month
  line = t.budgets.report().routes[0]!;
  assert.deepEqual([line.spent_today_usd, line.spent_month_usd, line.exceeded], [0, 0, null]);
  t.spend(0.25);
  t.clock.now = Date.UTC(2027, 1, 2, 12);
  t.spend(0.5);
  line = t.budgets.report().routes[0]!;
  assert.deepEqual(
    [line.spent_today_usd, line.spent_month_usd, line.remaining_today_usd, line.remaining_month_usd],
    [0.5, 0.75, 0.5, 9.25],
  );
  assert.equal(t.budgets.report().month_resets_at, "2027-03-01T00:00:00.000Z");
  assert.equal(t.budgets.report().client_keys[0]!.spent_month_usd, 0.75);
});

test("seed takes today's and this month's rows, keeps the larger of counted and seeded, and names only capped keys and routes", () => {
  const config = { client_keys: KEYS, routes: [route("chat", ["demo"], { budget: { daily_usd: 1 } }), route("free", ["x"])] };
  const t = clocked(config, Date.UTC(2027, 4, 20, 10));
  t.spend(0.3);
  t.budgets.seed([
    { client_key: "team-a", route: "chat", day: "2027-05-20", cost_usd: 0.2 },
    { client_key: "team-a", route: "chat", day: "2027-05-03", cost_usd: 2 },
    { client_key: "", route: "chat", day: "2027-05-20", cost_usd: 0.5 },
  ]);
  const r = t.budgets.report();
  assert.deepEqual(
    r.client_keys.map((k) => [k.name, k.spent_today_usd, k.spent_month_usd]),
    [["team-a", 0.3, 2.2]],
  );
  assert.deepEqual(
    r.routes.map((k) => [k.name, k.spent_today_usd, k.spent_month_usd, k.exceeded]),
    [["chat", 0.7, 2.7, null]],
  );
  assert.equal(t.budgets.monthStartsAt, Date.UTC(2027, 4, 1));
});
