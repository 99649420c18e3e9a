/**
 * admin.port: the admin API and the dashboard answer on their own listener and nowhere else; the
 * traffic, /healthz and /metrics stay on the main one.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway, chatBody, type RunningGateway } from "../helpers/harness.js";

let sim: SimProvider | undefined;
let gw: RunningGateway | undefined;
after(async () => {
  await gw?.close();
  await sim?.close();
});

test("with admin.port the admin API and dashboard move to their own listener", async () => {
  sim = await startSimProvider({ dialect: "openai" });
  gw = await startGateway({
    admin: { port: 0 },
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "a", provider: "openai", base_url: sim.url, key: "sk-a-0001" }],
      },
    ],
  });
  const main = gw.server.url;
  const admin = gw.server.adminUrl;
  assert.notEqual(main, admin);

  const status = async (base: string, path: string, init?: RequestInit) => (await fetch(`${base}${path}`, init)).status;
  assert.equal(await status(admin, "/admin/status"), 200);
  assert.equal(await status(admin, "/dashboard"), 200);
  assert.equal(await status(admin, "/admin/openapi.json"), 200);
  assert.equal(await status(main, "/admin/status"), 404);
  assert.equal(await status(main, "/dashboard"), 404);
  assert.equal(await status(main, "/admin/routes/chat/targets/a/disable", { method: "POST" }), 404);

  const chat = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chatBody()) };
  assert.equal(await status(main, "/v1/chat/completions", chat), 200);
  assert.equal(await status(admin, "/v1/chat/completions", chat), 404, "no traffic through the admin listener");
  assert.equal(await status(main, "/healthz"), 200);
  assert.equal(await status(admin, "/healthz"), 200);
  assert.equal(await status(main, "/metrics"), 200);
});
