/**
 * The inbound limits counted in Redis (src/front/redis-limits.ts + limits-script.ts), against the
 * real Redis on 127.0.0.1:6379 under a prefix of the test's own (deleted at the end): exact and
 * coarse windows shared by two instances, all-or-nothing admissions, the tpm bucket and its
 * correction, TTLs, the instances' count, and a Redis that does not answer.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { LimitScope, Tightest, Verdict } from "../../src/front/limit-scope.js";
import { RedisLimits } from "../../src/front/redis-limits.js";
import type { InboundLimits } from "../../src/config/access-schema.js";
import { freePort } from "../helpers/free-port.js";
import { startOwnRedis } from "../helpers/redis-server.js";
import { eventually } from "../helpers/wait.js";

const URL = "redis://127.0.0.1:6379";
const prefix = `sy-test-limits-${randomUUID()}:`;
const admin = new Redis(URL, { lazyConnect: true });
const opened: RedisLimits[] = [];

after(async () => {
  await Promise.all(opened.map((l) => l.close()));
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

async function counter(instance: string, p = prefix, url = URL, timeoutMs = 500): Promise<RedisLimits> {
  const told: boolean[] = [];
  const l = new RedisLimits({ url, prefix: p, timeoutMs, instance, onHealth: (up) => told.push(up) });
  opened.push(l);
  if (url === URL) await eventually(() => l.usable, 5000, `${instance} connected`);
  return Object.assign(l, { told });
}

const scope = (id: string, limits: InboundLimits) => new LimitScope(id, id, limits, undefined, 0);

/** One admission through `c`: the verdict and tightest it filled. */
async function take(c: RedisLimits, k: LimitScope | undefined, g: LimitScope | undefined = undefined, tokens = 0) {
  const v = new Verdict();
  const t = new Tightest();
  const answered = await c.take(k, undefined, g, tokens, 0, v, t);
  return { answered, v, t, admitted: answered && v.scope === null };
}

test("an exact window shared by two instances: 5 in any second in total, the 6th refused on either with its wait, the RateLimit numbers counting down", async () => {
  const a = await counter("a");
  const b = await counter("b");
  const k = scope(`key-${randomUUID()}`, { rps: 5 });
  const remaining: number[] = [];
  for (const c of [a, b, a, b, a]) {
    const r = await take(c, k);
    assert.ok(r.admitted);
    assert.equal(r.t.policy, k.rpsPolicy);
    remaining.push(r.t.remaining);
    assert.ok(r.t.resetMs > 0 && r.t.resetMs <= 1000, String(r.t.resetMs));
  }
  assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
  for (const c of [a, b]) {
    const r = await take(c, k);
    assert.ok(r.answered);
    assert.equal(r.v.scope, k);
    assert.equal(r.v.policy, k.rpsPolicy);
    assert.ok(r.v.waitMs >= 1 && r.v.waitMs <= 1000, String(r.v.waitMs));
  }
  // A refusal takes no in-flight slot; every admission holds one until the request ends.
  assert.equal(k.inFlight.n, 5);
});

test("all or nothing: a refusal by the global window takes nothing from the key's", async () => {
  const a = await counter("a");
  const k = scope(`key-${randomUUID()}`, { rps: 10 });
  const g = scope(`global-${randomUUID()}`, { rps: 2 });
  assert.ok((await take(a, k, g)).admitted);
  assert.ok((await take(a, k, g)).admitted);
  const refused = await take(a, k, g);
  assert.equal(refused.v.scope, g);
  // The key's window holds 2, not 3.
  const keyOnly = await take(a, k);
  assert.ok(keyOnly.admitted);
  assert.equal(keyOnly.t.remaining, 7);
});

test("a coarse window (over 4,096 a minute) admits its capacity and not one more, across instances", async () => {
  const a = await counter("a");
  const b = await counter("b");
  const k = scope(`key-${randomUUID()}`, { rpm: 4200 });
  const results = await Promise.all(Array.from({ length: 4210 }, (_, i) => take(i % 2 === 0 ? a : b, k)));
  assert.equal(results.filter((r) => r.admitted).length, 4200);
  const refused = results.filter((r) => !r.admitted);
  assert.equal(refused.length, 10);
  for (const r of refused) {
    assert.ok(r.answered);
    assert.equal(r.v.policy, k.rpmPolicy);
    assert.ok(r.v.waitMs > 55_000 && r.v.waitMs <= 60_000, String(r.v.waitMs));
  }
  const ttl = await admin.pttl(`${prefix}limits:${k.id}:rpm:g`);
  assert.ok(ttl > 59_000 && ttl <= 61_000, String(ttl));
});

