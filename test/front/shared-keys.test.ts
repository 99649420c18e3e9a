/**
 * Client keys shared through Redis, end to end: three real gateways (in this process, each with
 * its own server, registry and Redis connections) under one prefix. A key made through the admin
 * API of one is accepted by the others within a moment, disabled or deleted through one it is
 * refused by all, and a gateway started afterwards knows every key. While Redis is gone, the keys
 * known are still served and changes are refused (503); once it is back, missed changes are read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { ConfigInput } from "../../src/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { type RunningGateway, startGateway } from "../helpers/harness.js";
import { startOwnRedis } from "../helpers/redis-server.js";
import { eventually } from "../helpers/wait.js";

const CONFIG_SECRET = "sk-shared-keys-config-0001";
const CHAT_BODY = JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] });

function config(sim: SimProvider, url: string, prefix: string): ConfigInput {
  return {
    shared: { redis: { url, prefix, timeout_ms: 200 } },
    // One config key, so keys are enforced from the start.
    client_keys: [{ name: "ops", key: CONFIG_SECRET }],
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "t0", provider: "openai", base_url: sim.url, key: "sk-sim-0000" }],
      },
    ],
  };
}

const start = (sim: SimProvider, url: string, prefix: string) => startGateway(config(sim, url, prefix), { logger: createLogger("silent") });

/** The status of a chat request with this key. */
async function chat(g: RunningGateway, secret: string): Promise<number> {
  const res = await fetch(`${g.url}/v1/chat/completions`, {
    method: "POST",
    body: CHAT_BODY,
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
  });
  await res.arrayBuffer();
  return res.status;
}

async function admin(g: RunningGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${g.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

/** Waits until every gateway answers `status` to this key; returns how long that took, ms. */
async function seenBy(gateways: RunningGateway[], secret: string, status: number, what: string): Promise<number> {
  const t0 = performance.now();
  await eventually(async () => (await Promise.all(gateways.map((g) => chat(g, secret)))).every((s) => s === status), 2000, what);
  return Math.round(performance.now() - t0);
}

/**
 * Makes a key, once the instance has read the shared keys (right after start its Redis connections
 * are still opening: a change is refused with 503 until then, never kept on one instance alone).
 */
async function make(g: RunningGateway, body: unknown): Promise<{ status: number; json: any }> {
  let answer = await admin(g, "POST", "/admin/keys", body);
  await eventually(
    async () => {
      if (answer.status !== 503) return true;
      answer = await admin(g, "POST", "/admin/keys", body);
      return answer.status !== 503;
    },
    3000,
    "the instance reading the shared keys",
  );
  return answer;
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

test("a client key made, disabled and deleted through any instance is known by every instance; a later instance knows every key", async () => {
  const url = "redis://127.0.0.1:6379";
  const prefix = `sy-test-shared-keys-${randomUUID()}:`;
  const redis = new Redis(url);
  const sim = await startSimProvider({ dialect: "openai" });
  const gateways: RunningGateway[] = [];
  try {
    for (let i = 0; i < 3; i++) gateways.push(await start(sim, url, prefix));
    const [a, b, c] = gateways as [RunningGateway, RunningGateway, RunningGateway];

    const made = await make(a, { name: "ci", models: ["demo"] });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const secret = made.json.key as string;
    const kept = await admin(a, "POST", "/admin/keys", { name: "kept" });
    assert.equal(kept.status, 201);
    assert.equal(await chat(a, secret), 200, "the instance that made it accepts it at once");
    console.log(`# made on A, accepted by B and C after ${await seenBy([b, c], secret, 200, "B and C accepting the new key")} ms`);
    assert.equal(await chat(b, kept.json.key as string), 200);

    // Only the hash is in Redis, never the secret.
    const stored = await redis.hget(`${prefix}client-keys`, "ci");
    assert.ok(stored !== null && !stored.includes(secret) && JSON.parse(stored).sha256.length === 64);
    const listed = await admin(c, "GET", "/admin/keys");
    assert.deepEqual(
      listed.json.keys.map((k: { name: string; source: string }) => `${k.source}:${k.name}`),
      ["config:ops", "api:ci", "api:kept"],
    );

    // A name taken on another instance is refused there too.
    assert.equal((await admin(b, "POST", "/admin/keys", { name: "ci" })).status, 409);

    assert.equal((await admin(b, "PATCH", "/admin/keys/ci", { disabled: true })).status, 200);
    assert.equal(await chat(b, secret), 403);
    console.log(`# disabled on B, refused (403) by A and C after ${await seenBy([a, c], secret, 403, "A and C refusing")} ms`);

    assert.equal((await admin(c, "DELETE", "/admin/keys/ci")).status, 200);
    assert.equal(await chat(c, secret), 401);
    console.log(`# deleted on C, refused (401) by A and B after ${await seenBy([a, b], secret, 401, "A and B refusing")} ms`);
    assert.equal(await redis.hexists(`${prefix}client-keys`, "ci"), 0);

    const d = await start(sim, url, prefix);
    gateways.push(d);
    await seenBy([d], kept.json.key as string, 200, "a later instance accepting the kept key");
    assert.equal(await chat(d, secret), 401, "a later instance does not know the deleted key");
    assert.equal(await chat(d, CONFIG_SECRET), 200);
  } finally {
    await Promise.all(gateways.map((g) => g.close()));
    await sim.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  }
});

test("while Redis is gone the known keys are served and key changes are refused (503); once back, missed changes are read", async () => {
  const own = await startOwnRedis();
  const prefix = `sy-test-shared-keys-outage-${randomUUID()}:`;
  const sim = await startSimProvider({ dialect: "openai" });
  const gateways: RunningGateway[] = [];
  try {
    for (let i = 0; i < 2; i++) gateways.push(await start(sim, own.url, prefix));
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const made = await make(a, { name: "ci" });
    assert.equal(made.status, 201);
    const secret = made.json.key as string;
    await seenBy([b], secret, 200, "B accepting the new key");

    await own.kill();
    await eventually(async () => (await admin(a, "POST", "/admin/keys", { name: "x" })).status === 503, 3000, "A refusing changes");
    const refused = await admin(b, "PATCH", "/admin/keys/ci", { disabled: true });
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error.code, "shared_store_unavailable");
    for (const g of gateways) assert.equal(await chat(g, secret), 200, "a known key is still served");

    // Redis comes back empty (no persistence): the hash is the truth, the key is gone everywhere.
    await own.start();
    const redis = new Redis(own.url);
    try {
      await redis.hset(`${prefix}client-keys`, "other", JSON.stringify({ name: "other", sha256: "0".repeat(64), created_at: 1 }));
      await seenBy([a, b], secret, 401, "A and B reading the hash again once Redis is back");
      assert.equal((await make(a, { name: "after" })).status, 201, "A takes changes again");
    } finally {
      await deletePrefix(redis, prefix);
      await redis.quit();
    }
  } finally {
    await Promise.all(gateways.map((g) => g.close()));
    await sim.close();
    await own.close();
  }
});
