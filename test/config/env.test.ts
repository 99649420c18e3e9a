import { test } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv } from "../../src/config/env.js";
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