test("a tpm bucket takes the estimate, refuses what it cannot cover (saying what is left) and is corrected after the answer", async () => {
  const a = await counter("a");
  const b = await counter("b");
  const k = scope(`key-${randomUUID()}`, { tpm: 1000 });
  assert.ok((await take(a, k, undefined, 600)).admitted);
  const refused = await take(b, k, undefined, 600);
  assert.equal(refused.v.policy, k.tpmPolicy);
  assert.ok(refused.v.left >= 400 && refused.v.left < 410, String(refused.v.left));
  assert.ok(refused.v.waitMs > 11_000 && refused.v.waitMs <= 12_000, String(refused.v.waitMs));
  // The first answer used 300 of its 600: 300 back, and 600 fit again.
  a.adjust(k, 300);
  await eventually(async () => Number(await admin.hget(`${prefix}limits:${k.id}:tpm`, "l")) >= 700, 2000, "the correction");
  const after = await take(b, k, undefined, 600);
  assert.ok(after.admitted);
  assert.equal(after.t.policy, k.tpmPolicy);
  assert.ok(after.t.remaining >= 100 && after.t.remaining < 110, String(after.t.remaining));
  const ttl = await admin.pttl(`${prefix}limits:${k.id}:tpm`);
  assert.ok(ttl > 0 && ttl <= 60_000, String(ttl));
});

test("max_parallel is each instance's share of the limit, divided by the instances alive", async () => {
  const p = `${prefix}par-${randomUUID()}:`;
  const a = await counter("a", p);
  const b = await counter("b", p);
  await eventually(() => a.instances === 2 && b.instances === 2, 5000, "two instances seen");
  const k = scope(`key-${randomUUID()}`, { max_parallel: 4, rps: 100 });
  assert.ok((await take(a, k)).admitted);
  assert.ok((await take(a, k)).admitted);
  const third = await take(a, k);
  assert.equal(third.v.policy, k.parallelPolicy);
  assert.equal(third.v.waitMs, 1000);
  await b.close();
  await eventually(() => a.instances === 1, 8000, "b gone");
  assert.ok((await take(a, k)).admitted);
});

test("a Redis that does not answer: take answers false at once (nothing held), health told once, nothing thrown", async () => {
  const port = await freePort();
  const c = (await counter("down", prefix, `redis://127.0.0.1:${port}`, 100)) as RedisLimits & { told: boolean[] };
  const k = scope(`key-${randomUUID()}`, { rps: 5, max_parallel: 3 });
  await eventually(() => c.told.length > 0, 5000, "the failure told");
  assert.equal(c.usable, false);
  const r = await take(c, k);
  assert.equal(r.answered, false);
  assert.equal(k.inFlight.n, 0);
  await new Promise((res) => setTimeout(res, 500));
  assert.deepEqual(c.told, [false]);
});

test("a Redis that stops answering mid-way (CLIENT PAUSE): take answers false within the timeout, and admissions go back to Redis once it answers", async () => {
  const own = await startOwnRedis();
  const ctl = new Redis(own.url);
  try {
    const c = (await counter("slow", prefix, own.url, 100)) as RedisLimits & { told: boolean[] };
    await eventually(() => c.usable, 5000, "connected");
    const k = scope(`key-${randomUUID()}`, { rps: 50 });
    assert.ok((await take(c, k)).admitted);
    await ctl.client("PAUSE", 1500, "ALL");
    // Had it waited for Redis, the pause would have ended in an answer (admitted): it gave up at its timeout instead.
    const r = await take(c, k);
    assert.equal(r.answered, false);
    assert.equal(k.inFlight.n, 1, "the slot taken for the failed call given back");
    assert.equal(c.usable, false, "no more calls until the heartbeat gets an answer");
    await eventually(() => c.usable, 5000, "back");
    assert.deepEqual(c.told, [true, false, true]);
    const again = await take(c, k);
    assert.ok(again.admitted);
    assert.equal(again.t.remaining, 48, "the window kept in Redis through the pause");
  } finally {
    ctl.disconnect();
    await own.close();
  }
});
