import { test } from "node:test";
import assert from "node:assert/strict";
import { keyDisableSchema } from "../../src/config/resilience-schema.ts";
import { KeyDisable, type KeyDisableEvent, keyProblem } from "../../src/resilience/key-disable.ts";
import { Outcome, type OutcomeKind } from "../../src/core/outcome.ts";
import { PolicyList } from "../../src/resilience/policy-list.ts";
import type { Target } from "../../src/core/target.ts";
import { makePool } from "../balancer/fixtures.ts";
import { until } from "../helpers/wait.ts";
import { PROVIDERS } from "../../src/providers/registry.ts";

const T0 = 1_700_000_000_000;
const cfg = (o: Record<string, unknown> = {}) => keyDisableSchema.parse(o);
const out = (kind: OutcomeKind, status = kind === "ok" ? 200 : 500) => new Outcome(kind, status, `${status}`);

class FakeProbe {
  answers: boolean[] = [];
  calls = 0;
  readonly probe = (_t: Target): Promise<boolean> => {
    this.calls++;
    return Promise.resolve(this.answers.shift() ?? false);
  };
}

test("failure rate > 50 % disables, only after min_calls, and exactly 50 % does not", () => {
  const [t] = makePool([{}]);
  const k = new KeyDisable(cfg({ min_calls: 10 }), { probe: new FakeProbe().probe });
  for (let i = 0; i < 9; i++) k.onResult(t!, out("server_error"), T0);
  assert.equal(k.isDisabled(t!), false, "9 failures of 9 calls, under min_calls");
  const [u] = makePool([{}]);
  for (let i = 0; i < 5; i++) {
    k.onResult(u!, out("ok"), T0);
    k.onResult(u!, out("timeout"), T0);
  }
  assert.equal(k.isDisabled(u!), false, "5 of 10 = 50 % is not > 50 %");
  k.onResult(u!, out("timeout"), T0);
  assert.equal(k.isDisabled(u!), true, "6 of 11");
  assert.equal(k.reason(u!), "failure_rate");
  k.onResult(t!, out("server_error"), T0);
  assert.equal(k.isDisabled(t!), true);
});

test("429s are not failures here; old calls leave the window", () => {
  const [t] = makePool([{}]);
  const k = new KeyDisable(cfg({ min_calls: 4, window_s: 10 }), { probe: new FakeProbe().probe });
  for (let i = 0; i < 50; i++) k.onResult(t!, out("rate_limited", 429), T0);
  assert.equal(k.isDisabled(t!), false);
  for (let i = 0; i < 3; i++) k.onResult(t!, out("server_error"), T0);
  for (let i = 0; i < 4; i++) k.onResult(t!, out("ok"), T0 + 11_000);
  assert.equal(k.isDisabled(t!), false, "the 3 failures expired");
});

test("401 disables permanently: no probes, only enable() brings it back", async () => {
  const [t] = makePool([{}]);
  const probe = new FakeProbe();
  probe.answers = [true, true, true, true];
  const events: KeyDisableEvent[] = [];
  const k = new KeyDisable(cfg(), { probe: probe.probe });
  k.onChange((e) => events.push(e));
  k.onResult(t!, out("client_error", 401), T0);
  assert.equal(k.isDisabled(t!), true);
  assert.equal(k.reason(t!), "auth");
  await k.probeDue(T0 + 10 ** 9);
  assert.equal(probe.calls, 0, "an auth-disabled key is never probed");
  assert.equal(k.isDisabled(t!), true);
  k.enable(t!, T0 + 5);
  assert.equal(k.isDisabled(t!), false);
  assert.deepEqual(
    events.map((e) => [e.disabled, e.reason]),
    [
      [true, "auth"],
      [false, "operator"],
    ],
  );
});

