import { test } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, hasEnvConfig } from "../../src/config/env.js";
import { ConfigError } from "../../src/errors.js";

test("one provider and many weighted keys from the environment", () => {
  const cfg = configFromEnv({
    SWITCHYARD_PROVIDER: "openai",
    SWITCHYARD_API_KEYS: "sk-one:1, sk-two:3,sk-three",
    SWITCHYARD_STRATEGY: "round-robin",
    SWITCHYARD_PORT: "9000",
  });
  const route = cfg.routes[0]!;
  assert.equal(route.surface, "openai");
  assert.deepEqual(route.models, ["*"]);
  assert.equal(route.strategy, "round-robin");
  assert.equal(cfg.server.port, 9000);
  assert.deepEqual(
    route.targets.map((t) => [t.id, t.key, t.weight, t.base_url]),
    [
      ["openai-key-1", "sk-one", 1, "https://api.openai.com/v1"],
      ["openai-key-2", "sk-two", 3, "https://api.openai.com/v1"],
      ["openai-key-3", "sk-three", 1, "https://api.openai.com/v1"],
    ],
  );
});

test("rest provider needs a base URL and gets a service", () => {
  const cfg = configFromEnv({
    SWITCHYARD_PROVIDER: "rest",
    SWITCHYARD_BASE_URL: "http://127.0.0.1:9/api",
    SWITCHYARD_SERVICE: "quotes",
    SWITCHYARD_API_KEYS: "k1",
  });
  assert.equal(cfg.routes[0]!.service, "quotes");
});

test("bad environment values name the variable and mask keys", () => {
  try {
    configFromEnv({ SWITCHYARD_PROVIDER: "openia", SWITCHYARD_API_KEYS: "sk-secretvalue:zero", SWITCHYARD_PORT: "http" });
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join("\n");
    assert.match(text, /SWITCHYARD_PROVIDER: must be one of/);
    assert.match(text, /SWITCHYARD_PORT: must be a port number/);
    assert.doesNotMatch(text, /secretvalue/);
  }
  try {
    configFromEnv({ SWITCHYARD_PROVIDER: "openai", SWITCHYARD_API_KEYS: "sk-secretvalue:0" });
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.problems.join("\n"), /SWITCHYARD_API_KEYS: key 1 \(\*\*\*\*alue\): weight must be a number > 0/);
  }
  try {
    configFromEnv({ SWITCHYARD_PROVIDER: "openai", SWITCHYARD_STRATEGY: "best" });
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.problems.join("\n"), /^SWITCHYARD_STRATEGY: must be one of/);
  }
});

test("the balancer's LOAD_BALANCER_* variables: Claude and Gemini keys under /{uuid}/lb in one config", () => {
  const cfg = configFromEnv({
    LOAD_BALANCER_ENABLED: "true",
    LOAD_BALANCER_API_KEYS: "sk-ant-one:1,sk-ant-two:3",
    LOAD_BALANCER_GEMINI_API_KEYS: "AIza-one, AIza-two:2",
    LOAD_BALANCER_STRATEGY: "time-window",
    LOAD_BALANCER_WINDOW_SIZE: "10",
  });
  assert.deepEqual(
    cfg.routes.map((r) => [r.name, r.surface, r.prefix, r.models, r.strategy, r.strategy_options]),
    [
      ["lb-claude", "anthropic", "/{uuid}/lb", ["*"], "time-window", { "time-window": { window_minutes: 10 } }],
      ["lb-gemini", "gemini", "/{uuid}/lb", ["*"], "time-window", { "time-window": { window_minutes: 10 } }],
    ],
  );
  assert.deepEqual(
    cfg.routes.flatMap((r) => r.targets.map((t) => [t.id, t.provider, t.key, t.weight, t.base_url])),
    [
      ["claude-key-1", "anthropic", "sk-ant-one", 1, "https://api.anthropic.com"],
      ["claude-key-2", "anthropic", "sk-ant-two", 3, "https://api.anthropic.com"],
      ["gemini-key-1", "gemini", "AIza-one", 1, "https://generativelanguage.googleapis.com"],
      ["gemini-key-2", "gemini", "AIza-two", 2, "https://generativelanguage.googleapis.com"],
    ],
  );
});

test("LOAD_BALANCER_API_KEYS holds LOAD_BALANCER_PROVIDER's keys; a strategy alias reads as its canonical name", () => {
  const cfg = configFromEnv({
    LOAD_BALANCER_PROVIDER: "gemini",
    LOAD_BALANCER_API_KEYS: "AIza-one",
    LOAD_BALANCER_CLAUDE_API_KEYS: "sk-ant-one",
    LOAD_BALANCER_STRATEGY: "round_robin",
    LOAD_BALANCER_PREFIX: "/{tenant}/balanced",
    LOAD_BALANCER_CLAUDE_BASE_URL: "http://127.0.0.1:9/claude",
  });
  assert.deepEqual(
    cfg.routes.map((r) => [r.name, r.prefix, r.strategy, r.targets.map((t) => t.key), r.targets[0]!.base_url]),
    [
      ["lb-claude", "/{tenant}/balanced", "round-robin", ["sk-ant-one"], "http://127.0.0.1:9/claude"],
      ["lb-gemini", "/{tenant}/balanced", "round-robin", ["AIza-one"], "https://generativelanguage.googleapis.com"],
    ],
  );
  assert.deepEqual(configFromEnv({ LOAD_BALANCER_API_KEYS: "sk-ant-x" }).routes[0]!.strategy, "round-robin", "the default");
});

