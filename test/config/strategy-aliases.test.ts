import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.js";
import { STRATEGIES, STRATEGY_ALIASES } from "../../src/config/schema.js";
import { ConfigError } from "../../src/errors.js";
import { createGateway } from "../../src/index.js";
import { runCli } from "../helpers/cli.js";

const route = (fields: Record<string, unknown>) => ({
  name: "r",
  surface: "openai",
  models: ["m"],
  targets: [{ id: "a", provider: "openai", base_url: "http://127.0.0.1:1/v1" }],
  ...fields,
});

test("the balancer's strategy names are read as the canonical ones", () => {
  const expected: Record<string, string> = {
    round_robin: "round-robin",
    health_aware: "health",
    cost_optimized: "cost",
    performance_based: "latency",
    quality_based: "quality",
    adaptive_learning: "adaptive",
    "time-window": "time-window",
    time_window: "time-window",
  };
  for (const [alias, canonical] of Object.entries(expected)) {
    const cfg = parseConfig({ routes: [route({ strategy: alias, fallback_strategy: alias })] }, "test");
    assert.equal(cfg.routes[0]!.strategy, canonical, alias);
    assert.equal(cfg.routes[0]!.fallback_strategy, canonical, alias);
  }
  for (const canonical of Object.values(STRATEGY_ALIASES)) assert.ok(STRATEGIES.includes(canonical));
});

test("an alias builds the canonical strategy, inside tiered too", async () => {
  const cfg = parseConfig(
    { routes: [route({ strategy: "tiered", strategy_options: { tiered: { within: "performance_based" } } })] },
    "test",
  );
  const gw = createGateway(cfg);
  try {
    assert.equal(gw.route("r")!.strategy.name, "tiered");
    assert.doesNotThrow(() => JSON.stringify(gw.route("r")!.strategy.status?.()));
  } finally {
    await gw.close();
  }
  const aliased = createGateway(parseConfig({ routes: [route({ strategy: "performance_based" })] }, "test"));
  try {
    assert.equal(aliased.route("r")!.strategy.name, "latency");
  } finally {
    await aliased.close();
  }
});

test("an unknown strategy lists the canonical names", () => {
  try {
    parseConfig({ routes: [route({ strategy: "fastest" })] }, "test");
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems, [`routes[0].strategy: must be one of ${STRATEGIES.join(", ")}`]);
  }
});

const dir = mkdtempSync(join(tmpdir(), "switchyard-aliases-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("switchyard validate shows the canonical name of an aliased strategy", async () => {
  const file = join(dir, "aliases.yaml");
  writeFileSync(
    file,
    `routes:
  - name: chat
    surface: openai
    models: [m]
    strategy: performance_based
    fallback_strategy: round_robin
    targets: [{ id: a, provider: openai, base_url: "http://127.0.0.1:1/v1" }]
`,
  );
  const r = await runCli(["validate", "--config", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\s*strategy: latency$/m);
  assert.match(r.stdout, /^\s*fallback_strategy: round-robin$/m);
  assert.doesNotMatch(r.stdout, /performance_based|round_robin/);
});
