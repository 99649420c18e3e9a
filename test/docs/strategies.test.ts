import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { STRATEGIES } from "../../src/config/schema.js";
import { STRATEGY_FACTORIES } from "../../src/balancer/index.js";
import { parseConfigText } from "../../src/config/load.js";
import { createGateway } from "../../src/index.js";
import { targetSchema } from "../../src/config/schema.js";
import { Target, DEFAULT_TIMEOUTS } from "../../src/core/target.js";

const doc = readFileSync(new URL("../../docs/strategies.md", import.meta.url), "utf8");

/** The text of each `## \`name\`` section, by strategy name. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  const parts = doc.split(/^## /m).slice(1);
  for (const part of parts) {
    const m = /^`([a-z0-9-]+)`\n/.exec(part);
    if (m) out.set(m[1]!, part);
  }
  return out;
}

test("docs/strategies.md has a section for every strategy", () => {
  const s = sections();
  for (const name of STRATEGIES) assert.ok(s.has(name), `no section for ${name}`);
});

test("every option the strategies doc lists is one the strategy accepts", () => {
  const pool = [
    new Target(targetSchema.parse({ id: "a", provider: "openai", base_url: "http://127.0.0.1:1/v1" }), "r", 0, DEFAULT_TIMEOUTS),
  ];
  let checked = 0;
  for (const [name, text] of sections()) {
    const factory = STRATEGY_FACTORIES[name as keyof typeof STRATEGY_FACTORIES];
    for (const m of text.matchAll(/^\| `([a-z_.]+)` \|/gm)) {
      const option = m[1]!.split(".")[0]!;
      try {
        factory(pool, { [option]: Symbol("not a valid value") });
      } catch (err) {
        assert.doesNotMatch((err as Error).message, /unknown option/, `${name}: documented option ${option} is unknown`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 20, `only ${checked} options found in the doc's tables`);
});

test("the strategies doc's YAML example is a valid config", async () => {
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 1);
  for (const yaml of blocks) {
    const gw = createGateway(parseConfigText(yaml, "docs/strategies.md", { OPENAI_KEY_A: "sk-a", OPENAI_KEY_B: "sk-b" }));
    await gw.close();
  }
});
