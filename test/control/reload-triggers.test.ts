/**
 * What starts a reload: SIGHUP to the running CLI, and (opt-in) a change of the watched config
 * file; and what a reload cannot take at once is said (restart_needed), never silently ignored.
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
import { startCli } from "../helpers/cli.js";
import { until } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-triggers-"));
const sims: SimProvider[] = [];
after(async () => {
  await Promise.all(sims.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

function config(ids: string[], sim: SimProvider, extra: Record<string, unknown> = {}) {
  return {
    server: { host: "127.0.0.1", port: 0 },
    store: { path: ":memory:" },
    ...extra,
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: ids.map((id) => ({ id, provider: "openai", base_url: sim.url, key: `sk-${id}-0001` })),
      },
    ],
  };
}

const targetIds = async (url: string) =>
  ((await (await fetch(`${url}/admin/status`)).json()) as any).routes[0].targets.map((t: { id: string }) => t.id) as string[];

test("SIGHUP makes the running CLI read its config file again", async () => {
  const sim = await startSimProvider({ dialect: "openai" });
  sims.push(sim);
  const file = join(dir, "hup.yaml");
  writeFileSync(file, stringify(config(["one"], sim)));
  const cli = await startCli(["start", "-c", file], /listening on (http:\/\/\S+)/);
  try {
    const url = /listening on (http:\/\/\S+)/.exec(cli.output())![1]!;
    assert.deepEqual(await targetIds(url), ["one"]);
    writeFileSync(file, stringify(config(["one", "two"], sim)));
    cli.child.kill("SIGHUP");
    await until(async () => (await targetIds(url)).length === 2, 5000);
    assert.deepEqual(await targetIds(url), ["one", "two"]);
    // A broken file on SIGHUP: logged with its paths, the running config stays, the process lives.
    writeFileSync(file, "routes: [{ name: chat, surface: openai }]\n");
    cli.child.kill("SIGHUP");
    await until(() => cli.output().includes("config refused"), 5000);
    assert.match(cli.output(), /routes\[0\]\.targets/);
    assert.deepEqual(await targetIds(url), ["one", "two"]);
  } finally {
    cli.child.kill("SIGTERM");
    await cli.exited;
  }
});

test("with reload.watch, writing the config file applies it; a block that needs a restart is named", async () => {
  const sim = await startSimProvider({ dialect: "openai" });
  sims.push(sim);
  const file = join(dir, "watched.yaml");
  const watch = { reload: { watch: true, debounce_ms: 50 } };
  writeFileSync(file, stringify(config(["one"], sim, watch)));
  const gateway = createGateway(loadConfigFile(file));
  const server = await startServer(gateway, { logger: createLogger("silent"), source: fileSource(file) });
  try {
    writeFileSync(file, stringify(config(["one", "three"], sim, watch)));
    await until(async () => (await targetIds(server.url)).length === 2, 5000);
    assert.deepEqual(await targetIds(server.url), ["one", "three"]);

    writeFileSync(file, stringify(config(["one", "three"], sim, { ...watch, upstream: { connections: 8 } })));
    const res = await fetch(`${server.url}/admin/reload`, { method: "POST" });
    const body = (await res.json()) as any;
    assert.equal(res.status, 200);
    assert.deepEqual(body.restart_needed, ["upstream"]);
  } finally {
    await server.shutdown(0);
  }
});
