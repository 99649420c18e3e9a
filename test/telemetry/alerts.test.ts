import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { alertsSchema } from "../../src/config/alerts-schema.js";
import { GatewayEvents, type PolicyEvent, type RequestRecord } from "../../src/core/events.js";
import { WindowedStats } from "../../src/core/windowed-stats.js";
import type { Gateway } from "../../src/pipeline/gateway.js";
import { AlertManager, type AlertManagerOptions } from "../../src/telemetry/alerts/alert-manager.js";
import type { AlertRoute, AlertSource } from "../../src/telemetry/alerts/alert-source.js";
import { sleep, until } from "../helpers/wait.js";
import { type HookCall, type Mail, startSmtp, startWebhookReceiver } from "../helpers/alert-receivers.js";

const startReceiver = () => startWebhookReceiver(HOOK_PATH);

// The lead wires `new AlertManager(config.alerts, gateway, log)`: a Gateway must be an AlertSource as it is.
const _gatewayIsASource: (g: Gateway) => AlertSource = (g) => g;

const WEBHOOK_SECRET = "whsec-do-not-leak-7f3a";
const HOOK_PATH = "/hooks/T0KEN-path-do-not-leak";
const SMTP_PASS = "smtp-pass-do-not-leak-91";
const PROVIDER_KEY = "sk-provider-do-not-leak-4242";
const SECRETS = [WEBHOOK_SECRET, HOOK_PATH.slice(1), SMTP_PASS, PROVIDER_KEY];

/** A pino logger writing JSON lines to memory. */
function captureLog() {
  const lines: any[] = [];
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const s = chunk.toString("utf8");
      text += s;
      for (const l of s.split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: "debug" }, stream), lines, text: () => text };
}

// ---------------------------------------------------------------- a small gateway stand-in

/** What alerts read of a route: its targets, its window, which targets are down. */
class FakeRoute implements AlertRoute {
  readonly targets: { id: string; key: string }[];
  readonly window = new WindowedStats();
  readonly down = new Set<string>();
  availableTargets(): number {
    return this.targets.filter((t) => !this.down.has(t.id)).length;
  }

  constructor(
    readonly name: string,
    ids: string[],
  ) {
    this.targets = ids.map((id) => ({ id, key: PROVIDER_KEY }));
  }

  /** n requests of this latency, `errors` of them failed. */
  feed(n: number, latencyMs: number, errors = 0): void {
    const now = Date.now();
    for (let i = 0; i < n; i++) this.window.record(now, latencyMs, i < errors);
  }
}

type Channels = "both" | "webhook";

interface HarnessOptions {
  readonly channels?: Channels;
  readonly alerts?: Record<string, unknown>;
  readonly webhookUrl?: string;
  readonly manager?: AlertManagerOptions;
}

/** Receivers, events, two routes and a started manager with short timers. */
async function harness(o: HarnessOptions = {}) {
  const hook = await startReceiver();
  const smtp = await startSmtp();
  const { log, lines, text } = captureLog();
  const channels: Record<string, unknown>[] = [
    {
      type: "webhook",
      name: "hook",
      url: o.webhookUrl ?? hook.url,
      secret: WEBHOOK_SECRET,
      headers: { "x-team": "ops" },
      timeout_ms: 2000,
    },
  ];
  if ((o.channels ?? "both") === "both")
    channels.push({
      type: "email",
      name: "mail",
      smtp: { host: "127.0.0.1", port: smtp.port, secure: false, user: "alerts", pass: SMTP_PASS },
      from: "switchyard@example.test",
      to: ["ops@example.test", "oncall@example.test"],
      timeout_ms: 2000,
    });
  const config = alertsSchema.parse({ channels, evaluate_every_ms: 50, retry_base_ms: 20, retries: 3, cooldown_s: 60, ...o.alerts });
  const events = new GatewayEvents();
  const chat = new FakeRoute("chat", ["oai-a", "oai-b", "ant-c"]);
  const embed = new FakeRoute("embed", ["emb-a"]);
  const manager = new AlertManager(config, { events, routes: [chat, embed] }, log, o.manager);
  manager.start();
  return {
    hook,
    smtp,
    events,
    chat,
    embed,
    manager,
    lines,
    logText: text,
    async close() {
      await manager.stop();
      await hook.close();
      await smtp.close();
    },
  };
}