test("LOAD_BALANCER_ENABLED=false ignores the LOAD_BALANCER_* variables; with SWITCHYARD_PROVIDER both shortcuts run", () => {
  assert.equal(hasEnvConfig({ LOAD_BALANCER_API_KEYS: "sk-ant-x" }), true);
  assert.equal(hasEnvConfig({ LOAD_BALANCER_API_KEYS: "sk-ant-x", LOAD_BALANCER_ENABLED: "false" }), false);
  assert.equal(hasEnvConfig({ LOAD_BALANCER_STRATEGY: "weighted" }), false, "no keys: nothing asked");
  const off = configFromEnv({
    SWITCHYARD_PROVIDER: "openai",
    SWITCHYARD_API_KEYS: "sk-o",
    LOAD_BALANCER_API_KEYS: "sk-ant-x",
    LOAD_BALANCER_ENABLED: "0",
  });
  assert.deepEqual(
    off.routes.map((r) => r.name),
    ["default"],
  );
  const both = configFromEnv({ SWITCHYARD_PROVIDER: "openai", SWITCHYARD_API_KEYS: "sk-o", LOAD_BALANCER_CLAUDE_API_KEYS: "sk-ant-x" });
  assert.deepEqual(
    both.routes.map((r) => [r.name, r.prefix ?? ""]),
    [
      ["default", ""],
      ["lb-claude", "/{uuid}/lb"],
    ],
  );
});

test("bad LOAD_BALANCER_* values name the variable and mask keys", () => {
  const problems = (env: NodeJS.ProcessEnv) => {
    try {
      configFromEnv(env);
      return "";
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems.join("\n");
    }
  };
  assert.match(
    problems({ LOAD_BALANCER_API_KEYS: "sk-ant-x", LOAD_BALANCER_STRATEGY: "fastest" }),
    /^LOAD_BALANCER_STRATEGY: must be one of round-robin, /,
  );
  assert.doesNotMatch(
    problems({ LOAD_BALANCER_API_KEYS: "sk-ant-x", LOAD_BALANCER_STRATEGY: "fastest" }),
    /round_robin/,
    "canonical names only",
  );
  assert.match(
    problems({ LOAD_BALANCER_API_KEYS: "sk-ant-x", LOAD_BALANCER_WINDOW_SIZE: "five" }),
    /^LOAD_BALANCER_WINDOW_SIZE: must be a number of minutes > 0/,
  );
  assert.match(
    problems({ LOAD_BALANCER_API_KEYS: "sk-ant-x", LOAD_BALANCER_ENABLED: "yes please" }),
    /^LOAD_BALANCER_ENABLED: must be true or false/,
  );
  assert.match(problems({ LOAD_BALANCER_ENABLED: "true" }), /^LOAD_BALANCER_ENABLED: is on but no keys are set/);
  assert.match(
    problems({ LOAD_BALANCER_API_KEYS: "k", LOAD_BALANCER_PROVIDER: "openai" }),
    /^LOAD_BALANCER_PROVIDER: must be claude or gemini/,
  );
  assert.match(
    problems({ LOAD_BALANCER_API_KEYS: "sk-ant-x", LOAD_BALANCER_CLAUDE_API_KEYS: "sk-ant-y" }),
    /^LOAD_BALANCER_API_KEYS: holds claude keys .* LOAD_BALANCER_CLAUDE_API_KEYS/,
  );
  assert.match(problems({ LOAD_BALANCER_API_KEYS: "sk-ant-x", LOAD_BALANCER_PREFIX: "lb/" }), /^LOAD_BALANCER_PREFIX: must start with \//);
  assert.match(
    problems({ LOAD_BALANCER_GEMINI_API_KEYS: "AIza-x", LOAD_BALANCER_GEMINI_BASE_URL: "ftp://x" }),
    /^LOAD_BALANCER_GEMINI_BASE_URL: must be an http/,
  );
  const weights = problems({ LOAD_BALANCER_GEMINI_API_KEYS: "AIza-secretvalue:0" });
  assert.match(weights, /^LOAD_BALANCER_GEMINI_API_KEYS: key 1 \(\*\*\*\*alue\): weight must be a number > 0/);
  assert.doesNotMatch(weights, /secretvalue/);
});
