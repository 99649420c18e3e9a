import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { parseConfigText, type ConfigInput } from "../../src/index.js";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway, type RunningGateway } from "../helpers/harness.js";
import { call } from "../helpers/http.js";
import { fire } from "../helpers/load.js";
import { countBy } from "../helpers/count.js";
import { eventually } from "../helpers/wait.js";
import { startCli } from "../helpers/cli.js";
import { startOwnRedis } from "../helpers/redis-server.js";
import { createLogger } from "../../src/telemetry/logger.js";

/**
 * Several gateways sharing their policies' state through Redis act as one: a breaker opened on A
 * and a key benched by A are respected by B and C; a Redis that dies costs no request, and what
 * changed meanwhile reaches the others when it is back. The real Redis on 127.0.0.1:6379 (keys
 * under a prefix of this run, deleted at the end); the outage on a redis-server of the test's own.
 */
const REDIS_URL = "redis://127.0.0.1:6379";
const PREFIX = `switchyard-test:${randomUUID()}:`;
const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const sims = [
  await startSimProvider({ dialect: "openai", name: "s0", latency_ms: 2 }),
  await startSimProvider({ dialect: "openai", name: "s1", latency_ms: 2 }),
  await startSimProvider({ dialect: "openai", name: "s2", latency_ms: 2 }),
];
const dir = mkdtempSync(join(tmpdir(), "switchyard-shared-state-"));