test("quota exhaustion: OpenAI insufficient_quota, Anthropic credit, 402; a plain 429 is not", () => {
  const c = cfg();
  const { openai, anthropic, gemini } = PROVIDERS;
  assert.equal(keyProblem(429, '{"error":{"code":"insufficient_quota"}}', c, openai), "quota");
  assert.equal(keyProblem(429, '{"error":{"code":"rate_limit_exceeded"}}', c, openai), null);
  assert.equal(keyProblem(400, "Your credit balance is too low to access the Anthropic API.", c, anthropic), "quota");
  assert.equal(keyProblem(400, '{"error":{"details":[{"reason":"API_KEY_INVALID"}]}}', c, gemini), "auth");
  assert.equal(keyProblem(400, "bad request", c, openai), null);
  // Each provider's own words, only for that provider: an OpenAI key is not read as Gemini's.
  assert.equal(keyProblem(400, '{"error":{"details":[{"reason":"API_KEY_INVALID"}]}}', c, openai), null);
  assert.equal(keyProblem(402, "", c), "quota");
  assert.equal(keyProblem(403, "", c), "auth");
  assert.equal(keyProblem(403, "", cfg({ auth_statuses: [401] })), null);
  const [t] = makePool([{}]);
  const k = new KeyDisable(c, { probe: new FakeProbe().probe });
  k.onResult(t!, out("rate_limited", 429), T0, '{"error":{"type":"insufficient_quota"}}');
  assert.equal(k.reason(t!), "quota");
});

test("failure-rate disable is probed every probe_interval_s and re-enabled after probes_to_enable passes in a row", async () => {
  const [t] = makePool([{}]);
  const probe = new FakeProbe();
  const events: string[] = [];
  let now = T0;
  const k = new KeyDisable(cfg({ min_calls: 2, probe_interval_s: 30, probes_to_enable: 2 }), { probe: probe.probe, now: () => now });
  k.onChange((e) => events.push(`${e.disabled ? "off" : "on"}:${e.reason}`));
  k.onResult(t!, out("server_error"), T0);
  k.onResult(t!, out("server_error"), T0);
  assert.equal(k.isDisabled(t!), true);
  await k.probeDue(T0 + 29_999);
  assert.equal(probe.calls, 0, "not due yet");
  probe.answers = [true, false, true, true];
  now = T0 + 30_000;
  await k.probeDue(now);
  now += 30_000;
  await k.probeDue(now); // fails: streak reset
  now += 30_000;
  await k.probeDue(now);
  assert.equal(k.isDisabled(t!), true, "1 pass since the failure");
  now += 30_000;
  await k.probeDue(now);
  assert.equal(probe.calls, 4);
  assert.equal(k.isDisabled(t!), false);
  assert.deepEqual(events, ["off:failure_rate", "on:probes_passed"]);
  k.onResult(t!, out("server_error"), now);
  assert.equal(k.isDisabled(t!), false, "window was reset on re-enable");
});

test("an auth error during failure-rate probing makes the disable permanent", async () => {
  const [t] = makePool([{}]);
  const probe = new FakeProbe();
  const k = new KeyDisable(cfg({ min_calls: 1 }), { probe: probe.probe });
  k.onResult(t!, out("server_error"), T0);
  k.disable(t!, "auth", "401 from probe", T0);
  assert.equal(k.reason(t!), "auth");
  await k.probeDue(T0 + 10 ** 9);
  assert.equal(probe.calls, 0);
});

test("as an eligibility check; background probing with start/stop", async () => {
  const pool = makePool([{}, {}]);
  const probe = new FakeProbe();
  probe.answers = [true];
  const k = new KeyDisable(cfg({ min_calls: 1, probe_interval_s: 0.01, probes_to_enable: 1 }), { probe: probe.probe });
  const elig = new PolicyList([k]);
  k.onResult(pool[0]!, out("connection_failure"), Date.now());
  assert.deepEqual(elig.reasons(pool[0]!, Date.now()), ["key_disabled"]);
  assert.equal(elig.isEligible(pool[1]!, Date.now()), true);
  k.start(5);
  await until(() => !k.isDisabled(pool[0]!), 1000, 10);
  await k.stop();
  assert.equal(k.isDisabled(pool[0]!), false);
});
