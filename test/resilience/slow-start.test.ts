import { test } from "node:test";
import assert from "node:assert/strict";
import { slowStartSchema } from "../../src/config/resilience-schema.ts";
import { SlowStart } from "../../src/resilience/slow-start.ts";
import { makePool } from "../balancer/fixtures.ts";

const T0 = 1_700_000_000_000;

test("linear ramp from min_weight to 1 over window_s (aggression 1)", () => {
  const [t, u] = makePool([{}, {}]);
  const s = new SlowStart(slowStartSchema.parse({}));
  assert.equal(s.share(t!, T0), 1, "not ramping: full weight");
  s.begin(t!, T0);
  assert.equal(s.share(t!, T0), 0.1);
  assert.equal(s.share(t!, T0 + 1500), 0.1, "5 % < min_weight");
  assert.equal(s.share(t!, T0 + 15_000), 0.5);
  assert.ok(Math.abs(s.share(t!, T0 + 27_000) - 0.9) < 1e-9);
  assert.equal(s.isRamping(t!, T0 + 29_999), true);
  assert.equal(s.share(t!, T0 + 30_000), 1);
  assert.equal(s.isRamping(t!, T0 + 30_000), false);
  assert.equal(s.share(u!, T0 + 15_000), 1, "other targets untouched");
});

test("aggression > 1 ramps faster early (Envoy's (t/w)^(1/a))", () => {
  const [t] = makePool([{}]);
  const s = new SlowStart(slowStartSchema.parse({ aggression: 2, window_s: 100 }));
  s.begin(t!, T0);
  assert.ok(Math.abs(s.share(t!, T0 + 25_000) - 0.5) < 1e-9);
});

test("begin restarts a ramp; cancel ends it; disabled does nothing", () => {
  const [t] = makePool([{}]);
  const s = new SlowStart(slowStartSchema.parse({}));
  s.begin(t!, T0);
  s.begin(t!, T0 + 20_000);
  assert.equal(s.share(t!, T0 + 35_000), 0.5);
  s.cancel(t!);
  assert.equal(s.share(t!, T0 + 35_000), 1);
  const off = new SlowStart(slowStartSchema.parse({ enabled: false }));
  off.begin(t!, T0);
  assert.equal(off.share(t!, T0), 1);
});
