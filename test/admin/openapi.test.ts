import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { createGateway } from "../../src/index.js";
import { ControlPlane } from "../../src/control/control-plane.js";
import { fixedSource } from "../../src/control/config-source.js";
import { adminEndpoints } from "../../src/admin/admin-api.js";
import { openApiDocument, openApiEndpoint } from "../../src/admin/openapi.js";
import { Observability } from "../../src/telemetry/observability.js";
import { SwitchyardServer } from "../../src/server/server.js";
import { createLogger } from "../../src/telemetry/logger.js";
import type { OperatorEndpoint } from "../../src/core/operator-endpoint.js";

const TOKEN = "admin-token-0001";
const log = createLogger("silent");
const gateway = createGateway({
  server: { host: "127.0.0.1", port: 0 },
  admin: { token: TOKEN },
  store: { path: ":memory:" },
  routes: [
    { name: "chat", surface: "openai", models: ["m"], targets: [{ id: "a", provider: "openai", base_url: "http://127.0.0.1:1/v1" }] },
  ],
});
const control = new ControlPlane(gateway, fixedSource(gateway.config, "test"), log);
const observability = await Observability.start(gateway, log);
// The list as startServer puts it together, the document's endpoint included.
const endpoints: OperatorEndpoint[] = [...adminEndpoints(control), ...observability.endpoints];
endpoints.push(openApiEndpoint(() => endpoints, "1.2.3"));
const server = new SwitchyardServer(gateway, log, endpoints);
await server.listen(0, "127.0.0.1");
after(async () => {
  await server.shutdown(0);
  await observability.close();
});

const doc = openApiDocument(endpoints, "1.2.3") as any;
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops as object).map(([method, op]) => ({ path, method, op: op })));

test("the document is OpenAPI 3.1 in shape and passes the OpenAPI 3.1 schema validator", async () => {
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.equal(doc.info.version, "1.2.3");
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  // The validator is not vacuous: an info without its title is refused.
  assert.equal((await new Validator().validate({ ...doc, info: { version: "1" } })).valid, false);
});

test("every operator endpoint is in the document, each operation id once", () => {
  for (const e of endpoints) assert.ok(doc.paths[e.path]?.[e.method.toLowerCase()], `${e.method} ${e.path}`);
  const ids = operations().map((o) => o.op.operationId);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(operations().length, endpoints.length);
  assert.ok(doc.paths["/admin/openapi.json"].get, "the document describes itself");
  assert.ok(doc.paths["/metrics"].get, "observability's endpoints are there");
});

test("every {name} in a path is declared as a required path parameter, and only those", () => {
  for (const { path, method, op } of operations()) {
    const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    const declared = (op.parameters ?? []).filter((p: any) => p.in === "path");
    assert.deepEqual(declared.map((p: any) => p.name).sort(), inPath, `${method} ${path}`);
    for (const p of declared) assert.equal(p.required, true);
  }
  const reset = doc.paths["/admin/stats/reset"].post;
  assert.deepEqual(
    reset.parameters.filter((p: any) => p.in === "query").map((p: any) => p.name),
    ["route", "target"],
  );
});

test("every admin operation needs the bearer token; /metrics needs none", () => {
  assert.deepEqual(doc.components.securitySchemes.adminToken, { type: "http", scheme: "bearer", description: "The config's admin.token" });
  for (const e of endpoints) {
    const op = doc.paths[e.path][e.method.toLowerCase()];
    if (e.admin) {
      assert.deepEqual(op.security, [{ adminToken: [] }], `${e.method} ${e.path}`);
      assert.equal(op.responses["401"].content["application/json"].schema.$ref, "#/components/schemas/Error");
    } else assert.deepEqual(op.security, []);
  }
  assert.deepEqual(doc.paths["/metrics"].get.security, []);
});

test("the errors' schema is {error: {code, message, status}}", () => {
  const error = doc.components.schemas.Error;
  assert.deepEqual(error.required, ["error"]);
  assert.deepEqual(error.properties.error.required, ["code", "message", "status"]);
  for (const { op } of operations())
    assert.equal(op.responses.default.content["application/json"].schema.$ref, "#/components/schemas/Error");
});

test("POST a target: the body schema requires id and provider and is a valid JSON Schema that checks bodies", () => {
  const schema = doc.paths["/admin/routes/{route}/targets"].post.requestBody.content["application/json"].schema;
  assert.deepEqual(schema.required, ["id", "provider"]);
  assert.equal(schema.additionalProperties, false);
  assert.ok(schema.properties.provider.enum.includes("anthropic"));
  const ajv = new Ajv2020({ strict: true });
  ajvFormats.default(ajv); // CommonJS: the plugin is its default export
  const check = ajv.compile(schema);
  assert.equal(check({ id: "b", provider: "openai", weight: 2 }), true);
  assert.equal(check({ id: "b" }), false);
  assert.equal(check({ id: "b", provider: "openai", colour: "blue" }), false);
  // A patch: nothing is required (a patch sets only what it names).
  const patch = doc.paths["/admin/routes/{route}/targets/{target}"].patch.requestBody.content["application/json"].schema;
  assert.equal(patch.required, undefined);
});

test("GET /admin/openapi.json serves the document behind the admin token", async () => {
  const denied = await fetch(`${server.url}/admin/openapi.json`);
  assert.equal(denied.status, 401);
  const res = await fetch(`${server.url}/admin/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.deepEqual(await res.json(), doc);
});
