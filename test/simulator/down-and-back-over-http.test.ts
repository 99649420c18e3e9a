/**
 * `down` refuses connections on the provider port, which also served the control API: without a
 * second listener, a sim taken down over HTTP could never be brought back over HTTP. These tests
 * guard the always-up control listener (control_port, controlUrl, control_url).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { call } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";
import { freePort } from "../helpers/free-port.js";

const chat = (sim: SimProvider) =>
  call(`${sim.url}/chat/completions`, {
    headers: { authorization: "Bearer sk-a" },
    body: { model: "m", messages: [{ role: "user", content: "hello" }] },
  });

const refused = (err: { code?: string }) => err.code === "ECONNREFUSED";

test("down through the provider port, back through the control URL: the provider port refuses while the control API answers", async () => {
  const sim = await startSimProvider({ dialect: "openai", name: "flappy" });
  try {
    assert.match(sim.controlUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(sim.controlUrl, sim.origin);
    assert.equal((await chat(sim)).status, 200);

    const down = await call(`${sim.origin}/_sim/config`, { body: { down: true } });
    assert.equal(down.status, 200);
    assert.equal(down.json.control_url, sim.controlUrl, "the answer says where to bring the sim back");
    // Through the provider port the sim answers first, then goes down.
    await eventually(() => sim.options.down === true, 3000, "down");
    await assert.rejects(chat(sim), refused);
    await assert.rejects(call(`${sim.origin}/_sim/stats`), refused);

    const stats = await call(`${sim.controlUrl}/_sim/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.json.name, "flappy");
    assert.equal(stats.json.control_url, sim.controlUrl);
    assert.equal((await call(`${sim.controlUrl}/_sim/config`)).json.down, true);

    const up = await call(`${sim.controlUrl}/_sim/config`, { body: { down: false } });
    assert.equal(up.status, 200);
    assert.equal(up.json.options.down, false);
    assert.equal((await chat(sim)).status, 200);
    assert.equal(
      (await call(`${sim.origin}/_sim/stats`)).json.control_url,
      sim.controlUrl,
      "the provider port serves the control API again",
    );
  } finally {
    await sim.close();
  }
});

test("down through the control URL is in effect when the answer arrives; up again on the same port", async () => {
  const sim = await startSimProvider({ dialect: "anthropic" });
  try {
    const port = sim.port;
    const down = await call(`${sim.controlUrl}/_sim/config`, { body: { down: true } });
    assert.equal(down.json.options.down, true);
    await assert.rejects(call(`${sim.url}/v1/models`, { headers: { "x-api-key": "k" } }), refused);
    await call(`${sim.controlUrl}/_sim/config`, { body: { down: false } });
    assert.equal(sim.port, port);
    assert.equal((await call(`${sim.url}/v1/models`, { headers: { "x-api-key": "k" } })).status, 200);
  } finally {
    await sim.close();
  }
});

test("a sim started down answers on its control URL; control_port is fixed for the sim's life", async () => {
  const controlPort = await freePort();
  const sim = await startSimProvider({ dialect: "openai", down: true, control_port: controlPort });
  try {
    assert.equal(sim.controlUrl, `http://127.0.0.1:${controlPort}`);
    await assert.rejects(chat(sim), refused);
    assert.equal((await call(`${sim.controlUrl}/_sim/stats`)).json.requests, 0);
    assert.equal((await call(`${sim.controlUrl}/_sim/reset`, { method: "POST" })).status, 200);
    const move = await call(`${sim.controlUrl}/_sim/config`, { body: { control_port: 1 } });
    assert.equal(move.status, 400);
    assert.match(move.json.error, /control_port/);
    // Only the control API lives there: /health goes down with the provider.
    assert.equal((await call(`${sim.controlUrl}/health`)).status, 404);
    assert.equal((await call(`${sim.controlUrl}/_sim/config`, { body: { down: false } })).status, 200);
    assert.equal((await chat(sim)).status, 200);
  } finally {
    await sim.close();
  }
});

test("close() closes the control listener too; control_port equal to port is refused", async () => {
  const sim = await startSimProvider({ dialect: "gemini" });
  const controlUrl = sim.controlUrl;
  assert.equal((await call(`${controlUrl}/_sim/stats`)).status, 200); // leaves a keep-alive connection open
  await sim.close();
  await assert.rejects(call(`${controlUrl}/_sim/stats`), refused);

  const port = await freePort();
  await assert.rejects(startSimProvider({ dialect: "rest", port, control_port: port }), /control_port must differ from port/);
});
