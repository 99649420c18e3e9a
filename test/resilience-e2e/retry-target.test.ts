import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chatBody } from "../helpers/harness.js";
import { simRoute } from "../helpers/sim-route.js";
import { postJson } from "../helpers/http.js";
import { RoutePolicies } from "../../src/resilience/route-policies.js";
import { MemoryStore } from "../../src/state/memory-store.js";

const f = await simRoute({
  sims: [
    { dialect: "openai", name: "a", error_rate: 1, error_status: 500 },
    { dialect: "openai", name: "b" },
  ],
  routes: ([a, b]) => {
    const route = (name: string, target: "next" | "same") => ({
      name,
      surface: "openai" as const,
      models: [name],
      strategy: "round-robin" as const,
      retry: { attempts: 3, target, backoff: { base_ms: 1, max_ms: 5 } },
      targets: [
        { id: "a", provider: "openai" as const, base_url: a.url, key: "sk-retry-a-0001" },
        { id: "b", provider: "openai" as const, base_url: b.url, key: "sk-retry-b-0002" },
      ],
    });
    return [
      route("next", "next"),
      route("same", "same"),
      {
        ...route("by-kind", "next"),
        retry: { attempts: 3, target: "next" as const, same_target_on: ["server_error" as const], backoff: { base_ms: 1, max_ms: 5 } },
      },
    ];
  },
});
const {
  gw,
  sims: [a, b],
} = f;
after(() => f.close());

test("retry.target: next fails over to the other target at once", async () => {
  a.resetStats();
  b.resetStats();
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody("next"));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("x-switchyard-target"), "b");
  assert.equal(a.stats().requests, 1);
  assert.equal(b.stats().requests, 1);
});

test("retry.target: same retries the failing target (with backoff) while it is eligible", async () => {
  a.resetStats();
  b.resetStats();
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody("same"));
  assert.equal(r.status, 502);
  assert.equal(a.stats().requests, 3, "all three attempts went to the same target");
  assert.equal(b.stats().requests, 0);
  assert.match(r.json.error.message, /target a \(500 from upstream/);
});

test("retry.same_target_on: a kind listed there is retried on the same target", async () => {
  a.resetStats();
  b.resetStats();
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody("by-kind"));
  assert.equal(r.status, 502);
  assert.equal(a.stats().requests, 3);
  assert.equal(b.stats().requests, 0);
});

test("the breaker's open wait follows its open_backoff policy", () => {
  const p = new RoutePolicies(
    {
      ...(gw.gateway.route("next")!.config as any),
      breaker: {
        ...gw.gateway.route("next")!.config.breaker,
        failure_threshold: 1,
        open_s: 1,
        max_open_s: 10,
        open_backoff: { kind: "linear", factor: 2, jitter: "none" },
      },
    },
    gw.gateway.route("next")!.targets,
    new MemoryStore(),
    gw.gateway.events,
  );
  const br = p.breaker.of(gw.gateway.route("next")!.targets[0]!);
  const waits: number[] = [];
  let now = 1_000_000;
  for (let i = 0; i < 3; i++) {
    assert.ok(br.tryAcquire(now));
    br.onResult("server_error", 10, now, br.epoch);
    waits.push(br.openUntil - now);
    now = br.openUntil;
  }
  assert.deepEqual(waits, [1000, 2000, 3000], "linear: 1 s, 2 s, 3 s");
});
