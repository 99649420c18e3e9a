import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { createGateway, startServer } from "../../src/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { until } from "../helpers/wait.js";

test("access log: one JSON line per request with its correlation id, escaped client strings, no secrets", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-log-"));
  const file = join(dir, "gateway.log");
  const sim = await startSimProvider({ dialect: "openai", name: "logged", revoked_keys: ["sk-revoked-key-9999"] });
  const gw = createGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [
          { id: "bad", provider: "openai", base_url: sim.url, key: "sk-revoked-key-9999" },
          { id: "good", provider: "openai", base_url: sim.url, key: "sk-good-key-1234" },
        ],
      },
    ],
  });
  const server = await startServer(gw, { port: 0, host: "127.0.0.1", logger: createLogger("info", file) });
  try {
    for (const id of ['req-"quoted"\\-1', "req-2"]) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": id, authorization: "Bearer client-secret-5555" },
        body: JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    const lines = () =>
      readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    assert.ok(await until(() => lines().filter((l) => l.msg === "request").length === 2, 5000), "both access lines were written");
    const all = lines();
    const access = all.filter((l) => l.msg === "request");
    assert.equal(access[0].request_id, 'req-"quoted"\\-1');
    assert.equal(access[0].level, "info");
    assert.equal(access[0].route, "chat");
    assert.equal(access[0].status, 200);
    assert.match(access[0].time, /^\d{4}-\d\d-\d\dT/);
    assert.equal(typeof access[0].duration_ms, "number");
    // The revoked key was disabled with an error line naming the target, and the key is nowhere.
    assert.ok(all.some((l) => l.level === "error" && l.target === "bad" && /re-enables/.test(l.msg)));
    const text = readFileSync(file, "utf8");
    assert.doesNotMatch(text, /sk-revoked-key-9999|sk-good-key-1234|client-secret-5555/);
  } finally {
    await server.shutdown(0);
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
