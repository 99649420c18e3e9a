import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway, type RunningGateway } from "../helpers/harness.js";
import { call } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";
import { createLogger } from "../../src/telemetry/logger.js";

/**
 * A target's quota held by three gateways sharing their state through Redis: each keeps its share
 * (rpm / instances), so together they never send the provider more than the quota. The real Redis
 * on 127.0.0.1:6379, keys under a prefix of this run, deleted at the end.
 */
const PREFIX = `switchyard-test:${randomUUID()}:`;
const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const sim = await startSimProvider({ dialect: "openai", name: "quota" });
const gws: RunningGateway[] = [];

after(async () => {
  await Promise.all(gws.map((g) => g.close()));
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await sim.close();
});

test("three instances sharing a target of 30 rpm send it at most 30 calls in its window, 10 each", async () => {
  for (const instance of ["a", "b", "c"])
    gws.push(
      await startGateway(
        {
          shared: { redis: { prefix: PREFIX }, instance },
          routes: [
            {
              name: "chat",
              surface: "openai",
              models: ["demo"],
              when_all_unavailable: "fail",
              targets: [{ id: "t", provider: "openai", base_url: sim.url, key: "sk-quota-0001", limits: { rpm: 30 } }],
            },
          ],
        },
        { logger: createLogger("silent") },
      ),
    );
  // Every instance sees the three, and its quota share follows (read at most once a second).
  await eventually(
    async () => (await Promise.all(gws.map((g) => g.status()))).every((s) => s.shared.healthy && s.shared.instances.length === 3),
    10_000,
    "every instance seeing the three",
  );
  await new Promise((r) => setTimeout(r, 1100));
  const before = sim.stats().requests;
  const body = { model: "demo", messages: [{ role: "user", content: "quota" }] };
  const statuses: number[] = [];
  for (let i = 0; i < 60; i++) statuses.push((await call(`${gws[i % 3]!.url}/v1/chat/completions`, { body })).status);
  const sent = sim.stats().requests - before;
  assert.equal(sent, 30, `the provider got ${sent} calls for a quota of 30 per minute`);
  assert.equal(statuses.filter((s) => s === 200).length, 30);
  assert.ok(statuses.filter((s) => s !== 200).every((s) => s === 429 || s === 503));
  for (const g of gws) {
    const quota = (await g.status()).routes[0].targets[0].quota;
    assert.equal(quota.rpm, 10, "each instance's share");
    assert.equal(quota.shared_by, 3);
  }
});
