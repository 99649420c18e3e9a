import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUTHORITATIVE_ANSWER, decode, encode, type Answer } from "dns-packet";
import { createGateway, startServer } from "../../src/index.js";
import { fileSource } from "../../src/control/config-source.js";
import { withDiscovery } from "../../src/control/discovery.js";
import { lookupSrv } from "../../src/control/dns-srv.js";
import { ConfigError } from "../../src/errors.js";
import { maskConfig } from "../../src/config/mask.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { chatBody } from "../helpers/harness.js";
import { eventually, sleep } from "../helpers/wait.js";

const SRV_NAME = "_llm._tcp.example.internal";

/**
 * A tiny authoritative DNS server on 127.0.0.1: answers every SRV question with `records`
 * (targets 127.0.0.1, TTL 0 so nothing caches), or SERVFAIL while `fail` is set.
 */
async function startDns() {
  const state = {
    records: [] as { port: number; priority?: number; weight?: number; target?: string }[],
    fail: false,
    queries: 0,
  };
  const socket = createSocket("udp4");
  socket.on("message", (msg, from) => {
    const query = decode(msg);
    state.queries++;
    const question = query.questions?.[0];
    const answers: Answer[] =
      state.fail || question === undefined
        ? []
        : state.records.map((r) => ({
            type: "SRV",
            class: "IN",
            name: question.name,
            ttl: 0,
            data: { priority: r.priority ?? 10, weight: r.weight ?? 0, port: r.port, target: r.target ?? "127.0.0.1" },
          }));
    const SERVFAIL = 2;
    const reply = encode({
      type: "response",
      id: query.id ?? 0,
      flags: AUTHORITATIVE_ANSWER | (state.fail ? SERVFAIL : 0),
      questions: query.questions ?? [],
      answers,
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  return { state, server: `127.0.0.1:${socket.address().port}`, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

/** What discovery logs, to assert its warnings. */
function recordingLog() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj });
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

const dir = mkdtempSync(join(tmpdir(), "switchyard-discovery-"));
const dns = await startDns();
const sims = await Promise.all(["a", "b", "c"].map((name) => startSimProvider({ dialect: "openai", name, require_key: false })));
const [simA, simB, simC] = sims as [(typeof sims)[0], (typeof sims)[0], (typeof sims)[0]];
after(async () => {
  await dns.close();
  await Promise.all(sims.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** SRV targets' ids in the order discovery lists them: by priority, host, then port. */
const srvIds = (...ports: number[]) => ports.sort((a, b) => a - b).map((p) => `srv-127.0.0.1-${p}`);

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test("SRV lookup: records sorted by priority, one per host:port, from the given server", async () => {
  dns.state.records = [
    { port: 9002, priority: 20, weight: 5 },
    { port: 9001, priority: 10 },
    { port: 9001, priority: 10 },
    { port: 9003, priority: 10, target: "Backend.Example.Internal." },
  ];
  const records = await lookupSrv(SRV_NAME, dns.server);
  assert.deepEqual(records, [
    { host: "127.0.0.1", port: 9001, priority: 10, weight: 0 },
    { host: "backend.example.internal", port: 9003, priority: 10, weight: 0 },
    { host: "127.0.0.1", port: 9002, priority: 20, weight: 5 },
  ]);
  dns.state.fail = true;
  await assert.rejects(lookupSrv(SRV_NAME, dns.server));
  dns.state.fail = false;
});

test("SRV records become targets: id, base URL, weight and a tier per priority over the template's", async () => {
  dns.state.records = [
    { port: 9001, priority: 10 },
    { port: 9002, priority: 20, weight: 5 },
  ];
  const cfg = write(
    "srv-only.yaml",
    `routes:
  - name: srv
    surface: openai
    models: [demo]
    discovery: { dns_srv: ${SRV_NAME}, dns_server: "${dns.server}", scheme: https, base_path: /v1, template: { provider: openai, key: sk-t, weight: 3, tier: 2 } }
    targets: []
`,
  );
  const config = await withDiscovery(fileSource(cfg), recordingLog()).load();
  const targets = config.routes[0]!.targets.map((t) => ({ id: t.id, base_url: t.base_url, weight: t.weight, tier: t.tier, key: t.key }));
  assert.deepEqual(targets, [
    { id: "srv-127.0.0.1-9001", base_url: "https://127.0.0.1:9001/v1", weight: 3, tier: 2, key: "sk-t" },
    { id: "srv-127.0.0.1-9002", base_url: "https://127.0.0.1:9002/v1", weight: 5, tier: 3, key: "sk-t" },
  ]);
  assert.ok(Object.isFrozen(config), "validated and frozen like any config");
});

test("a bad discovery file is a ConfigError naming the file, the entry and the field", async () => {
  write("bad-targets.yaml", `- { id: x, base_url: "http://127.0.0.1:1/v1", weight: 0 }\n- { id: y, base_url: nope }\n`);
  const cfg = write(
    "bad.yaml",
    `routes:
  - { name: chat, surface: openai, models: [m], discovery: { file: bad-targets.yaml, template: { provider: openai } }, targets: [] }
`,
  );
  await assert.rejects(withDiscovery(fileSource(cfg), recordingLog()).load(), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.ok(err.problems.includes("bad-targets.yaml[0].weight: must be > 0"), err.problems.join("\n"));
    assert.ok(
      err.problems.some((p) => p.startsWith("bad-targets.yaml[1].base_url: must be an http(s) URL")),
      err.problems.join("\n"),
    );
    return true;
  });
});

test("the schema: discovery needs a file or an SRV name, SRV needs a provider; without discovery a route needs targets", async () => {
  const cfg = write(
    "schema.yaml",
    `routes:
  - { name: a, surface: openai, models: [a], discovery: { template: { provider: openai } }, targets: [] }
  - { name: b, surface: openai, models: [b], discovery: { dns_srv: x.example, dns_server: "nope" }, targets: [] }
  - { name: c, surface: openai, models: [c], targets: [] }
`,
  );
  await assert.rejects(withDiscovery(fileSource(cfg), recordingLog()).load(), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    for (const expected of [
      "routes[0].discovery.file: give file or dns_srv (or both)",
      "routes[1].discovery.dns_server: must be host:port",
      "routes[1].discovery.template.provider: is required with dns_srv (SRV records name only host and port)",
      "routes[2].targets: must list at least one target (or find them: discovery)",
    ])
      assert.ok(err.problems.includes(expected), `missing "${expected}" in:\n${err.problems.join("\n")}`);
    return true;
  });
});

test("end to end: routes serve through targets found in a file and in SRV records, and follow their changes", async () => {
  const targetsFile = join(dir, "targets.yaml");
  dns.state.records = [{ port: simA.port }];
  const cfg = write(
    "switchyard.yaml",
    `reload: { debounce_ms: 20 }
routes:
  - name: chat
    surface: openai
    models: [demo]
    discovery: { file: targets.yaml, template: { provider: openai, key: sk-file-0001 } }
    targets: []
  - name: srv
    surface: openai
    models: [srv-demo]
    discovery: { dns_srv: ${SRV_NAME}, dns_server: "${dns.server}", interval_s: 0.05, base_path: /v1, template: { provider: openai, key: sk-srv-0001 } }
    targets: []
`,
  );
  const log = recordingLog();
  const source = withDiscovery(fileSource(cfg), log);
  const gateway = createGateway(await source.load());
  const server = await startServer(gateway, { logger: createLogger("silent"), source });
  const control = server.control!;
  const reloads: string[] = [];
  const stop = source.watch(() => void control.reload("discovery").then((r) => reloads.push(r.ok ? "ok" : r.errors.join("; "))));
  const ids = (route: string) => gateway.route(route)!.targets.map((t) => t.id);
  const chat = async (model: string) => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chatBody(model)),
    });
    await res.arrayBuffer();
    return { status: res.status, target: res.headers.get("x-switchyard-target") };
  };
  try {
    // No file yet: the route stands with no target (a warning), and says so to clients.
    assert.deepEqual(ids("chat"), []);
    assert.ok(log.lines.some((l) => l.level === "warn" && l.msg.startsWith("discovery file not found")));
    assert.equal((await chat("demo")).status, 503);
    // The SRV answer gave the srv route its target at load.
    assert.deepEqual(ids("srv"), [`srv-127.0.0.1-${simA.port}`]);
    assert.deepEqual(await chat("srv-demo"), { status: 200, target: `srv-127.0.0.1-${simA.port}` });

    // A file written: its targets join the route and serve.
    writeFileSync(targetsFile, `- { id: file-b, base_url: "${simB.url}" }\n- { id: file-c, base_url: "${simC.url}" }\n`);
    await eventually(() => ids("chat").length === 2, 15_000, "the file's targets");
    assert.deepEqual(ids("chat"), ["file-b", "file-c"]);
    assert.equal(gateway.route("chat")!.targets[0]!.config.key, "sk-file-0001", "the template's key");
    const served = new Set<string | null>();
    for (let i = 0; i < 4; i++) served.add((await chat("demo")).target);
    assert.deepEqual([...served].sort(), ["file-b", "file-c"]);

    // Rewritten without one: it leaves the route.
    writeFileSync(targetsFile, JSON.stringify([{ id: "file-c", base_url: simC.url }]));
    await eventually(() => ids("chat").length === 1, 15_000, "file-b removed");
    assert.deepEqual(ids("chat"), ["file-c"]);
    assert.deepEqual(await chat("demo"), { status: 200, target: "file-c" });

    // A file that does not validate keeps what it last listed (a warning names the entry and field).
    // (The routes change inside a reload; its answer is recorded a moment later: let every one land.)
    await new Promise((r) => setTimeout(r, 500));
    const before = reloads.length;
    writeFileSync(targetsFile, `- { id: file-c, base_url: "${simC.url}", weight: -1 }\n`);
    await eventually(() => log.lines.some((l) => l.msg.startsWith("discovery file does not validate")), 15_000, "the warning");
    const warning = log.lines.find((l) => l.msg.startsWith("discovery file does not validate"))!;
    assert.deepEqual((warning.obj as { errors: string[] }).errors, ["targets.yaml[0].weight: must be > 0"]);
    assert.equal(reloads.length, before, "no reload asked");
    assert.deepEqual(ids("chat"), ["file-c"]);

    // The SRV records change: the next poll sees it and the route follows.
    dns.state.records = [{ port: simB.port }, { port: simC.port }];
    await eventually(() => ids("srv").length === 2, 15_000, "the new SRV records");
    assert.deepEqual(ids("srv"), srvIds(simB.port, simC.port));
    assert.equal(control.toJSON().last_reload?.trigger, "discovery");
    assert.ok(
      reloads.every((r) => r === "ok"),
      reloads.join("\n"),
    );

    // DNS fails: the last known targets stay (a warning), however many polls fail. (The routes
    // change inside the reload; its answer is recorded a moment later: let it land first.)
    await new Promise((r) => setTimeout(r, 200));
    const reloadsBefore = reloads.length;
    dns.state.fail = true;
    const queries = dns.state.queries;
    await eventually(() => dns.state.queries >= queries + 3, 5000, "polls while DNS fails");
    assert.deepEqual(ids("srv"), srvIds(simB.port, simC.port));
    assert.ok(log.lines.some((l) => l.level === "warn" && l.msg.startsWith("DNS SRV lookup failed: keeping the last known targets")));
    // An empty answer (NODATA) is a failure too: it never empties the route.
    dns.state.fail = false;
    dns.state.records = [];
    const q2 = dns.state.queries;
    await eventually(() => dns.state.queries >= q2 + 3, 5000, "polls with no records");
    assert.equal(ids("srv").length, 2);
    assert.equal(reloads.length, reloadsBefore, "no reload while DNS answers nothing new");
    const served2 = await chat("srv-demo");
    assert.equal(served2.status, 200);

    // Unchanged answers ask for no reload.
    dns.state.records = [{ port: simC.port }, { port: simB.port }];
    const q3 = dns.state.queries;
    await eventually(() => dns.state.queries >= q3 + 3, 5000, "polls with the same records in another order");
    assert.equal(reloads.length, reloadsBefore);

    // A reload that is refused (the config file broken meanwhile) is asked once per new set, not at every poll.
    const good = readFileSync(cfg, "utf8");
    writeFileSync(cfg, good.replace("surface: openai", "surface: soap"));
    dns.state.records = [{ port: simA.port }];
    await eventually(() => reloads.length === reloadsBefore + 1, 5000, "the refused reload");
    assert.match(reloads.at(-1)!, /routes\[0\]\.surface: must be one of/);
    const q4 = dns.state.queries;
    await eventually(() => dns.state.queries >= q4 + 3, 5000, "polls after the refused reload");
    assert.equal(reloads.length, reloadsBefore + 1);
    // Fixed and reloaded (SIGHUP): the reload takes the discovered set too.
    writeFileSync(cfg, good);
    assert.equal((await control.reload("SIGHUP")).ok, true);
    assert.deepEqual(ids("srv"), [`srv-127.0.0.1-${simA.port}`]);
  } finally {
    stop();
    await server.shutdown(0);
  }
  // Stopped: no more polls.
  const q = dns.state.queries;
  await sleep(200);
  assert.ok(dns.state.queries <= q + 1);
});

test("watch() before any load asks for one reload at once (the running config has no discovered targets yet)", async () => {
  const cfg = write("early.yaml", `routes:\n  - { name: r, surface: openai, models: [m], discovery: { file: none.yaml }, targets: [] }\n`);
  const source = withDiscovery(fileSource(cfg), recordingLog());
  let asked = 0;
  const stop = source.watch(() => asked++);
  await eventually(() => asked === 1, 1000, "the first reload");
  stop();
});

test("the template's key and secret headers are masked wherever the config is shown (validate, /admin/config)", async () => {
  const cfg = write(
    "masked.yaml",
    `routes:
  - name: r
    surface: openai
    models: [m]
    discovery: { file: none.yaml, template: { provider: openai, key: sk-template-secret-9876, headers: { x-api-key: hdr-secret-5432, x-team: blue } } }
    targets: []
`,
  );
  const config = await withDiscovery(fileSource(cfg), recordingLog()).load();
  const shown = JSON.stringify(maskConfig(config));
  assert.doesNotMatch(shown, /template-secret|hdr-secret/);
  assert.match(shown, /"key":"\*\*\*\*9876"/);
  assert.match(shown, /"x-team":"blue"/);
});
