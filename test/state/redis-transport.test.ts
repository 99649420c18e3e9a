import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RedisTransport } from "../../src/state/redis-transport.js";
import { eventually } from "../helpers/wait.js";
import { startOwnRedis } from "../helpers/redis-server.js";

/**
 * The Redis transport against the real Redis on 127.0.0.1:6379 (keys under a prefix of this run,
 * deleted at the end), and against a redis-server of its own for the outage.
 */
const REDIS_URL = "redis://127.0.0.1:6379";
const PREFIX = `switchyard-test:${randomUUID()}:`;
const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();

after(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const transport = (instance: string, url = REDIS_URL, prefix = PREFIX) =>
  new RedisTransport({ url, prefix, timeoutMs: 200, instance, refreshMs: 100, instanceTtlMs: 500 });

test("a published state is written through, reaches the other instances (not its own) and is in the snapshot", async () => {
  const a = transport("a");
  const b = transport("b");
  try {
    const atA: string[] = [];
    const atB: [string, string | null][] = [];
    a.onChange((k) => atA.push(k));
    b.onChange((k, j) => atB.push([k, j]));
    await eventually(() => a.healthy && b.healthy, 5000, "both links up");
    const json = JSON.stringify({ state: "open", open_until: 123, openings: 1 });
    a.publish("breaker/chat/t1", json);
    await eventually(() => atB.length === 1, 3000, "b told of a's change");
    assert.deepEqual(atB[0], ["breaker/chat/t1", json]);
    assert.equal(await redis.get(`${PREFIX}state:breaker/chat/t1`), json, "written through under <prefix>state:<key>");
    assert.equal(await redis.pttl(`${PREFIX}state:breaker/chat/t1`), -1, "a state key carries no TTL");
    const snap = await b.snapshot();
    assert.equal(snap.get("breaker/chat/t1"), json);
    // null: the key is dropped, and the others told so.
    a.publish("breaker/chat/t1", null);
    await eventually(() => atB.length === 2, 3000, "b told of the drop");
    assert.deepEqual(atB[1], ["breaker/chat/t1", null]);
    assert.equal(await redis.exists(`${PREFIX}state:breaker/chat/t1`), 0);
    assert.deepEqual(atA, [], "an instance is never told of its own changes");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("the registry lists the live instances; one that closed drops out", async () => {
  const prefix = `${PREFIX}registry:`;
  const a = transport("a", REDIS_URL, prefix);
  const b = transport("b", REDIS_URL, prefix);
  try {
    await eventually(() => a.instances().length === 2, 5000, "a sees both");
    assert.deepEqual(a.instances(), ["a", "b"]);
    await b.close();
    await eventually(() => a.instances().length === 1, 5000, "b gone from a's list");
    assert.deepEqual(a.instances(), ["a"]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("two transports in one process without a configured name get different names", async () => {
  const a = new RedisTransport({ url: REDIS_URL, prefix: PREFIX, timeoutMs: 200 });
  const b = new RedisTransport({ url: REDIS_URL, prefix: PREFIX, timeoutMs: 200 });
  try {
    assert.notEqual(a.instance, b.instance);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("Redis killed: publish never throws, health goes down (told once); restarted: health comes back", async () => {
  const own = await startOwnRedis();
  const a = transport("a", own.url);
  const health: boolean[] = [];
  a.onHealth((up) => health.push(up));
  try {
    await eventually(() => a.healthy, 5000, "link up");
    await own.kill();
    await eventually(() => !a.healthy, 5000, "link down");
    for (let i = 0; i < 10; i++) a.publish(`breaker/chat/t${i}`, "{}");
    await assert.rejects(a.snapshot(), "a snapshot without Redis rejects (the store retries it)");
    assert.deepEqual(a.instances(), ["a"], "the last instances seen are kept");
    await own.start();
    await eventually(() => a.healthy, 10_000, "link back");
    assert.deepEqual(health, [true, false, true]);
    a.publish("breaker/chat/t1", '{"state":"forced_open"}');
    const snap = await eventually(async () => (await a.snapshot()).size === 1, 3000, "written after the restart").then(() => a.snapshot());
    assert.equal(snap.get("breaker/chat/t1"), '{"state":"forced_open"}');
  } finally {
    await a.close();
    await own.close();
  }
});