const breaker = (to: string, target = "oai-a", from = "closed"): PolicyEvent => ({
  route: "chat",
  target,
  policy: "breaker",
  from,
  to,
  reason: to === "closed" ? "recovery_probe" : "consecutive_failures",
});

function served(route: string, costUsd: number): RequestRecord {
  return {
    requestId: "r",
    answeredBy: "",
    cache: "",
    clientKey: "",
    method: "POST",
    path: "/v1/chat/completions",
    surface: "openai",
    route,
    target: "oai-a",
    status: 200,
    attempts: 1,
    durationMs: 10,
    errorCode: null,
    stream: false,
    model: "m",
    upstreamModel: "m",
    usage: null,
    costUsd,
    ttfbMs: 5,
    queueMs: 0,
    overheadMs: 1,
    tries: [],
  };
}

function assertNoSecrets(h: { hook: { calls: HookCall[] }; smtp: { mails: Mail[] }; logText: () => string }): void {
  const everything = [...h.hook.calls.map((c) => c.raw + JSON.stringify(c.headers)), ...h.smtp.mails.map((m) => m.raw), h.logText()].join(
    "\n",
  );
  for (const s of SECRETS) assert.ok(!everything.includes(s), `secret ${s.slice(0, 6)}… leaked`);
}

const statuses = (calls: HookCall[]) => calls.map((c) => `${c.body.rule}:${c.body.status}`);

// ---------------------------------------------------------------- tests

test("breaker opens: one webhook call and one email; closes: one resolve of each; signed, no secrets anywhere", async () => {
  const h = await harness();
  try {
    const t0 = Date.now();
    h.events.policy(breaker("open"));
    assert.ok(await until(() => h.hook.calls.length === 1 && h.smtp.mails.length === 1, 3000), "fire delivered to both channels");
    // Probing and reopening is still the same alert: nothing new.
    h.events.policy(breaker("half_open", "oai-a", "open"));
    h.events.policy(breaker("open", "oai-a", "half_open"));
    h.events.policy(breaker("half_open", "oai-a", "open"));
    await sleep(250);
    assert.equal(h.hook.calls.length, 1);
    assert.equal(h.smtp.mails.length, 1);

    const fire = h.hook.calls[0]!;
    assert.equal(fire.headers["content-type"], "application/json");
    assert.equal(fire.headers["x-team"], "ops");
    const expected = createHmac("sha256", WEBHOOK_SECRET).update(Buffer.from(fire.raw, "utf8")).digest("hex");
    assert.equal(fire.headers["x-switchyard-signature"], `sha256=${expected}`);
    const ts = Number(fire.headers["x-switchyard-timestamp"]);
    assert.ok(Math.abs(ts - Date.now() / 1000) < 10, "timestamp header is the send time in unix seconds");
    assert.equal(fire.body.status, "firing");
    assert.equal(fire.body.rule, "breaker_open");
    assert.equal(fire.body.kind, "breaker_open");
    assert.equal(fire.body.route, "chat");
    assert.equal(fire.body.target, "oai-a");
    assert.equal(fire.body.value, "open");
    assert.equal(fire.body.threshold, null);
    assert.equal(fire.body.gateway, "switchyard");
    assert.equal(fire.body.resolved_at, undefined);
    assert.ok(Date.parse(fire.body.started_at) >= t0 - 1);
    assert.match(fire.body.text, /^\[switchyard\] FIRING breaker_open: route chat target oai-a: breaker open \(consecutive_failures\)$/);

    const mail = h.smtp.mails[0]!;
    assert.equal(mail.subject, "[switchyard] FIRING breaker_open: route chat target oai-a");
    assert.equal(mail.from, "switchyard@example.test");
    assert.deepEqual(mail.to, ["ops@example.test", "oncall@example.test"]);
    assert.match(mail.text, /Rule: +breaker_open \(breaker_open\)/);
    assert.match(mail.text, /Scope: +route chat target oai-a/);
    assert.deepEqual(h.smtp.logins, [`alerts:${SMTP_PASS}`], "the SMTP login is used (and only sent to the server)");

    h.events.policy(breaker("closed", "oai-a", "half_open"));
    assert.ok(await until(() => h.hook.calls.length === 2 && h.smtp.mails.length === 2, 3000), "resolve delivered to both channels");
    await sleep(150);
    assert.equal(h.hook.calls.length, 2);
    assert.equal(h.smtp.mails.length, 2);
    const resolve = h.hook.calls[1]!;
    assert.equal(resolve.body.status, "resolved");
    assert.equal(resolve.body.started_at, fire.body.started_at);
    assert.ok(Date.parse(resolve.body.resolved_at) >= Date.parse(resolve.body.started_at));
    assert.match(resolve.body.text, /^\[switchyard\] RESOLVED breaker_open: route chat target oai-a: breaker closed/);
    assert.equal(h.smtp.mails[1]!.subject, "[switchyard] RESOLVED breaker_open: route chat target oai-a");
    assert.match(h.smtp.mails[1]!.text, /Resolved: +\d{4}-/);

    // Logged once each, as warn (firing) and info (resolved).
    assert.equal(h.lines.filter((l) => l.rule === "breaker_open" && l.level === 40).length, 1);
    assert.equal(h.lines.filter((l) => l.rule === "breaker_open" && l.level === 30 && /RESOLVED/.test(l.msg)).length, 1);
    assertNoSecrets(h);
  } finally {
    await h.close();
  }
});

