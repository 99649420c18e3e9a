import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { runCli, ROOT } from "../helpers/cli.js";
import { configJsonSchema } from "../../src/config/json-schema.js";

/** The schema as an editor gets it: compiled once, strict (an unknown keyword in what zod made would throw). */
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajvFormats.default(ajv); // CommonJS: the plugin is its default export
const validate = ajv.compile(configJsonSchema());

function errorsOf(doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

/** The YAML as an editor reads it: parsed, ${VAR}s left as they are written. */
const raw = (text: string): unknown => parse(text);

test("switchyard schema prints a draft 2020-12 JSON Schema with routes and targets; --out writes the same", async () => {
  const r = await runCli(["schema"]);
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(typeof schema.$id, "string");
  assert.equal(schema.title, "Switchyard configuration");
  assert.ok(schema.properties.routes.items.properties.targets.items.properties.provider, "routes[].targets[].provider");
  assert.ok(schema.properties.routes.items.properties.discovery, "routes[].discovery");
  assert.deepEqual(schema.properties.routes.items.properties.targets.items.required, ["id", "provider"]);
  assert.deepEqual(schema.required, ["routes"], "fields with defaults are optional in the file");

  const dir = mkdtempSync(join(tmpdir(), "switchyard-schema-"));
  try {
    const out = join(dir, "switchyard.schema.json");
    const w = await runCli(["schema", "--out", out]);
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual(JSON.parse(readFileSync(out, "utf8")), schema);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("examples/switchyard.yaml validates against the schema as written (placeholders and all)", () => {
  const doc = raw(readFileSync(join(ROOT, "examples/switchyard.yaml"), "utf8"));
  assert.deepEqual(errorsOf(doc), []);
});

test("a whole-value ${VAR} is accepted where a number, boolean or enum is expected", () => {
  const doc = raw(`
server: { port: "\${PORT:-8080}", host: 0.0.0.0 }
reload:
  watch: \${WATCH}
routes:
  - { name: chat, surface: openai, models: [m], strategy: "\${STRATEGY}", targets: [{ id: a, provider: openai, weight: "\${W:-2}" }] }
`);
  assert.deepEqual(errorsOf(doc), []);
});

test("a wrong type, an unknown field and a missing provider are rejected", () => {
  const bad = (text: string) => errorsOf(raw(text));
  assert.ok(
    bad(`routes: [{ name: chat, surface: openai, models: [m], targets: [{ id: a, provider: openai, weight: heavy }] }]`).some((e) =>
      e.startsWith("/routes/0/targets/0/weight"),
    ),
  );
  assert.ok(
    bad(`server: { port: eighty }\nroutes: [{ name: r, surface: rest, service: s, targets: [] }]`).some((e) =>
      e.startsWith("/server/port"),
    ),
  );
  assert.ok(
    bad(`routes: [{ name: r, surface: rest, service: s, colour: blue, targets: [] }]`).some((e) => e.includes("additional properties")),
  );
  assert.ok(bad(`routes: [{ name: r, surface: soap, targets: [] }]`).some((e) => e.startsWith("/routes/0/surface")));
  assert.ok(bad(`routes: [{ name: r, surface: rest, service: s, targets: [{ id: a }] }]`).some((e) => e.includes("provider")));
});

test("a route with discovery and no targets yet validates", () => {
  const doc = raw(`
routes:
  - name: chat
    surface: openai
    models: ["*"]
    discovery: { dns_srv: _llm._tcp.example.internal, interval_s: 15, template: { provider: openai, key: "\${KEY}" } }
    targets: []
`);
  assert.deepEqual(errorsOf(doc), []);
});
