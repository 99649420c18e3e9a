import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startCli } from "../helpers/cli.js";
import { eventually, until } from "../helpers/wait.js";

/**
 * `switchyard start --workers 2`: two processes on one port, as one gateway. Every HTTP call here
 * opens a new connection (agent: false), so the primary hands each to the next worker in turn.
 */
const revoked = await startSimProvider({ dialect: "openai", name: "revoked", revoked_keys: ["sk-revoked-0001"] });
const good = await startSimProvider({ dialect: "openai", name: "good" });
const slow = await startSimProvider({ dialect: "openai", name: "slow", latency_ms: 1500 });
const dir = mkdtempSync(join(tmpdir(), "switchyard-workers-"));
const file = join(dir, "switchyard.yaml");
writeFileSync(
  file,
  `server: { port: 0, drain_timeout_ms: 10000 }
store: { path: ":memory:" }
log: { level: warn }
limits: { rpm: 6000 }
routes:
  - name: chat
    surface: openai
    models: [demo]
    strategy: tiered
    targets:
      - { id: revoked, provider: openai, base_url: "${revoked.url}", key: sk-revoked-0001, tier: 1 }
      - { id: good, provider: openai, base_url: "${good.url}", key: sk-good-0001, tier: 2 }
  - name: slow
    surface: openai
    models: [slow]
    targets: [{ id: slow, provider: openai, base_url: "${slow.url}", key: sk-slow-0001 }]
`,
);
const cli = await startCli(["start", "--config", file, "--workers", "2"], /listening on (http:\/\/\S+) \(.*2 workers/);
const base = new URL(/listening on (http:\/\/\S+) \(/.exec(cli.output())![1]!);
after(async () => {
  if (cli.child.exitCode === null) {
    cli.child.kill("SIGKILL");
    await cli.exited;
  }
  await Promise.all([revoked.close(), good.close(), slow.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** One call on a connection of its own. */
function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent: false,
        headers: text === undefined ? {} : { "content-type": "application/json" },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (data += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: data === "" ? null : JSON.parse(data) }));
      },
    );
    req.on("error", reject);
    // A connection handed to a worker in the moment it was killed gets no answer: never wait forever.
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.end(text);
  });
}

interface Status {
  shared?: { instance: string; instances: string[]; store: string };
  control: { reloads: number };
  admission: { "inbound-limits"?: { global?: { limits: { rpm?: number } } } };
  routes: { name: string; targets: { id: string; key_disabled?: { disabled: boolean; reason: string } }[] }[];
}

const status = async (): Promise<Status> => (await call("GET", "/admin/status")).json as Status;
const chat = (model = "demo") => call("POST", "/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }] });
const revokedDisabled = (s: Status) =>
  s.routes.find((r) => r.name === "chat")?.targets.find((t) => t.id === "revoked")?.key_disabled?.disabled;

/** The instances answering /admin/status over `n` new connections. */
async function answering(n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add((await status()).shared?.instance ?? "none");
  return seen;
}

test("both workers answer on the one port, each an instance of the cluster store, each with half the limit", async () => {
  const seen = await answering(10);
  assert.equal(seen.size, 2, `instances seen: ${[...seen].join(", ")}`);
  const s = await status();
  assert.equal(s.shared?.store, "cluster");
  assert.deepEqual([...(s.shared?.instances ?? [])].sort(), [...seen].sort());
  // limits.rpm 6000 on 2 workers: 3000 each, so the two never pass 6000 together.
  assert.equal(s.admission["inbound-limits"]?.global?.limits.rpm, 3000);
});

test("a key disabled by a 401 seen in one worker is skipped by the other: the revoked upstream is called once", async () => {
  const first = await chat();
  assert.equal(first.status, 200);
  assert.equal(revoked.stats().requests, 1);
  // Both workers know it (the other learnt it through the primary).
  await eventually(
    async () => {
      for (let i = 0; i < 4; i++) if (revokedDisabled(await status()) !== true) return false;
      return true;
    },
    5000,
    "both workers to see the key disabled",
  );
  for (let i = 0; i < 8; i++) assert.equal((await chat()).status, 200);
  assert.equal(revoked.stats().requests, 1, "no worker called the revoked key again");
  assert.equal(good.stats().requests, 9);
});

test("a killed worker is replaced, and the new one starts with what the others learnt", async () => {
  const before = await answering(6);
  assert.equal(before.size, 2);
  const victim = [...before][0]!;
  const pid = Number(/-(\d+)$/.exec(victim)![1]);
  process.kill(pid, "SIGKILL");
  // The replacement answers under a new name; the victim never again.
  const replaced = await until(
    async () => {
      const now = await answering(4).catch((err: Error) => new Set([err.message]));
      return now.size === 2 && !now.has(victim);
    },
    15_000,
    50,
  );
  assert.ok(replaced, "a new worker took the killed one's place");
  for (let i = 0; i < 4; i++) assert.equal(revokedDisabled(await status()), true);
  assert.equal((await chat()).status, 200);
  assert.equal(revoked.stats().requests, 1);
});

test("SIGHUP to the primary reloads every worker", async () => {
  cli.child.kill("SIGHUP");
  await eventually(
    async () => {
      const reloaded = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const s = await status();
        if (s.control.reloads >= 1) reloaded.add(s.shared?.instance ?? "none");
      }
      return reloaded.size === 2;
    },
    5000,
    "both workers to have reloaded",
  );
});

test("SIGTERM drains every worker: a slow request in flight completes with 200, then exit code 0", async () => {
  const inflight = chat("slow");
  await eventually(() => slow.stats().in_flight === 1, 5000, "the slow request at the upstream");
  cli.child.kill("SIGTERM");
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.ok(Array.isArray(res.json.choices));
  assert.equal(await cli.exited, 0);
  await assert.rejects(fetch(`${base.origin}/healthz`));
});
