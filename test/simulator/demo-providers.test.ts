import { test } from "node:test";
import assert from "node:assert/strict";
import { startDemoProviders } from "../../src/simulator/demo-providers.js";
import { call } from "../helpers/http.js";

test("demo providers: three OpenAI sims of falling speed and reliability, plus anthropic, gemini and rest", async () => {
  const demo = await startDemoProviders();
  try {
    const byName = new Map(demo.providers.map((p) => [p.options.name, p]));
    assert.deepEqual([...byName.keys()], ["sim-fast", "sim-medium", "sim-slow", "sim-anthropic", "sim-gemini", "sim-rest"]);
    assert.deepEqual(
      ["sim-fast", "sim-medium", "sim-slow"].map((n) => [byName.get(n)!.options.latency_ms, byName.get(n)!.options.error_rate]),
      [
        [100, 0.05],
        [500, 0.1],
        [2000, 0.2],
      ],
    );
    assert.deepEqual(
      demo.providers.map((p) => p.options.dialect),
      ["openai", "openai", "openai", "anthropic", "gemini", "rest"],
    );
    assert.equal(new Set(demo.providers.map((p) => p.port)).size, 6);
    assert.equal((await call(`${byName.get("sim-rest")!.url}/v1/quote?apikey=k`)).json.source, "sim-rest");
  } finally {
    await demo.close();
  }
});
