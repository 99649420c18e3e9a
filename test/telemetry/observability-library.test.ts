/** The library front gets the same observability as the server: metrics text, the usage ledger, request records. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createGateway, Observability } from "../../src/index.js";
import type { RequestRecord } from "../../src/core/events.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { parseProm, sum } from "../helpers/prom.js";
import { tmpdir } from "node:os";
import { pino } from "pino";

test("Observability.start on a library gateway: metrics, ledger and records see gateway.request calls", async () => {
  const sim = await startSimProvider({ dialect: "openai", latency_ms: 1 });
  const gateway = createGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "oa", provider: "openai", base_url: sim.url, key: "sk-lib-0001", model: "gpt-4o-mini" }],
      },
    ],
  });
  const obs = await Observability.start(gateway, createLogger("silent"));
  const records: RequestRecord[] = [];
  gateway.events.onRequest((r) => records.push(r));
  try {
    for (let i = 0; i < 3; i++) {
      const res = await gateway.request("chat", { body: { model: "demo", messages: [{ role: "user", content: "hi" }] } });
      assert.equal(res.status, 200);
    }
    const samples = parseProm((await obs.metrics?.text()) ?? "");
    assert.equal(sum(samples, "loadbalancer_requests_total", { route: "chat", backend_id: "oa", status: "200" }), 3);
    assert.ok(sum(samples, "switchyard_cost_usd_total", { route: "chat", model: "gpt-4o-mini" }) > 0, "gpt-4o-mini has a listed price");
    const usage = obs.ledger?.query({ group_by: "route,model" });
    assert.equal(usage?.rows[0]?.requests, 3);
    assert.equal(records.length, 3);
    assert.equal(records[0]?.usage?.completion_tokens, 16);
    assert.ok((records[0]?.costUsd ?? 0) > 0);
  } finally {
    await obs.close();
    await gateway.close();
    await sim.close();
  }
});

test("a store that cannot be opened does not stop the gateway: usage is kept in memory and the log says why", async () => {
  const sim = await startSimProvider({ dialect: "openai", latency_ms: 1 });
  // A folder is not a database file.
  const gateway = createGateway({
    store: { path: tmpdir() },
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "oa", provider: "openai", base_url: sim.url, key: "sk-lib-0002" }],
      },
    ],
  });
  const lines: string[] = [];
  const log = pino({ level: "info" }, { write: (l: string) => lines.push(l) });
  const obs = await Observability.start(gateway, log);
  try {
    const res = await gateway.request("chat", { body: { model: "demo", messages: [{ role: "user", content: "hi" }] } });
    assert.equal(res.status, 200);
    assert.equal(obs.ledger?.query({ group_by: "route" }).rows[0]?.requests, 1, "usage still counted, in memory");
    assert.ok(
      lines.some((l) => l.includes("cannot open the store") && l.includes(tmpdir())),
      "the log names the store and why",
    );
  } finally {
    await obs.close();
    await gateway.close();
    await sim.close();
  }
});