test("a flapping breaker within the cooldown gives one fire and one resolve, not a storm", async () => {
  const h = await harness({ channels: "webhook" });
  try {
    for (let i = 0; i < 20; i++) {
      h.events.policy(breaker("open"));
      h.events.policy(breaker("closed", "oai-a", "half_open"));
    }
    assert.ok(await until(() => h.hook.calls.length >= 2, 3000));
    await sleep(300);
    assert.deepEqual(statuses(h.hook.calls), ["breaker_open:firing", "breaker_open:resolved"]);
    // Another target is another subject: it fires on its own.
    h.events.policy(breaker("open", "oai-b"));
    assert.ok(await until(() => h.hook.calls.length === 3, 3000));
    assert.equal(h.hook.calls[2]!.body.target, "oai-b");
  } finally {
    await h.close();
  }
});

test("a breaker that reopens within the cooldown and stays open fires when the cooldown ends; one that clears first sends nothing", async () => {
  const h = await harness({ channels: "webhook", alerts: { cooldown_s: 1, rules: [{ kind: "breaker_open" }] } });
  try {
    h.events.policy(breaker("open"));
    h.events.policy(breaker("closed", "oai-a", "half_open"));
    const resolvedAt = Date.now();
    assert.ok(await until(() => h.hook.calls.length === 2, 3000));
    // Held back by the cooldown, then cleared before it ended: no fire, and so no resolve either.
    h.events.policy(breaker("open"));
    await sleep(100);
    h.events.policy(breaker("closed", "oai-a", "half_open"));
    await sleep(150);
    assert.equal(h.hook.calls.length, 2);
    // Held back, and still open when the cooldown ends: it fires then.
    h.events.policy(breaker("open"));
    await sleep(100);
    assert.equal(h.hook.calls.length, 2, "still in the cooldown");
    assert.ok(await until(() => h.hook.calls.length === 3, 3000), "fired once the cooldown ended");
    assert.ok(Date.now() - resolvedAt >= 1000, "not before the cooldown's end");
    assert.equal(h.hook.calls[2]!.body.status, "firing");
    h.events.policy(breaker("closed", "oai-a", "half_open"));
    assert.ok(await until(() => h.hook.calls.length === 4, 3000));
    assert.equal(h.hook.calls[3]!.body.status, "resolved");
  } finally {
    await h.close();
  }
});

