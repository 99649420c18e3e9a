/**
 * Key rotation and run-time target changes through the admin API: under load no request fails,
 * the upstream sees only the new key once the calls in flight with the old one are done, and a
 * target keeps its stats and breaker across a change of its settings.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway, type RunningGateway } from "../helpers/harness.js";
import { pacedLoad } from "../helpers/paced-load.js";

const OLD_KEY = "sk-old-key-0001";
const NEW_KEY = "sk-new-key-0002";
const LATENCY = 100;
const JITTER = 30;

const sims: SimProvider[] = [];
let gw: RunningGateway | undefined;
after(async () => {
  await gw?.close();
  await Promise.all(sims.map((s) => s.close()));
});

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw!.url}${path}`, {
    method,
    headers: { authorization: "Bearer admin-token-1234", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test("a key rotated under 200 rps fails no request and the upstream then sees only the new key", async () => {
  const sim = await startSimProvider({ dialect: "openai", name: "one", latency_ms: LATENCY, jitter_ms: JITTER });
  const spare = await startSimProvider({ dialect: "openai", name: "spare", latency_ms: LATENCY });
  sims.push(sim, spare);
  gw = await startGateway({
    admin: { token: "admin-token-1234" },
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [
          { id: "one", provider: "openai", base_url: sim.url, key: OLD_KEY },
          { id: "spare", provider: "openai", base_url: spare.url, key: "sk-spare-key-0003" },
        ],
      },
    ],
  });
  // The spare's breaker is held open: only "one" serves, and the open breaker must survive the changes.
  assert.equal((await admin("POST", "/admin/routes/chat/targets/spare/open-breaker")).status, 200);

  const load = pacedLoad(gw.url, { rps: 200, durationMs: 3000 });
  await new Promise((r) => setTimeout(r, 1000));
  const before = (await admin("GET", "/admin/status")).body.routes[0].targets[0].stats.requests as number;
  const rotated = await admin("PUT", "/admin/routes/chat/targets/one/key", { key: NEW_KEY });
  const rotatedAt = Date.now();
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  assert.deepEqual(rotated.body.changes.updated, ["chat/one"]);
  assert.ok(!JSON.stringify(rotated.body).includes(NEW_KEY), "the answer holds no key");

  // More load once the rotation is done, however late the host ran it: the calls that follow.
  const [result, afterwards] = await Promise.all([load, pacedLoad(gw.url, { rps: 100, durationMs: 1000 })]);
  assert.equal(result.failures.length, 0, JSON.stringify(result.failures.slice(0, 3)));
  assert.equal(result.ok, 600);
  assert.equal(afterwards.failures.length, 0);

  const log = sim.stats().log;
  const settled = rotatedAt + LATENCY + JITTER + 100; // every call started with the old key has arrived by then
  const late = log.filter((e) => e.at > settled);
  assert.ok(late.length > 30, `calls after the rotation (${late.length})`);
  assert.deepEqual([...new Set(late.map((e) => e.key))], [NEW_KEY], "only the new key after the rotation");
  assert.ok(
    log.some((e) => e.key === OLD_KEY),
    "the old key served before",
  );

  const status = (await admin("GET", "/admin/status")).body;
  const [one, spareStatus] = status.routes[0].targets;
  assert.equal(one.key, `****${NEW_KEY.slice(-4)}`);
  assert.ok(one.stats.requests > before, "the stats carried on across the rotation");
  assert.equal(one.stats.requests, 700, "every request counted once, before and after");
  assert.equal(spareStatus.breaker.state, "forced_open", "the other target's held-open breaker was kept");
  assert.equal(spare.stats().requests, 0);
});

test("a target added, patched and removed through the admin API: validated like config, traffic follows", async () => {
  const extra = await startSimProvider({ dialect: "openai", name: "extra" });
  sims.push(extra);
  const bad = await admin("POST", "/admin/routes/chat/targets", { id: "extra", provider: "openai", base_url: "ftp://x", weight: 0 });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /base_url/);
  assert.match(bad.body.error.message, /weight/);

  const added = await admin("POST", "/admin/routes/chat/targets", {
    id: "extra",
    provider: "openai",
    base_url: extra.url,
    key: "sk-extra-0004",
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.deepEqual(added.body.changes.added, ["chat/extra"]);
  const dup = await admin("POST", "/admin/routes/chat/targets", { id: "extra", provider: "openai", base_url: extra.url });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, "target_exists");

  const r = await pacedLoad(gw!.url, { rps: 100, durationMs: 600 });
  assert.equal(r.failures.length, 0);
  assert.ok(extra.stats().requests > 5, `the added target takes traffic (${extra.stats().requests})`);

  const patched = await admin("PATCH", "/admin/routes/chat/targets/extra", { weight: 5, limits: { max_concurrent: 7 } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const t = (await admin("GET", "/admin/status")).body.routes[0].targets.find((x: { id: string }) => x.id === "extra");
  assert.equal(t.weight, 5);
  assert.equal(t.limits.max_concurrent, 7);
  assert.ok(t.stats.requests > 5, "a patch keeps the stats");
  const badPatch = await admin("PATCH", "/admin/routes/chat/targets/extra", { tier: "high" });
  assert.equal(badPatch.status, 400);
  const idPatch = await admin("PATCH", "/admin/routes/chat/targets/extra", { id: "renamed" });
  assert.equal(idPatch.status, 400, "the id is not a patchable field");

  const missing = await admin("DELETE", "/admin/routes/chat/targets/nope");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "unknown_target");
  const removed = await admin("DELETE", "/admin/routes/chat/targets/extra");
  assert.equal(removed.status, 200);
  assert.deepEqual(removed.body.changes.removed, ["chat/extra"]);
  const seen = extra.stats().requests;
  await pacedLoad(gw!.url, { rps: 100, durationMs: 300 });
  assert.equal(extra.stats().requests, seen, "a removed target gets no new call");

  const status = (await admin("GET", "/admin/status")).body;
  assert.deepEqual(status.control.runtime_changes.length, 4);
  const config = await admin("GET", "/admin/config");
  for (const k of [OLD_KEY, NEW_KEY, "sk-extra-0004", "admin-token-1234"]) assert.ok(!JSON.stringify(config.body).includes(k), k);
});
