import { test } from "node:test";
import assert from "node:assert/strict";
import { createGateway } from "../../src/index.js";
import { LiveFeed } from "../../src/admin/events-stream.js";
import type { EventStreamWriter } from "../../src/core/operator-endpoint.js";
import { parseSse, type SseEvent } from "../helpers/sse.js";
import { eventually, sleep } from "../helpers/wait.js";
import { ADMIN_TOKEN, KEYS, adminHeaders, keepTraffic, startDashboardGateway, targetAction } from "./dashboard-fixture.js";

/** Reads /admin/events until `until` says enough (or timeoutMs); the raw text and its events. */
async function readEvents(url: string, until: (events: SseEvent[]) => boolean, timeoutMs = 5_000) {
  const ac = new AbortController();
  const res = await fetch(`${url}/admin/events`, { headers: adminHeaders, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  const reader = res.body!.getReader();
  try {
    while (Date.now() < deadline) {
      const { value, done } = await Promise.race([
        reader.read(),
        sleep(Math.max(0, deadline - Date.now())).then(() => ({ value: undefined, done: true })),
      ]);
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (until(parseSse(text))) break;
    }
  } finally {
    ac.abort();
  }
  return { text, events: parseSse(text) };
}

test("GET /admin/events needs the admin token: 401 without it or with a wrong one", async (t) => {
  const f = await startDashboardGateway(1);
  t.after(() => f.close());
  assert.equal((await fetch(`${f.url}/admin/events`)).status, 401);
  assert.equal((await fetch(`${f.url}/admin/events`, { headers: { authorization: "Bearer not-the-token" } })).status, 401);
  // The page and its assets need none: the page holds no data.
  const page = await fetch(`${f.url}/dashboard`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  assert.doesNotMatch(await page.text(), new RegExp(ADMIN_TOKEN));
  for (const asset of ["dashboard.js", "dashboard.css", "uPlot.iife.min.js", "uPlot.min.css"])
    assert.equal((await fetch(`${f.url}/dashboard/${asset}`)).status, 200, asset);
});

test("GET /admin/events: a snapshot of every target, then a tick a second, a change per policy and topology event, never a key", async (t) => {
  const f = await startDashboardGateway(2);
  const traffic = keepTraffic(f.url, 1);
  t.after(async () => {
    await traffic.stop();
    await f.close();
  });
  await eventually(() => f.sims.every((s) => s.stats().requests > 0), 5_000, "traffic on both targets");

  const first = await readEvents(f.url, (evs) => evs.filter((e) => e.event === "tick").length >= 2);
  assert.equal(first.events[0]?.event, "snapshot");
  const snapshot = JSON.parse(first.events[0].data);
  assert.equal(snapshot.tick_ms, 1000);
  assert.ok(Array.isArray(snapshot.changes));
  assert.deepEqual(
    snapshot.routes.map((r: any) => [r.name, r.targets.map((x: any) => x.id)]),
    [["chat", ["t0", "t1"]]],
  );
  const t0 = snapshot.routes[0].targets[0];
  assert.equal(t0.key, "****1111");
  assert.equal(t0.health, "ok");
  assert.equal(t0.breaker.state, "closed");
  assert.equal(t0.key_state.state, "enabled");
  for (const field of ["in_flight", "max_concurrent", "traffic", "cost_today_usd", "health_reasons"]) assert.ok(field in t0, field);
  assert.ok(t0.cost_today_usd > 0, "cost today counts the answers' usage × price");
  assert.ok(snapshot.cost_since <= snapshot.now && snapshot.cost_since % 86_400_000 === 0, "counted from midnight UTC");

  const ticks = first.events.filter((e) => e.event === "tick").map((e) => JSON.parse(e.data));
  assert.equal(ticks.length, 2);
  const [tick1, tick2] = ticks as [any, any];
  assert.ok(tick2.now - tick1.now >= 800 && tick2.now - tick1.now <= 2500, `ticks ${tick2.now - tick1.now} ms apart`);
  assert.equal(tick1.routes[0].targets.length, 2);

  // Changes: disabling t1 (a policy event), adding a target (a topology event).
  const changes = readEvents(f.url, (evs) => evs.filter((e) => e.event === "change").length >= 2);
  await sleep(200);
  assert.equal((await targetAction(f.url, "t1", "disable")).status, 200);
  const added = await fetch(`${f.url}/admin/routes/chat/targets`, {
    method: "POST",
    headers: { ...adminHeaders, "content-type": "application/json" },
    body: JSON.stringify({ id: "t9", provider: "openai", base_url: f.sims[0]!.url, key: "sk-dash-added-key-9999" }),
  });
  assert.equal(added.status, 201);
  const { text, events } = await changes;
  const changed = events.filter((e) => e.event === "change").map((e) => JSON.parse(e.data));
  assert.deepEqual(
    { kind: changed[0].kind, route: changed[0].route, target: changed[0].target, policy: changed[0].policy, to: changed[0].to },
    { kind: "policy", route: "chat", target: "t1", policy: "key", to: "disabled" },
  );
  assert.equal(changed[1].kind, "topology");
  assert.deepEqual(changed[1].added, ["chat/t9"]);

  // A page opened later sees them in its snapshot, newest first, and t1 red.
  const later = await readEvents(f.url, (evs) => evs.length >= 1);
  const snap = JSON.parse(later.events[0]!.data);
  assert.deepEqual(
    snap.changes.slice(0, 2).map((c: any) => c.kind),
    ["topology", "policy"],
  );
  const t1 = snap.routes[0].targets.find((x: any) => x.id === "t1");
  assert.equal(t1.health, "down");
  assert.deepEqual(t1.key_state, { state: "disabled", reason: "operator", detail: "disabled by operator", until: null });

  for (const key of [...KEYS, "sk-dash-added-key-9999"])
    for (const raw of [first.text, text, later.text]) assert.ok(!raw.includes(key), `a key in the stream: ${key}`);
});

/** A stream writer that records sends and answers what `ok` says. */
class FakeWriter implements EventStreamWriter {
  sent: string[] = [];
  constructor(public ok = true) {}
  send(event: string): boolean {
    this.sent.push(event);
    return this.ok;
  }
}

test("the tick timer runs only while a page listens, and a backed-up page is skipped, not queued", async (t) => {
  const gw = createGateway({
    routes: [
      {
        name: "r",
        surface: "openai",
        models: ["m"],
        targets: [{ id: "a", provider: "openai", base_url: "http://127.0.0.1:9/v1", key: KEYS[0] }],
      },
    ],
  });
  t.after(() => gw.close());
  const feed = new LiveFeed(gw, { tickMs: 20 });
  assert.equal(feed.ticking, false);

  const fast = new FakeWriter();
  const slow = new FakeWriter(false);
  const closeFast = feed.stream.open(fast);
  const closeSlow = feed.stream.open(slow);
  assert.equal(feed.ticking, true);
  await eventually(() => fast.sent.length >= 15, 5_000, "15 events to the page that keeps up");
  assert.equal(fast.sent[0], "snapshot");
  // The slow page's snapshot said "behind": it is left alone for 20, 40, 80, 160 ms… so a few tries, not 15.
  assert.ok(slow.sent.length <= 8 && slow.sent.length < fast.sent.length / 2, `slow page got ${slow.sent.length} events`);
  assert.ok(feed.skipped > 0);

  // It catches up once its socket drains: the next try goes through, and then every tick.
  slow.ok = true;
  const behind = slow.sent.length;
  await eventually(() => slow.sent.length >= behind + 5, 5_000, "the slow page to get every tick again");

  closeFast();
  assert.equal(feed.ticking, true, "one page still listens");
  closeSlow();
  assert.equal(feed.ticking, false, "nobody listens: the timer stopped");
  const after = fast.sent.length;
  await sleep(60);
  assert.equal(fast.sent.length, after);
});
