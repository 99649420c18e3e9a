import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PROVIDERS, PROVIDER_NAMES } from "../../src/providers/registry.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

test("README's providers table lists every provider of the registry with its wire format and default base URL", () => {
  for (const name of PROVIDER_NAMES) {
    const a = PROVIDERS[name];
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${name}\` | ${a.wire} |`));
    assert.ok(row !== undefined, `README has no providers row for ${name}`);
    if (a.baseUrl !== undefined) assert.ok(row.includes(`\`${a.baseUrl}\``), `${name}: README's row names ${a.baseUrl}`);
    else assert.match(row, /required/, `${name}: README says base_url is required`);
  }
});