test("route availability fires below half of the targets available and resolves at or above", async () => {
  const h = await harness({ channels: "webhook", alerts: { rules: [{ kind: "route_availability" }] } });
  try {
    await sleep(150);
    assert.equal(h.hook.calls.length, 0, "all targets up: quiet");
    h.chat.down.add("oai-a").add("oai-b");
    assert.ok(await until(() => h.hook.calls.length === 1, 3000));
    const fire = h.hook.calls[0]!.body;
    assert.equal(fire.rule, "route_availability");
    assert.equal(fire.route, "chat");
    assert.equal(fire.target, null);
    assert.equal(fire.value, 0.3333);
    assert.equal(fire.threshold, 0.5);
    assert.match(fire.text, /1 of 3 targets available \(33 %\)/);
    await sleep(150);
    assert.equal(h.hook.calls.length, 1, "fires once while it lasts");
    h.chat.down.delete("oai-b");
    assert.ok(await until(() => h.hook.calls.length === 2, 3000));
    assert.equal(h.hook.calls[1]!.body.status, "resolved");
    assert.equal(h.hook.calls[1]!.body.value, 0.6667);
  } finally {
    await h.close();
  }
});

test("latency p95 fires above the threshold with enough requests and resolves below", async () => {
  const h = await harness({
    channels: "webhook",
    alerts: { rules: [{ kind: "latency_p95", threshold: 1000, window: "1m", min_requests: 10 }] },
  });
  try {
    h.chat.feed(5, 2000);
    await sleep(250);
    assert.equal(h.hook.calls.length, 0, "too few requests to judge");
    h.chat.feed(20, 2000);
    assert.ok(await until(() => h.hook.calls.length === 1, 3000));
    const fire = h.hook.calls[0]!.body;
    assert.equal(fire.rule, "latency_p95");
    assert.equal(fire.route, "chat");
    assert.equal(fire.threshold, 1000);
    assert.ok(Math.abs(fire.value - 2000) <= 20, `p95 ≈ 2000 ms, got ${fire.value}`);
    h.chat.feed(1000, 10);
    assert.ok(await until(() => h.hook.calls.length === 2, 3000));
    assert.equal(h.hook.calls[1]!.body.status, "resolved");
    assert.ok(h.hook.calls[1]!.body.value < 1000);
    assert.ok(
      h.hook.calls.every((c) => c.body.route === "chat"),
      "the idle route never fired",
    );
  } finally {
    await h.close();
  }
});

test("error rate fires above the threshold with enough requests and resolves below", async () => {
  const h = await harness({ channels: "webhook", alerts: { rules: [{ kind: "error_rate", window: "1m", min_requests: 10 }] } });
  try {
    h.embed.feed(4, 50, 4);
    await sleep(250);
    assert.equal(h.hook.calls.length, 0, "too few requests to judge");
    h.embed.feed(6, 50, 1);
    assert.ok(await until(() => h.hook.calls.length === 1, 3000));
    const fire = h.hook.calls[0]!.body;
    assert.equal(fire.rule, "error_rate");
    assert.equal(fire.route, "embed");
    assert.equal(fire.value, 0.5);
    assert.equal(fire.threshold, 0.2);
    assert.match(fire.text, /5 of 10 requests failed over 1m \(50 %\)/);
    h.embed.feed(90, 50);
    assert.ok(await until(() => h.hook.calls.length === 2, 3000));
    assert.equal(h.hook.calls[1]!.body.status, "resolved");
    assert.equal(h.hook.calls[1]!.body.value, 0.05);
  } finally {
    await h.close();
  }
});

