import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ERRORS } from "../../src/errors.js";
import { parseConfigText } from "../../src/config/load.js";
import { createGateway } from "../../src/index.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

test("README's error table lists every code of the catalogue with its status", () => {
  for (const [code, { status }] of Object.entries(ERRORS)) {
    assert.match(readme, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `README lacks a row for ${code} (${status})`);
  }
});

test("README's YAML config example is a valid config", () => {
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 1);
  for (const block of blocks) {
    // A block that shows one part of a config (`# a fragment of switchyard.yaml`) is checked with a route added.
    const yaml = block.startsWith("# a fragment")
      ? `${block}\nroutes:\n  - { name: r, surface: rest, service: s, targets: [{ id: t, provider: rest, base_url: "http://127.0.0.1:1" }] }\n`
      : block;
    const cfg = parseConfigText(yaml, "README.md", { OPENAI_KEY_A: "sk-a", OPENAI_KEY_B: "sk-b", ALERT_HMAC: "h", SMTP_PASS: "p" });
    createGateway(cfg);
  }
});

test("the example configs in examples/ are valid", async () => {
  const { parseProvidersYaml } = await import("../../src/simulator/cli.js");
  const sims = parseProvidersYaml(readFileSync(new URL("../../examples/sims.yaml", import.meta.url), "utf8"));
  assert.equal(sims.length, 4);
  const cfg = parseConfigText(
    readFileSync(new URL("../../examples/switchyard.yaml", import.meta.url), "utf8"),
    "examples/switchyard.yaml",
    {},
  );
  await createGateway(cfg).close();
  for (const route of cfg.routes)
    for (const t of route.targets)
      assert.ok(
        sims.some((s) => t.base_url.includes(`:${s.port}`)),
        `${t.id} points at a simulator of examples/sims.yaml`,
      );
});
