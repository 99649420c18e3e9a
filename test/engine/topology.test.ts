/**
 * Engine.apply: a new generation of routes keeps what it knew of a target whose route, id and
 * base URL are unchanged (stats, breaker, disabled key), and forgets a removed or re-pointed one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createGateway, MemoryStore, parseConfig, type ConfigInput } from "../../src/index.js";

const config = (targets: { id: string; base_url: string; weight?: number }[]): ConfigInput => ({
  routes: [
    { name: "chat", surface: "openai", models: ["demo"], targets: targets.map((t) => ({ provider: "openai", key: "sk-x-0001", ...t })) },
  ],
});

test("a kept target carries its stats and policy state into the new generation; a re-pointed one starts fresh", async () => {
  const gw = createGateway(
    config([
      { id: "a", base_url: "http://127.0.0.1:1/v1" },
      { id: "b", base_url: "http://127.0.0.1:2/v1" },
      { id: "c", base_url: "http://127.0.0.1:3/v1" },
    ]),
    { store: new MemoryStore() },
  );
  try {
    const route = gw.route("chat")!;
    const [a, b, c] = route.targets as [any, any, any];
    a.stats.onStart(Date.now());
    a.stats.onEnd("ok", 12, Date.now(), "");
    route.policies.list.act("disable", a, Date.now());
    route.policies.list.act("open-breaker", b, Date.now());
    route.policies.list.act("disable", c, Date.now());

    const change = gw.engine.apply(
      parseConfig(
        config([
          { id: "a", base_url: "http://127.0.0.1:1/v1", weight: 5 },
          { id: "b", base_url: "http://127.0.0.1:2/v1" },
          { id: "c", base_url: "http://127.0.0.1:9/v1" },
          { id: "d", base_url: "http://127.0.0.1:4/v1" },
        ]),
        "test",
      ),
    );
    assert.deepEqual(
      { added: change.added, removed: change.removed, replaced: change.replaced, updated: change.updated, version: change.version },
      { added: ["chat/d"], removed: [], replaced: ["chat/c"], updated: ["chat/a"], version: 2 },
    );
    const next = gw.route("chat")!;
    assert.notEqual(next, route, "a new generation");
    const byId = (id: string) => next.targets.find((t) => t.id === id)!;
    const now = Date.now();
    assert.equal(byId("a").weight, 5);
    assert.equal(byId("a").stats, a.stats, "the same stats object carries on");
    assert.deepEqual(next.policies.list.reasons(byId("a"), now), ["key_disabled"]);
    assert.deepEqual(next.policies.list.reasons(byId("b"), now), ["breaker"]);
    assert.deepEqual(next.policies.list.reasons(byId("c"), now), [], "a new base URL is a new upstream: its state starts fresh");
    assert.equal(byId("c").stats.requests, 0);
    assert.ok(c.retired && !a.retired && !b.retired, "only the re-pointed target's old self is retired");

    gw.engine.apply(parseConfig(config([{ id: "d", base_url: "http://127.0.0.1:4/v1" }]), "test"));
    assert.ok(byId("a").retired && byId("b").retired, "removed targets are retired");
    // Back again later: a removed target's state was forgotten.
    gw.engine.apply(parseConfig(config([{ id: "a", base_url: "http://127.0.0.1:1/v1" }]), "test"));
    const again = gw.route("chat")!.targets[0]!;
    assert.deepEqual(gw.route("chat")!.policies.list.reasons(again, Date.now()), []);
    assert.equal(gw.engine.version, 4);
  } finally {
    await gw.close();
  }
});

test("a config whose routes cannot be built is refused before any state is dropped", async () => {
  const gw = createGateway(config([{ id: "a", base_url: "http://127.0.0.1:1/v1" }]), { store: new MemoryStore() });
  try {
    const a = gw.route("chat")!.targets[0]!;
    gw.route("chat")!.policies.list.act("disable", a, Date.now());
    const bad = parseConfig(
      {
        routes: [
          {
            name: "chat",
            surface: "openai",
            models: ["demo"],
            strategy: "sticky",
            strategy_options: { sticky: { key: "nowhere:x" } },
            targets: [{ id: "b", provider: "openai", base_url: "http://127.0.0.1:2/v1" }],
          },
        ],
      },
      "test",
    );
    assert.throws(() => gw.engine.apply(bad), /strategy/);
    assert.equal(gw.engine.version, 1);
    // The same target kept by a later, good config still has its state.
    gw.engine.apply(parseConfig(config([{ id: "a", base_url: "http://127.0.0.1:1/v1", weight: 2 }]), "test"));
    assert.deepEqual(gw.route("chat")!.policies.list.reasons(gw.route("chat")!.targets[0]!, Date.now()), ["key_disabled"]);
  } finally {
    await gw.close();
  }
});