test("key_disabled fires when a key is disabled and resolves when it is enabled again", async () => {
  const h = await harness({ channels: "webhook" });
  try {
    const key = (to: string): PolicyEvent => ({
      route: "chat",
      target: "ant-c",
      policy: "key",
      from: to === "disabled" ? "enabled" : "disabled",
      to,
      reason: to === "disabled" ? "auth: 401 from upstream" : "operator: enabled by operator",
    });
    h.events.policy(key("disabled"));
    h.events.policy(key("disabled"));
    assert.ok(await until(() => h.hook.calls.length === 1, 3000));
    const fire = h.hook.calls[0]!.body;
    assert.equal(fire.rule, "key_disabled");
    assert.equal(fire.target, "ant-c");
    assert.equal(fire.value, "disabled");
    assert.match(fire.text, /key disabled \(auth: 401 from upstream\)/);
    h.events.policy(key("enabled"));
    assert.ok(await until(() => h.hook.calls.length === 2, 3000));
    assert.equal(h.hook.calls[1]!.body.status, "resolved");
    await sleep(150);
    assert.deepEqual(statuses(h.hook.calls), ["key_disabled:firing", "key_disabled:resolved"]);
    assertNoSecrets(h);
  } finally {
    await h.close();
  }
});

test("daily cost fires over the threshold (gateway-wide and per route) and resolves at the next UTC day", async () => {
  let offset = 0;
  const h = await harness({
    channels: "webhook",
    alerts: {
      rules: [
        { kind: "daily_cost", threshold: 1 },
        { kind: "daily_cost", name: "chat_cost", route: "chat", threshold: 0.5 },
      ],
    },
    manager: { now: () => Date.now() + offset },
  });
  try {
    h.events.request(served("chat", 0.4));
    h.events.request(served("embed", 0.7));
    assert.ok(await until(() => h.hook.calls.length === 1, 3000));
    const fire = h.hook.calls[0]!.body;
    assert.equal(fire.rule, "daily_cost");
    assert.equal(fire.route, null);
    assert.equal(fire.value, 1.1);
    assert.match(fire.text, /FIRING daily_cost: gateway: \$1\.10 spent on \d{4}-\d\d-\d\d \(UTC\), above \$1\.00/);
    await sleep(150);
    assert.equal(h.hook.calls.length, 1, "chat alone is under its own threshold");
    h.events.request(served("chat", 0.2));
    assert.ok(await until(() => h.hook.calls.length === 2, 3000));
    assert.equal(h.hook.calls[1]!.body.rule, "chat_cost");
    assert.equal(h.hook.calls[1]!.body.route, "chat");
    // Midnight UTC: both totals start again, both alerts resolve.
    offset = 86_400_000 - (Date.now() % 86_400_000) + 1000;
    assert.ok(await until(() => h.hook.calls.length === 4, 3000));
    assert.deepEqual(statuses(h.hook.calls.slice(2)).sort(), ["chat_cost:resolved", "daily_cost:resolved"]);
  } finally {
    await h.close();
  }
});

test("a receiver answering 500 twice then 200 gets the alert on the third try", async () => {
  const h = await harness({ channels: "webhook" });
  h.hook.state.failNext = 2;
  try {
    h.events.policy(breaker("open"));
    assert.ok(await until(() => h.hook.calls.length === 3, 3000));
    await sleep(200);
    assert.equal(h.hook.calls.length, 3, "no try after the one that succeeded");
    assert.equal(new Set(h.hook.calls.map((c) => c.raw)).size, 1, "the same body each time");
    assert.ok(h.lines.some((l) => l.channel === "hook" && /delivered on try 3/.test(l.msg)));
    assert.equal(h.lines.filter((l) => l.level >= 50).length, 0, "no error logged");
  } finally {
    await h.close();
  }
});