after(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await Promise.all(sims.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const routes = (s: readonly SimProvider[]): ConfigInput["routes"] => [
  {
    name: "chat",
    surface: "openai",
    models: ["demo"],
    targets: s.map((sim, i) => ({ id: `t${i}`, provider: "openai" as const, base_url: sim.url, key: `sk-shared-000${i}` })),
  },
];

/** Three gateways (a, b, c) sharing state under one prefix; resolves once each sees the three. */
async function threeGateways(prefix: string, url = REDIS_URL, names = ["a", "b", "c"]): Promise<RunningGateway[]> {
  const gws: RunningGateway[] = [];
  for (const instance of names)
    gws.push(
      await startGateway(
        { shared: { redis: { url, prefix, timeout_ms: 200 }, instance }, routes: routes(sims) },
        { logger: createLogger("silent") },
      ),
    );
  await eventually(
    async () =>
      (await Promise.all(gws.map((g) => g.status()))).every((s) => s.shared.healthy && s.shared.instances.length === names.length),
    10_000,
    "every instance linked and seeing the others",
  );
  return gws;
}

const breakerOf = async (gw: RunningGateway, target: number): Promise<string> =>
  (await gw.status()).routes[0].targets[target].breaker.state as string;

test("a breaker opened on A is respected by B and C: they stop sending to that target", async (t) => {
  const [a, b, c] = await threeGateways(`${PREFIX}breaker:`);
  try {
    const status = await a!.status();
    assert.deepEqual(status.shared, { instance: "a", healthy: true, instances: ["a", "b", "c"], store: "redis" });
    const metrics = await (await fetch(`${a!.url}/metrics`)).text();
    assert.match(metrics, /^switchyard_shared_state_up 1$/m);
    assert.match(metrics, /^switchyard_instance_info\{switchyard_instance="a",store="redis"\} 1$/m);
    // Before: every target takes calls through B.
    const warm = countBy(await fire(b!.url, 30, 3), (s) => s.target);
    assert.ok(warm["t0"]! > 0, "t0 takes calls before");

    const t0 = performance.now();
    assert.equal((await call(`${a!.url}/admin/routes/chat/targets/t0/open-breaker`, { method: "POST" })).status, 200);
    await eventually(
      async () => (await breakerOf(b!, 0)) === "forced_open" && (await breakerOf(c!, 0)) === "forced_open",
      3000,
      "B and C see it",
    );
    t.diagnostic(`breaker seen open on B and C ${Math.round(performance.now() - t0)} ms after A's admin call answered`);

    const before = sims[0]!.stats().requests;
    const shots = [...(await fire(b!.url, 40, 4)), ...(await fire(c!.url, 40, 4))];
    assert.deepEqual(
      countBy(shots, (s) => String(s.status)),
      { "200": 80 },
    );
    assert.equal(shots.filter((s) => s.target === "t0").length, 0, "no answer from t0 through B or C");
    assert.equal(sims[0]!.stats().requests, before, "the simulator behind t0 saw no call");

    // Reset on C: A and B take t0 again.
    assert.equal((await call(`${c!.url}/admin/routes/chat/targets/t0/reset-breaker`, { method: "POST" })).status, 200);
    await eventually(async () => (await breakerOf(a!, 0)) === "closed", 3000, "A sees the reset");
    assert.ok(countBy(await fire(a!.url, 30, 3), (s) => s.target)["t0"]! > 0, "t0 takes calls again");
  } finally {
    await Promise.all([a, b, c].map((g) => g!.close()));
  }
});

test("a 429 bench learned by A stops B and C from calling that key", async () => {
  const [a, b, c] = await threeGateways(`${PREFIX}bench:`);
  const limited = sims[1]!;
  try {
    await limited.set({ rate_limit_rate: 1, retry_after_s: 30 });
    const first = await fire(a!.url, 20, 2);
    assert.deepEqual(
      countBy(first, (s) => String(s.status)),
      { "200": 20 },
    );
    assert.equal(limited.stats().log.filter((e) => e.status === 429).length, 1, "A called the limited key once, then benched it");
    // From now on the key would answer: a call to it from B or C would show in the simulator.
    await limited.set({ rate_limit_rate: 0 });
    const benched = async (gw: RunningGateway) => Boolean((await gw.status()).routes[0].targets[1].rate_limit?.benched_until);
    await eventually(async () => (await benched(b!)) && (await benched(c!)), 3000, "B and C see the bench");
    const before = limited.stats().requests;
    const shots = [...(await fire(b!.url, 40, 4)), ...(await fire(c!.url, 40, 4))];
    assert.deepEqual(
      countBy(shots, (s) => String(s.status)),
      { "200": 80 },
    );
    assert.equal(limited.stats().requests, before, "B and C made no call to the benched key");
    assert.deepEqual((await b!.status()).routes[0].targets[1].excluded_by, ["rate_limit"]);
  } finally {
    await limited.set({ rate_limit_rate: 0, retry_after_s: 1 });
    await Promise.all([a, b, c].map((g) => g!.close()));
  }
});

test("Redis killed under load: no request fails, status says so; restarted: a change made meanwhile reaches the others", async () => {
  const own = await startOwnRedis();
  const gws = await threeGateways(`${PREFIX}outage:`, own.url);
  const [a, b, c] = gws;
  try {
    // Load on every instance while Redis dies and comes back.
    let loading = true;
    const shots: { status: number }[] = [];
    const load = Promise.all(
      gws.map(async (g) => {
        while (loading) shots.push(...(await fire(g.url, 10, 2)));
      }),
    );
    await own.kill();
    await eventually(
      async () => (await Promise.all(gws.map((g) => g.status()))).every((s) => !s.shared.healthy),
      5000,
      "every instance sees Redis down",
    );
    assert.match(await (await fetch(`${b!.url}/metrics`)).text(), /^switchyard_shared_state_up 0$/m);
    // A change during the outage: it holds on A at once, and cannot reach B yet.
    assert.equal((await call(`${a!.url}/admin/routes/chat/targets/t2/open-breaker`, { method: "POST" })).status, 200);
    assert.equal(await breakerOf(a!, 2), "forced_open");
    assert.equal(await breakerOf(b!, 2), "closed");
    await own.start();
    await eventually(
      async () => (await Promise.all(gws.map((g) => g.status()))).every((s) => s.shared.healthy),
      10_000,
      "every instance linked again",
    );
    await eventually(
      async () => (await breakerOf(b!, 2)) === "forced_open" && (await breakerOf(c!, 2)) === "forced_open",
      5000,
      "resync brought A's change to B and C",
    );
    loading = false;
    await load;
    assert.ok(shots.length > 30, `load ran throughout (${shots.length} requests)`);
    assert.deepEqual(
      countBy(shots, (s) => String(s.status)),
      { "200": shots.length },
      "no client request failed",
    );
  } finally {
    await Promise.all(gws.map((g) => g.close()));
    await own.close();
  }
});

test("three gateway processes: a breaker opened through one is respected by the other two", async () => {
  const prefix = `${PREFIX}processes:`;
  const ready = /listening on (http:\/\/\S+) \(/;
  const procs: Awaited<ReturnType<typeof startCli>>[] = [];
  try {
    for (const name of ["pa", "pb", "pc"]) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        `server: { port: 0 }
log: { level: warn }
shared: { redis: { url: "${REDIS_URL}", prefix: "${prefix}" }, instance: ${name} }
routes:
  - name: chat
    surface: openai
    models: [demo]
    targets:
${sims.map((s, i) => `      - { id: t${i}, provider: openai, base_url: "${s.url}", key: sk-shared-000${i} }`).join("\n")}
`,
      );
      procs.push(await startCli(["start", "--config", file], ready));
    }
    const urls = procs.map((p) => ready.exec(p.output())![1]!);
    const status = async (u: string) => (await call(`${u}/admin/status`)).json;
    await eventually(async () => (await status(urls[2]!)).shared?.instances.length === 3, 10_000, "pc sees the three");
    assert.equal((await call(`${urls[0]}/admin/routes/chat/targets/t1/open-breaker`, { method: "POST" })).status, 200);
    await eventually(
      async () =>
        (await status(urls[1]!)).routes[0].targets[1].breaker.state === "forced_open" &&
        (await status(urls[2]!)).routes[0].targets[1].breaker.state === "forced_open",
      3000,
      "pb and pc see it",
    );
    const before = sims[1]!.stats().requests;
    const shots = [...(await fire(urls[1]!, 30, 3)), ...(await fire(urls[2]!, 30, 3))];
    assert.equal(shots.filter((s) => s.status !== 200 || s.target === "t1").length, 0);
    assert.equal(sims[1]!.stats().requests, before, "no call reached t1 from pb or pc");
  } finally {
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
  }
});

test("README's shared-state example is a valid config", () => {
  // Parsed only: a gateway made from it would connect to its Redis (test/docs/readme.test.ts makes
  // one of every ```yaml block, so this block is fenced ```yml).
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Shared state through Redis"));
  const block = /```yml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block !== undefined, "the section has its example");
  const cfg = parseConfigText(
    `${block}routes: [{ name: r, surface: rest, service: s, targets: [{ id: t, provider: rest, base_url: "http://127.0.0.1:1" }] }]\n`,
    "README.md",
  );
  assert.deepEqual(cfg.shared, {
    redis: { url: "redis://redis:6379", prefix: "switchyard:", timeout_ms: 100 },
    instance: "gw-a",
    on_outage: "split",
  });
});
