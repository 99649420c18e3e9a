import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startCli } from "../helpers/cli.js";
import { until } from "../helpers/wait.js";

const sim = await startSimProvider({ dialect: "openai", name: "slow", latency_ms: 500 });
const dir = mkdtempSync(join(tmpdir(), "switchyard-shutdown-"));
after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

test("SIGTERM drains: 50 in-flight requests against 500 ms upstreams all complete with 200, exit code 0", async () => {
  const file = join(dir, "switchyard.yaml");
  writeFileSync(
    file,
    `server: { port: 0, drain_timeout_ms: 10000 }
log: { level: warn }
routes:
  - name: chat
    surface: openai
    models: [demo]
    targets: [{ id: slow, provider: openai, base_url: "${sim.url}", key: sk-shutdown-0001 }]
`,
  );
  const cli = await startCli(["start", "--config", file], /listening on (http:\/\/\S+) \(/);
  const url = /listening on (http:\/\/\S+) \(/.exec(cli.output())![1]!;
  const client = new Pool(url, { connections: 50 });
  const body = JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] });
  const inflight = Array.from({ length: 50 }, async () => {
    const res = await client.request({
      path: "/v1/chat/completions",
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const json = (await res.body.json()) as { choices?: unknown[] };
    return { status: res.statusCode, ok: Array.isArray(json.choices) };
  });
  // Wait until all 50 are at the upstream, then ask the gateway to stop.
  await until(() => sim.stats().in_flight >= 50, 2000, 10);
  assert.equal(sim.stats().in_flight, 50);
  cli.child.kill("SIGTERM");
  const results = await Promise.all(inflight);
  assert.equal(results.length, 50);
  assert.deepEqual(
    results.filter((r) => r.status !== 200 || !r.ok),
    [],
  );
  assert.equal(await cli.exited, 0);
  // Nothing listens any more.
  await assert.rejects(fetch(`${url}/healthz`));
  await client.close();
});