test("a dead receiver: retries with backoff, then one error log naming the channel; the event listener returns at once", async () => {
  const dead = await startReceiver();
  const deadUrl = dead.url;
  await dead.close();
  const h = await harness({ channels: "webhook", webhookUrl: deadUrl });
  try {
    const t0 = performance.now();
    h.events.policy(breaker("open"));
    const listenerMs = performance.now() - t0;
    assert.ok(listenerMs < 20, `the policy event returned in ${listenerMs.toFixed(2)} ms`);
    assert.ok(await until(() => h.lines.some((l) => l.level === 50), 5000), "an error was logged");
    const waited = performance.now() - t0;
    // 3 retries: backoffs of 10–20, 20–40 and 40–80 ms at least.
    assert.ok(waited >= 70, `gave up after ${waited.toFixed(0)} ms`);
    await sleep(300);
    const errors = h.lines.filter((l) => l.level === 50);
    assert.equal(errors.length, 1, "logged once");
    assert.equal(errors[0].channel, "hook");
    assert.equal(errors[0].tries, 4);
    assert.equal(errors[0].rule, "breaker_open");
    assert.match(errors[0].reason, /ECONNREFUSED/);
    assertNoSecrets(h);
  } finally {
    await h.close();
  }
});

test("stop() waits a bounded time for a hung receiver, and a full queue drops the oldest notice with a warning", async () => {
  const h = await harness({ channels: "webhook", manager: { queueSize: 2, stopTimeoutMs: 200 } });
  h.hook.state.hang = true;
  for (const t of ["t1", "t2", "t3", "t4", "t5"]) h.events.policy(breaker("open", t));
  const drops = h.lines.filter((l) => l.level === 40 && /queue of channel hook is full/.test(l.msg));
  assert.equal(drops.length, 3, "five notices into a queue of two");
  assert.deepEqual(
    drops.map((l) => l.target),
    ["t1", "t2", "t3"],
    "the oldest go first",
  );
  assert.ok(await until(() => h.hook.calls.length === 1, 3000), "the first one went out and hangs");
  assert.equal(h.hook.calls[0]!.body.target, "t4");
  const t0 = Date.now();
  await h.manager.stop();
  const took = Date.now() - t0;
  assert.ok(took >= 150 && took < 1500, `stop took ${took} ms`);
  assert.ok(
    h.lines.some((l) => l.level === 40 && l.unsent === 2),
    "the unsent notices are counted",
  );
  assert.equal(h.lines.filter((l) => l.level >= 50).length, 0, "stopping is not a delivery failure");
  h.events.policy(breaker("open", "t6"));
  await sleep(100);
  assert.equal(h.hook.calls.length, 1, "nothing is sent after stop");
  await h.close();
});

test("no channels: no listeners, no timer", () => {
  const events = new GatewayEvents();
  const { log, lines } = captureLog();
  const manager = new AlertManager(alertsSchema.parse({ rules: [{ kind: "breaker_open" }] }), { events, routes: [] }, log);
  manager.start();
  assert.equal(events.hasRequestListeners, false);
  assert.equal((events as any).policyListeners.length, 0);
  assert.equal((manager as any).timer, null);
  assert.equal(lines.length, 0);
  return manager.stop();
});

test("the schema refuses shares above 1 and rules that would share a subject", () => {
  const hook = { type: "webhook", name: "hook", url: "http://127.0.0.1:9/x" };
  const bad = alertsSchema.safeParse({
    channels: [hook],
    rules: [{ kind: "error_rate", threshold: 20 }, { kind: "latency_p95" }, { kind: "latency_p95", route: "chat" }],
  });
  assert.equal(bad.success, false);
  const messages = bad.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  assert.ok(
    messages.some((m) => /^rules\.0\.threshold: error_rate takes a share/.test(m)),
    messages.join("; "),
  );
  assert.ok(
    messages.some((m) => /^rules\.2\.name: another rule named "latency_p95"/.test(m)),
    messages.join("; "),
  );
  const good = alertsSchema.safeParse({
    channels: [hook],
    rules: [
      { kind: "latency_p95", route: "chat", threshold: 2000 },
      { kind: "latency_p95", route: "embed" },
    ],
  });
  assert.equal(good.success, true);
});
