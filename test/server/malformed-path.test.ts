import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Client } from "undici";
import { startGateway } from "../helpers/harness.js";

const gw = await startGateway({
  routes: [
    {
      name: "gem",
      surface: "gemini",
      models: ["g"],
      targets: [{ id: "g", provider: "gemini", base_url: "http://127.0.0.1:1", key: "k-0001" }],
    },
  ],
});
const client = new Client(gw.url);
after(async () => {
  await client.close();
  await gw.close();
});

test("a malformed percent-escape in a path is a 400 in the client's dialect, not a crash", async () => {
  for (const [path, method] of [
    ["/v1beta/models/%E0:generateContent", "POST"],
    ["/admin/routes/gem/targets/%E0/enable", "POST"],
  ] as const) {
    const r = await client.request({ path, method, headers: { "content-type": "application/json" }, body: "{}" });
    const body = (await r.body.json()) as { error: { status?: string; code?: string } };
    assert.equal(r.statusCode, 400, path);
    assert.equal(r.headers["x-switchyard-error"], "invalid_request", path);
    if (path.startsWith("/v1beta")) assert.equal(body.error.status, "INVALID_ARGUMENT", "Gemini's shape");
  }
  assert.equal((await client.request({ path: "/healthz", method: "GET" })).statusCode, 200, "still serving");
});
