/**
 * Run-time changes (admin API) outlive a reload of the file: a rotated key is not undone by the
 * next file or discovery change; a change whose target the file removed is dropped and said; a
 * reload asked to discard them applies the file alone.
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
import { chatBody } from "../helpers/harness.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-runtime-"));
const file = join(dir, "switchyard.yaml");
let sim: SimProvider | undefined;
after(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(ids: string[]) {
  return {
    store: { path: ":memory:" },
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        strategy: "round-robin",
        targets: ids.map((id) => ({ id, provider: "openai", base_url: sim!.url, key: `sk-file-${id}-0001` })),
      },
    ],
  };
}

test("a rotated key survives reloads of the file until the file drops its target or the reload discards it", async () => {
  sim = await startSimProvider({ dialect: "openai" });
  writeFileSync(file, stringify(config(["a", "b"])));
  const gateway = createGateway(loadConfigFile(file));
  const server = await startServer(gateway, { logger: createLogger("silent"), source: fileSource(file) });
  const post = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, ...init });
    return { status: res.status, body: (await res.json()) as any };
  };
  const keysSeen = async (n: number) => {
    sim!.resetStats();
    for (let i = 0; i < n; i++) assert.equal((await post("/v1/chat/completions", { body: JSON.stringify(chatBody()) })).status, 200);
    return Object.keys(sim!.stats().by_key).sort();
  };
  try {
    const rotated = await post("/admin/routes/chat/targets/a/key", { method: "PUT", body: JSON.stringify({ key: "sk-rotated-a-0002" }) });
    assert.equal(rotated.status, 200);
    assert.deepEqual(rotated.body.runtime_changes, ["rotate key of chat/a"]);
    assert.deepEqual(await keysSeen(4), ["sk-file-b-0001", "sk-rotated-a-0002"]);

    // The file changes (a target added): the rotation is made again over it.
    writeFileSync(file, stringify(config(["a", "b", "c"])));
    const reloaded = await post("/admin/reload");
    assert.equal(reloaded.status, 200, JSON.stringify(reloaded.body));
    assert.deepEqual(reloaded.body.changes.added, ["chat/c"]);
    assert.deepEqual(reloaded.body.runtime_changes, ["rotate key of chat/a"]);
    assert.deepEqual(reloaded.body.dropped_runtime_changes, []);
    assert.deepEqual(await keysSeen(6), ["sk-file-b-0001", "sk-file-c-0001", "sk-rotated-a-0002"]);

    // Discarded on request: the file's key is back.
    const discarded = await post("/admin/reload?discard_runtime_changes=true");
    assert.equal(discarded.status, 200);
    assert.deepEqual(discarded.body.runtime_changes, []);
    assert.deepEqual(discarded.body.dropped_runtime_changes, ["rotate key of chat/a: discarded"]);
    assert.deepEqual(await keysSeen(6), ["sk-file-a-0001", "sk-file-b-0001", "sk-file-c-0001"]);

    // A change whose target the file then removes is dropped, and the answer says why.
    await post("/admin/routes/chat/targets/c", { method: "PATCH", body: JSON.stringify({ weight: 3 }) });
    writeFileSync(file, stringify(config(["a", "b"])));
    const dropped = await post("/admin/reload");
    assert.equal(dropped.status, 200);
    assert.deepEqual(dropped.body.runtime_changes, []);
    assert.match(dropped.body.dropped_runtime_changes[0], /^patch chat\/c \(weight\): route "chat" has no target "c"/);
  } finally {
    await server.shutdown(0);
  }
});
