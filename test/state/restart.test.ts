/**
 * Restart: totals, a disabled key and an open breaker are as they were. A real gateway
 * (createGateway + startServer) over simulators, its store in a temp folder; shut down,
 * started again on the same file.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGateway, MemoryStore, PersistedState, startServer, type ConfigInput } from "../../src/index.js";
import { parseConfig } from "../../src/config/load.js";
import { PersistentStore } from "../../src/state/persistent-store.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { fire } from "../helpers/load.js";
import { countBy } from "../helpers/count.js";
import { call } from "../helpers/http.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-restart-"));
const sims: SimProvider[] = [];
after(async () => {
  await Promise.all(sims.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});
for (const o of [{}, {}, { error_rate: 1 }, {}]) sims.push(await startSimProvider({ dialect: "openai", latency_ms: 1, ...o }));

/** t0 serves; t1 is disabled by the operator; t2 answers 500 until its breaker opens; t3's breaker is forced open. */
function config(path: string, urls = sims.map((s) => s.url)): ConfigInput {
  return {
    server: { host: "127.0.0.1", port: 0 },
    store: { path },
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        // No recovery probe: the open breaker must stay open across the restart, not be probed closed.
        breaker: { failure_threshold: 3, open_s: 600, max_open_s: 600, probe_interval_s: 0 },
        targets: urls.map((url, i) => ({ id: `t${i}`, provider: "openai" as const, base_url: url, key: `sk-restart-000${i}` })),
      },
    ],
  };
}

async function start(path: string) {
  const gateway = createGateway(config(path), { logger: createLogger("silent") });
  const server = await startServer(gateway, { logger: createLogger("silent") });
  const status = async () => (await call(`${server.url}/admin/status`)).json;
  return { gateway, server, url: server.url, status };
}

/** What must be the same after a restart: the counters, not what is in flight or the time windows. */
function totals(status: any) {
  return {
    requests: status.totals.requests,
    errors: status.totals.errors,
    routes: status.routes.map((r: any) => ({
      name: r.name,
      requests: r.requests,
      targets: r.targets.map((t: any) => {
        const { in_flight: _inFlight, ...stats } = t.stats;
        return { id: t.id, stats };
      }),
    })),
  };
}

test("restart: totals, a disabled key and an open breaker are as they were, and the disabled key gets no traffic", async () => {
  const path = join(dir, "switchyard.db");
  const first = await start(path);
  let before: any;
  try {
    const shots = await fire(first.url, 40, 1);
    assert.deepEqual(
      countBy(shots, (s) => String(s.status)),
      { "200": 40 },
      "t2's 500s are retried elsewhere",
    );
    const disabled = await call(`${first.url}/admin/routes/chat/targets/t1/disable`, { method: "POST" });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal((await call(`${first.url}/admin/routes/chat/targets/t3/open-breaker`, { method: "POST" })).status, 200);
    await fire(first.url, 10, 1);
    before = await first.status();
  } finally {
    await first.server.shutdown(1000);
  }
  const [t0, t1, t2, t3] = before.routes[0].targets;
  assert.ok(t0.stats.requests > 0 && t1.stats.requests > 0 && t2.stats.failures >= 3, JSON.stringify(totals(before)));
  assert.equal(t1.key_disabled.reason, "operator");
  assert.equal(t2.breaker.state, "open");
  assert.ok(t2.breaker.open_until > Date.now() + 500_000);
  assert.equal(t3.breaker.state, "forced_open");

  const second = await start(path);
  try {
    assert.ok(second.gateway.engine.store instanceof PersistentStore);
    const now = await second.status();
    assert.deepEqual(totals(now), totals(before), "every counter of the gateway, the route and each target");
    const [n0, n1, n2, n3] = now.routes[0].targets;
    assert.deepEqual(n1.key_disabled, t1.key_disabled, "still disabled, same reason, detail and since");
    assert.equal(n1.eligible, false);
    assert.deepEqual(
      { state: n2.breaker.state, open_until: n2.breaker.open_until, openings: n2.breaker.openings },
      { state: "open", open_until: t2.breaker.open_until, openings: t2.breaker.openings },
      "still open, with the same expiry",
    );
    assert.equal(n3.breaker.state, "forced_open");
    assert.equal(n0.eligible, true);

    for (const s of sims) s.resetStats();
    const shots = await fire(second.url, 20, 2);
    assert.deepEqual(
      countBy(shots, (s) => `${s.status} ${s.target}`),
      { "200 t0": 20 },
    );
    assert.equal(sims[1]!.stats().requests, 0, "the disabled key's upstream gets nothing");
    assert.equal(sims[2]!.stats().requests, 0);
    assert.equal(sims[3]!.stats().requests, 0);
    const later = await second.status();
    assert.equal(later.totals.requests, before.totals.requests + 20, "counting goes on from the saved totals");
    assert.equal(later.routes[0].targets[0].stats.requests, t0.stats.requests + 20);
  } finally {
    await second.server.shutdown(1000);
  }
});

test("restart: a target whose base URL changed while down starts fresh; the others keep theirs", async () => {
  const path = join(dir, "repointed.db");
  const log = createLogger("silent");
  const a = createGateway(config(path), { logger: log });
  for (let i = 0; i < 8; i++) assert.equal((await a.request("chat", { body: chatBody() })).status, 200);
  const route = a.route("chat")!;
  route.policies.list.act("disable", route.targets[0]!, Date.now());
  route.policies.list.act("disable", route.targets[1]!, Date.now());
  const savedT1 = route.targets[1]!.stats.requests;
  await a.close();

  // t0 now points at sim 3 (another upstream under the same id).
  const b = createGateway(config(path, [sims[3]!.url, sims[1]!.url, sims[2]!.url, sims[0]!.url]), { logger: log });
  try {
    const [t0, t1] = b.route("chat")!.targets;
    assert.equal(b.route("chat")!.policies.list.isEligible(t0!, Date.now()), true, "re-pointed: not disabled");
    assert.equal(t0!.stats.requests, 0, "re-pointed: no totals");
    assert.equal(b.route("chat")!.policies.list.isEligible(t1!, Date.now()), false, "same upstream: still disabled");
    assert.equal(t1!.stats.requests, savedT1);
  } finally {
    await b.close();
  }
});

test("restart: store.path :memory: keeps state in memory; a store that cannot be opened is logged and memory used", async () => {
  const errors: string[] = [];
  const log = { info() {}, warn() {}, error: (_o: object, msg: string) => void errors.push(msg) };
  const memory = PersistedState.open(parseConfig(config(":memory:"), "test"), log);
  assert.ok(memory.store instanceof MemoryStore);
  assert.equal(memory.path, undefined);
  await memory.close();
  assert.deepEqual(errors, []);

  const notADatabase = join(dir, "not-a-database.db");
  writeFileSync(notADatabase, "plain text where an SQLite header should be ".repeat(50));
  const broken = PersistedState.open(parseConfig(config(notADatabase), "test"), log);
  assert.ok(broken.store instanceof MemoryStore);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /cannot open the store/);
  await broken.close();
});

function chatBody() {
  return { model: "demo", messages: [{ role: "user", content: "hi" }] };
}
