import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { healthCheckSchema } from "../../src/config/resilience-schema.ts";
import { HealthChecker, type HealthEvent, probeTarget } from "../../src/resilience/health-check.ts";
import { PolicyList } from "../../src/resilience/policy-list.ts";
import { makePool } from "../balancer/fixtures.ts";
import { sleep } from "../helpers/wait.ts";

type Mode = "ok" | "fail" | "hang" | "degraded" | "down";

/** A real server that answers health checks as told, and remembers what it was asked. */
async function server() {
  const s = {
    mode: "ok" as Mode,
    seen: [] as { method: string; url: string; headers: http.IncomingHttpHeaders }[],
    inFlight: 0,
    maxInFlight: 0,
    url: "",
    close: async () => {},
  };
  const srv = http.createServer((req, res) => {
    s.seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    s.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    res.once("close", () => s.inFlight--);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (s.mode === "hang") return;
    if (s.mode === "fail") return json(500, { error: "boom" });
    json(200, { status: s.mode, components: { db: "ok" } });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  s.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  s.close = () => {
    srv.closeAllConnections();
    return new Promise<void>((r) => srv.close(() => r()));
  };
  return s;
}

const servers: { close(): Promise<void> }[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function up() {
  const s = await server();
  servers.push(s);
  return s;
}
const cfg = (o: Record<string, unknown> = {}) => healthCheckSchema.parse(o);

test("default check per provider: the cheap models call with the target's key", async () => {
  const s = await up();
  const pool = makePool([
    { provider: "openai", base_url: `${s.url}/v1`, key: "sk-oai" },
    { provider: "anthropic", base_url: s.url, key: "sk-ant" },
    { provider: "gemini", base_url: s.url, key: "g-key" },
    { provider: "rest", base_url: `${s.url}/api`, key: "r-key", auth: { type: "query", name: "apikey" } },
  ]);
  for (const t of pool) assert.equal((await probeTarget(t, cfg())).pass, true);
  assert.deepEqual(
    s.seen.map((r) => `${r.method} ${r.url}`),
    ["GET /v1/models", "GET /v1/models", "GET /v1beta/models", "GET /api/health?apikey=r-key"],
  );
  assert.equal(s.seen[0]!.headers.authorization, "Bearer sk-oai");
  assert.equal(s.seen[1]!.headers["x-api-key"], "sk-ant");
  assert.equal(s.seen[1]!.headers["anthropic-version"], "2023-06-01");
  assert.equal(s.seen[2]!.headers["x-goog-api-key"], "g-key");
});

test("unhealthy after unhealthy_threshold 500s, healthy again after healthy_threshold 200s", async () => {
  const s = await up();
  const [t] = makePool([{ base_url: `${s.url}/v1` }]);
  const hc = new HealthChecker([t!], cfg({ unhealthy_threshold: 3, healthy_threshold: 2 }));
  const events: string[] = [];
  hc.onChange((e: HealthEvent) => events.push(`${e.from}>${e.to}`));
  const elig = new PolicyList([hc]);
  await hc.checkNow(t!);
  assert.equal(hc.state(t!), "healthy", "one pass at start-up");
  s.mode = "fail";
  await hc.checkNow(t!);
  await hc.checkNow(t!);
  assert.equal(hc.state(t!), "healthy", "2 failures < 3");
  const r = await hc.checkNow(t!);
  assert.equal(r.status, 500);
  assert.equal(hc.state(t!), "unhealthy");
  assert.equal(elig.isEligible(t!, Date.now()), false);
  assert.deepEqual(elig.reasons(t!, Date.now()), ["health_check"]);
  s.mode = "ok";
  await hc.checkNow(t!);
  assert.equal(hc.state(t!), "unhealthy", "1 pass < 2");
  await hc.checkNow(t!);
  assert.equal(hc.state(t!), "healthy");
  assert.deepEqual(events, ["unknown>healthy", "healthy>unhealthy", "unhealthy>healthy"]);
});

test("a hanging server times out and counts as a failure", async () => {
  const s = await up();
  s.mode = "hang";
  const [t] = makePool([{ base_url: `${s.url}/v1` }]);
  const hc = new HealthChecker([t!], cfg({ timeout_ms: 100, unhealthy_threshold: 1 }));
  const started = Date.now();
  const r = await hc.checkNow(t!);
  assert.equal(r.pass, false);
  assert.match(r.detail, /timeout after 100 ms/);
  assert.ok(Date.now() - started < 2000);
  assert.equal(hc.state(t!), "unhealthy");
});

test("a JSON status of down fails a 200; degraded passes but is reported", async () => {
  const s = await up();
  const [t] = makePool([{ provider: "rest", base_url: s.url }]);
  const hc = new HealthChecker([t!], cfg({ unhealthy_threshold: 1 }));
  const events: HealthEvent[] = [];
  hc.onChange((e) => events.push(e));
  s.mode = "degraded";
  const d = await hc.checkNow(t!);
  assert.equal(d.pass, true);
  assert.equal(d.degraded, true);
  assert.equal(hc.state(t!), "healthy");
  assert.equal(hc.targetStatus(t!)!.degraded, true);
  s.mode = "down";
  const r = await hc.checkNow(t!);
  assert.equal(r.pass, false);
  assert.match(r.detail, /"down"/);
  assert.equal(hc.state(t!), "unhealthy");
  assert.deepEqual(
    events.map((e) => [e.to, e.degraded]),
    [
      ["healthy", true],
      ["unhealthy", false],
    ],
  );
});

test("custom path and expected status; connection refused fails", async () => {
  const s = await up();
  s.mode = "fail";
  const [t] = makePool([{ provider: "rest", base_url: s.url }]);
  assert.equal((await probeTarget(t!, cfg({ path: "/ready", expect_status: [500] }))).pass, true);
  assert.equal(s.seen.at(-1)!.url, "/ready");
  const [dead] = makePool([{ base_url: "http://127.0.0.1:1/v1" }]);
  const r = await probeTarget(dead!, cfg({ timeout_ms: 2000 }));
  assert.equal(r.pass, false);
  assert.match(r.detail, /connection failed/);
});

test("scheduled checks never overlap for a target, and stop() ends them", async () => {
  const s = await up();
  s.mode = "hang";
  const [t] = makePool([{ base_url: `${s.url}/v1` }]);
  // Interval far shorter than the timeout: a naive timer would pile checks up.
  const hc = new HealthChecker([t!], cfg({ interval_s: 0.01, jitter: 0, timeout_ms: 150, unhealthy_threshold: 2 }));
  hc.start();
  await sleep(500);
  assert.equal(s.maxInFlight, 1);
  assert.ok(s.seen.length >= 2 && s.seen.length <= 5, `${s.seen.length} checks`);
  assert.equal(hc.state(t!), "unhealthy");
  await hc.stop();
  const n = s.seen.length;
  await sleep(100);
  assert.equal(s.seen.length, n, "no checks after stop()");
});
