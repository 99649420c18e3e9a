/**
 * Reload under load: a config change that adds one target and removes another while 200 rps of
 * plain and streamed requests run fails none of them; the removed target finishes its calls in
 * flight and gets no new one; a broken config changes nothing and says why.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { createGateway, fileSource, loadConfigFile, startServer } from "../../src/index.js";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { pacedLoad } from "../helpers/paced-load.js";
import { parseProm, sum } from "../helpers/prom.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-reload-"));
const file = join(dir, "switchyard.yaml");
const sims: SimProvider[] = [];
after(async () => {
  await Promise.all(sims.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

function configWith(targets: SimProvider[], extra: Record<string, unknown> = {}) {
  return {
    server: { host: "127.0.0.1", port: 0 },
    store: { path: ":memory:" },
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        ...extra,
        targets: targets.map((s) => ({ id: s.options.name, provider: "openai", base_url: s.url, key: `sk-${s.options.name}-key1` })),
      },
    ],
  };
}

async function postReload(url: string) {
  const res = await fetch(`${url}/admin/reload`, { method: "POST" });
  return { status: res.status, body: (await res.json()) as any };
}

test("a reload that adds a target and removes another under 200 rps of mixed requests fails none", async () => {
  for (const name of ["a", "b", "c"]) sims.push(await startSimProvider({ dialect: "openai", name, latency_ms: 150, jitter_ms: 50 }));
  const [a, b, c] = sims as [SimProvider, SimProvider, SimProvider];
  writeFileSync(file, stringify(configWith([a, b])));
  const gateway = createGateway(loadConfigFile(file));
  const server = await startServer(gateway, { logger: createLogger("silent"), source: fileSource(file) });
  try {
    const load = pacedLoad(server.url, { rps: 200, durationMs: 4000 });

    // Mid-load: a adds c and loses a.
    await new Promise((r) => setTimeout(r, 1500));
    const aInFlight = a.stats().in_flight;
    const aTarget = gateway.route("chat")!.targets.find((t) => t.id === "a")!;
    writeFileSync(file, stringify(configWith([b, c])));
    const reloaded = await postReload(server.url);
    // Attempts the gateway started on a: none may start once the reload applied (calls already
    // sent may still be on their way to the simulator, so count them where they start).
    const aAtReload = aTarget.stats.requests;
    assert.equal(reloaded.status, 200, JSON.stringify(reloaded.body));
    assert.deepEqual(reloaded.body.changes.added, ["chat/c"]);
    assert.deepEqual(reloaded.body.changes.removed, ["chat/a"]);
    assert.equal(reloaded.body.version, 2);

    // Then a broken config: refused with each error's path, nothing changes.
    await new Promise((r) => setTimeout(r, 500));
    const broken = configWith([b, c]) as any;
    broken.routes[0].targets[0].weight = -1;
    broken.routes[0].strategy = "fastest";
    writeFileSync(file, stringify(broken));
    const refused = await postReload(server.url);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, "invalid_config");
    assert.ok(
      refused.body.errors.some((e: string) => e.startsWith("routes[0].targets[0].weight")),
      refused.body.errors.join("\n"),
    );
    assert.ok(
      refused.body.errors.some((e: string) => e.startsWith("routes[0].strategy")),
      refused.body.errors.join("\n"),
    );
    assert.equal(gateway.engine.version, 2, "the refused config changed nothing");

    const result = await load;
    assert.equal(result.failures.length, 0, JSON.stringify(result.failures.slice(0, 3)));
    assert.equal(result.ok, 800);
    assert.ok(aInFlight > 0, "a had calls in flight when it was removed");
    // a finished what it had (every client got its whole answer) and took nothing new after.
    assert.equal(aTarget.stats.requests, aAtReload, "the removed target got no new call");
    assert.equal(a.stats().requests, aAtReload, "the simulator saw exactly the calls started before the reload");
    assert.equal(a.stats().completed, a.stats().requests, "every call a had in flight completed");
    assert.ok(c.stats().requests > 30, `the added target took traffic (${c.stats().requests})`);
    const status = (await (await fetch(`${server.url}/admin/status`)).json()) as any;
    assert.deepEqual(
      status.routes[0].targets.map((t: { id: string }) => t.id),
      ["b", "c"],
    );
    assert.equal(status.control.last_reload.ok, false, "the last reload (the broken one) is reported as refused");
    const metrics = parseProm(await (await fetch(`${server.url}/metrics`)).text());
    assert.equal(sum(metrics, "switchyard_config_reloads_total", { result: "applied" }), 1);
    assert.equal(sum(metrics, "switchyard_config_reloads_total", { result: "refused" }), 1);
    assert.equal(sum(metrics, "switchyard_config_last_reload_successful"), 0);
    assert.equal(sum(metrics, "switchyard_config_generation"), 2);
  } finally {
    await server.shutdown(0);
  }
});
