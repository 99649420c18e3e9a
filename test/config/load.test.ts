import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";

const good = `
routes:
  - name: chat
    surface: openai
    models: [gpt-4o-mini, smart]
    targets:
      - { id: a, provider: openai, base_url: "\${BASE:-https://api.openai.com/v1}", key: "\${KEY_A}", weight: 3 }
      - { id: b, provider: openai, base_url: https://api.openai.com/v1, key: "$\${literal}" }
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText(text, "test.yaml", env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

test("a valid config gets defaults, interpolation and is frozen", () => {
  const cfg = parseConfigText(good, "test.yaml", { KEY_A: "sk-aaaa1111" });
  assert.equal(cfg.server.port, 8080);
  assert.equal(cfg.server.host, "127.0.0.1");
  const [a, b] = cfg.routes[0]!.targets;
  assert.equal(a!.base_url, "https://api.openai.com/v1");
  assert.equal(a!.key, "sk-aaaa1111");
  assert.equal(a!.weight, 3);
  assert.equal(b!.weight, 1);
  assert.equal(b!.key, "${literal}");
  assert.equal(cfg.routes[0]!.strategy, "round-robin");
  assert.equal(cfg.routes[0]!.retry.attempts, 3);
  assert.ok(Object.isFrozen(cfg.routes[0]!.targets[0]));
});

test("a whole-value reference becomes a number", () => {
  const cfg = parseConfigText(`server: { port: "\${PORT}" }\n${good}`, "t", { PORT: "9099", KEY_A: "k" });
  assert.equal(cfg.server.port, 9099);
});

test("a missing variable names the path and the variable", () => {
  assert.deepEqual(problems(good), [
    "routes[0].targets[0].key: environment variable KEY_A is not set (write ${KEY_A:-default} for a default)",
  ]);
});

test("every problem is reported with its exact path", () => {
  const text = `
server: { port: 99999 }
routes:
  - name: chat
    surface: openai
    models: [m]
    strategy: fastest
    targets:
      - { id: a, provider: openai, base_url: "not a url", weight: 0 }
      - { id: a, provider: openai, base_url: "https://x", colour: blue }
  - name: chat
    surface: rest
    targets: []
`;
  const p = problems(text);
  const expect = [
    "server.port: must be a port number 0-65535",
    "routes[0].strategy: must be one of",
    "routes[0].targets[0].base_url: must be an http(s) URL",
    "routes[0].targets[0].weight: must be > 0",
    'routes[0].targets[1]: unknown field "colour"',
    "routes[1].targets: must list at least one target",
  ];
  for (const e of expect)
    assert.ok(
      p.some((x) => x.startsWith(e)),
      `missing "${e}" in:\n${p.join("\n")}`,
    );
});

test("cross-field rules: duplicate names and ids, models claimed twice, rest needs a service", () => {
  const text = `
routes:
  - { name: r, surface: openai, models: [m], targets: [{ id: a, provider: openai, base_url: "https://x" }, { id: a, provider: openai, base_url: "https://y" }] }
  - { name: r, surface: openai, models: [m], targets: [{ id: b, provider: openai, base_url: "https://x" }] }
  - { name: q, surface: rest, targets: [{ id: c, provider: rest, base_url: "https://x" }] }
  - { name: s, surface: openai, targets: [{ id: d, provider: openai, base_url: "https://x" }] }
`;
  const p = problems(text);
  const expect = [
    'routes[0].targets[1].id: duplicate target id "a" in route "r"',
    'routes[1].name: duplicate route name "r"',
    'routes[1].models[0]: model "m" is already served by route "r" on this surface',
    "routes[2].service: a rest route needs a service name (or a prefix)",
    'routes[3].models: must list at least one model name (or "*") for surface openai',
  ];
  for (const e of expect) assert.ok(p.includes(e), `missing "${e}" in:\n${p.join("\n")}`);
});

test("broken YAML is reported with its position", () => {
  const p = problems("routes: [\n  - name: x\n   bad");
  assert.equal(p.length > 0, true);
  assert.match(p[0]!, /^test\.yaml: .*line/i);
});
