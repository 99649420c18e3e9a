import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.js";
import { splitLimits } from "../../src/cluster/split-limits.js";

const config = parseConfig(
  {
    limits: { rps: 100, burst: 10, max_parallel: 1 },
    client_keys: [
      { name: "team-a", key: "sk-client-team-a-0001", limits: { rpm: 601, tpm: 90_000 } },
      { name: "team-b", key: "sk-client-team-b-0001" },
    ],
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        limits: { rpm: 3 },
        targets: [
          { id: "a", provider: "openai", base_url: "http://127.0.0.1:9", key: "sk-a-0001", limits: { max_concurrent: 8, rpm: 120 } },
          { id: "b", provider: "openai", base_url: "http://127.0.0.1:9", key: "sk-b-0001" },
        ],
      },
    ],
  },
  "test",
);

test("each limit divided by the workers, counts rounded down to at least 1: the sum never passes the limit", () => {
  const s = splitLimits(config, 2);
  assert.deepEqual(s.limits, { rps: 50, burst: 5, max_parallel: 1, rpm: undefined, tpm: undefined });
  assert.equal(s.client_keys[0]?.limits.rpm, 300);
  assert.equal(s.client_keys[0]?.limits.tpm, 45_000);
  assert.equal(s.routes[0]?.limits.rpm, 1);
  assert.equal(s.routes[0]?.targets[0]?.limits.max_concurrent, 4);
  assert.equal(s.routes[0]?.targets[0]?.limits.rpm, 60);
  assert.equal(s.routes[0]?.targets[0]?.limits.window_s, 60);
  // Unlimited things stay the same objects (a target's response mapper is keyed by its object).
  assert.equal(s.client_keys[1], config.client_keys[1]);
  assert.equal(s.routes[0]?.targets[1], config.routes[0]?.targets[1]);
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.routes[0]?.targets[0]?.limits));
  // The original is untouched; one worker is the config itself.
  assert.equal(config.limits.rps, 100);
  assert.equal(splitLimits(config, 1), config);
});
