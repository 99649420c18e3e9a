import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import type { ConfigInput } from "../../src/index.js";
import { startGateway } from "../helpers/harness.js";
import { call } from "../helpers/http.js";
import { startCli } from "../helpers/cli.js";

/**
 * The cache in Redis (the real one on 127.0.0.1:6379, keys under a prefix of this run, deleted at
 * the end): an entry written through one gateway process is a hit in another; a Redis that does
 * not answer makes misses, never failed requests.
 */
const PREFIX = `switchyard-test:${randomUUID()}:`;
const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const sim = await startSimProvider({ dialect: "openai", name: "upstream" });
const dir = mkdtempSync(join(tmpdir(), "switchyard-redis-cache-"));

after(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const routes = (cache: { ttl_s: number }): ConfigInput["routes"] => [
  {
    name: "chat",
    surface: "openai" as const,
    models: ["demo"],
    cache,
    targets: [{ id: "up", provider: "openai" as const, base_url: sim.url, key: "sk-sim-0001" }],
  },
];
const body = (q: string) => ({ model: "demo", messages: [{ role: "user", content: q }], max_tokens: 30 });

test("an entry cached through one gateway process is a hit in another (Redis store)", async () => {
  const a = await startGateway({ cache: { store: "redis", redis: { prefix: PREFIX } }, routes: routes({ ttl_s: 60 }) });
  const file = join(dir, "b.yaml");
  writeFileSync(
    file,
    `server: { port: 0 }
log: { level: warn }
cache: { store: redis, redis: { prefix: "${PREFIX}" } }
routes:
  - name: chat
    surface: openai
    models: [demo]
    cache: { ttl_s: 60 }
    targets: [{ id: up, provider: openai, base_url: "${sim.url}", key: sk-sim-0001 }]
`,
  );
  const ready = /listening on (http:\/\/\S+) \(/;
  const b = await startCli(["start", "--config", file], ready);
  try {
    const bUrl = ready.exec(b.output())?.[1] as string;
    const q = `shared question ${randomUUID()}`;
    const before = sim.stats().requests;
    const first = await call(`${a.url}/v1/chat/completions`, { body: body(q) });
    assert.equal(first.headers["x-switchyard-cache"], "miss");
    // The write is fire-and-forget: wait until Redis has it.
    for (let i = 0; i < 250 && (await redis.keys(`${PREFIX}*`)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const second = await call(`${bUrl}/v1/chat/completions`, { body: body(q) });
    assert.equal(second.status, 200);
    assert.equal(second.headers["x-switchyard-cache"], "hit");
    assert.equal(second.text, first.text);
    assert.equal(sim.stats().requests, before + 1, "process B made no upstream call");
    const ttl = await redis.pttl((await redis.keys(`${PREFIX}*`))[0] as string);
    assert.ok(ttl > 50_000 && ttl <= 60_000, `the entry expires with its TTL (${ttl} ms left)`);
    const status = await a.status();
    assert.equal(status.admission.cache.store, "redis");
    assert.equal(status.admission.cache.healthy, true);
  } finally {
    b.child.kill("SIGTERM");
    await b.exited;
    await a.close();
  }
});

test("a Redis that does not answer makes misses, never failed requests", async () => {
  // Nothing listens on port 1: every call fails at once, and the requests go upstream.
  const gw = await startGateway({
    cache: { store: "redis", redis: { url: "redis://127.0.0.1:1", prefix: PREFIX } },
    routes: routes({ ttl_s: 60 }),
  });
  try {
    const q = `no redis ${randomUUID()}`;
    const before = sim.stats().requests;
    for (let i = 0; i < 3; i++) {
      const r = await call(`${gw.url}/v1/chat/completions`, { body: body(q) });
      assert.equal(r.status, 200);
      assert.equal(r.headers["x-switchyard-cache"], "miss");
    }
    assert.equal(sim.stats().requests, before + 3);
    assert.equal((await gw.status()).admission.cache.healthy, false);
  } finally {
    await gw.close();
  }
});
