/**
 * The observability features on a real gateway, end to end: a breaker opening sends exactly one
 * webhook call and one email, and one resolve of each when it closes; then every place the
 * gateway writes what it knows (metrics, status, usage, the ledger's file, alert bodies and
 * mails, the log) is searched for every configured secret, and none is there.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { createGateway, startServer, type SwitchyardServer } from "../../src/index.js";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startSmtp, startWebhookReceiver } from "../helpers/alert-receivers.js";
import { call } from "../helpers/http.js";
import { fire } from "../helpers/load.js";
import { until } from "../helpers/wait.js";

const KEYS = ["sk-live-0bserv-KEY-aaaa1111", "sk-live-0bserv-KEY-bbbb2222"];
const ADMIN = "admin-token-0bserv-cccc3333";
const HMAC = "whsec-0bserv-dddd4444";
const SMTP_PASS = "smtp-0bserv-eeee5555";
const HOOK_PATH = "/hooks/T0K-0bserv-ffff6666";
const SECRETS = [...KEYS, ADMIN, HMAC, SMTP_PASS, HOOK_PATH.slice(1)];
const auth = { authorization: `Bearer ${ADMIN}` };

let dir: string;
let sims: SimProvider[];
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let server: SwitchyardServer;
let url: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-obs-"));
  sims = [await startSimProvider({ dialect: "openai", latency_ms: 1 }), await startSimProvider({ dialect: "openai", latency_ms: 1 })];
  hook = await startWebhookReceiver(HOOK_PATH);
  smtp = await startSmtp();
  const gateway = createGateway({
    server: { host: "127.0.0.1", port: 0 },
    admin: { token: ADMIN },
    store: { path: join(dir, "switchyard.db") },
    usage: { flush_ms: 50 },
    alerts: {
      channels: [
        { type: "webhook", name: "ops", url: hook.url, secret: HMAC },
        {
          type: "email",
          name: "oncall",
          smtp: { host: "127.0.0.1", port: smtp.port, user: "alerts", pass: SMTP_PASS },
          from: "gw@example.test",
          to: ["oncall@example.test"],
        },
      ],
      rules: [{ kind: "breaker_open" }],
      evaluate_every_ms: 100,
      retry_base_ms: 50,
    },
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        strategy: "round-robin",
        breaker: { failure_threshold: 3, open_s: 1, max_open_s: 1, probe_interval_s: 0.2 },
        targets: sims.map((s, i) => ({ id: `t${i}`, provider: "openai" as const, base_url: s.url, key: KEYS[i], model: "gpt-4o-mini" })),
      },
    ],
  });
  server = await startServer(gateway, { logger: createLogger("info", join(dir, "gateway.log")) });
  url = server.url;
});
after(async () => {
  await server.shutdown(0);
  for (const s of sims) await s.close();
  await hook.close();
  await smtp.close();
  rmSync(dir, { recursive: true, force: true });
});

const hooks = (status: string) => hook.calls.filter((c) => (c.body as { status: string }).status === status);
const mails = (word: string) => smtp.mails.filter((m) => m.subject.includes(word));

test("a breaker opening sends exactly one webhook call and one email; its closing one resolve of each", async () => {
  assert.equal((await fire(url, 20, 2)).filter((s) => s.status === 200).length, 20);
  await sims[1]?.set({ down: true });
  await fire(url, 20, 2);
  assert.ok(await until(() => hooks("firing").length >= 1 && mails("FIRING").length >= 1, 5000), "the breaker alert arrived");
  const open = await call(`${url}/admin/alerts`, { headers: auth });
  assert.equal(open.status, 200);
  assert.deepEqual(
    (open.json as { firing: { kind: string; target: string }[] }).firing.map((a) => [a.kind, a.target]),
    [["breaker_open", "t1"]],
    "GET /admin/alerts lists the firing alert",
  );
  const fired = hooks("firing")[0]?.body as { kind: string; route: string; target: string; text: string };
  assert.equal(fired.kind, "breaker_open");
  assert.equal(fired.route, "chat");
  assert.equal(fired.target, "t1");
  assert.match(fired.text, /t1/);
  await sims[1]?.set({ down: false });
  // The recovery probe half-opens the breaker; calls that succeed close it.
  const resolved = await until(
    async () => {
      await fire(url, 4, 2);
      return hooks("resolved").length >= 1 && mails("RESOLVED").length >= 1;
    },
    8000,
    100,
  );
  assert.ok(resolved, "the resolve arrived");
  assert.deepEqual((await call(`${url}/admin/alerts`, { headers: auth })).json.firing, [], "resolved: nothing firing");
  await fire(url, 20, 2); // traffic after the recovery changes nothing
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(hooks("firing").length, 1, "one webhook firing");
  assert.equal(hooks("resolved").length, 1, "one webhook resolve");
  assert.equal(mails("FIRING").length, 1, "one email firing");
  assert.equal(mails("RESOLVED").length, 1, "one email resolve");
  assert.match(String(hook.calls[0]?.headers["x-switchyard-signature"]), /^sha256=[0-9a-f]{64}$/);
});

test("no configured secret in metrics, status, usage, the ledger's file, alert bodies and mails, or the log", async () => {
  const places: [string, string][] = [];
  places.push(["/metrics", (await call(`${url}/metrics`)).text]);
  places.push(["/admin/status", (await call(`${url}/admin/status`, { headers: auth })).text]);
  const usage = await call(`${url}/admin/usage?group_by=route,target,model,hour`, { headers: auth });
  assert.equal(usage.status, 200);
  assert.ok((usage.json as { totals: { requests: number } }).totals.requests >= 60);
  places.push(["/admin/usage", usage.text]);
  places.push(["/admin/alerts", (await call(`${url}/admin/alerts`, { headers: auth })).text]);
  assert.equal((await call(`${url}/admin/usage`)).status, 401, "usage is behind the admin token");
  const db = new BetterSqlite3(join(dir, "switchyard.db"), { readonly: true });
  const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
  for (const { name } of tables) places.push([`ledger table ${name}`, JSON.stringify(db.prepare(`select * from "${name}"`).all())]);
  db.close();
  places.push(["webhook calls", JSON.stringify(hook.calls.map((c) => ({ headers: c.headers, raw: c.raw })))]);
  places.push(["emails", smtp.mails.map((m) => m.raw).join("\n")]);
  await server.shutdown(0); // flushes the log (and the ledger)
  const log = readFileSync(join(dir, "gateway.log"), "utf8");
  assert.ok(log.includes('"msg":"request"') && log.includes('"cost_usd"'), "the log has the access lines with their cost");
  places.push(["log", log]);
  for (const [where, text] of places) for (const secret of SECRETS) assert.equal(text.includes(secret), false, `${where} holds ${secret}`);
  // and each key's last 4 characters may show, masked, where a key is shown at all
  assert.ok(places.find(([w]) => w === "/admin/status")?.[1].includes(`****${KEYS[0]?.slice(-4)}`));
});
