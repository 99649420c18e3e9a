import assert from "node:assert/strict";
import { test } from "node:test";
import { Fidelity, WARNINGS_HEADER, warningsHeaderValue } from "../../src/providers/unsupported.js";
import { UnsupportedFieldError } from "../../src/errors.js";

test("warnings header value: joined with '; ', ASCII only, no CR/LF, capped", () => {
  assert.equal(WARNINGS_HEADER, "x-switchyard-warnings");
  assert.equal(warningsHeaderValue(["a: b, dropped", "c: d"]), "a: b, dropped; c: d");
  assert.equal(warningsHeaderValue(["née\r\nX-Evil: 1"]), "n?e??X-Evil: 1");
  assert.equal(warningsHeaderValue([]), "");
  const long = warningsHeaderValue(
    Array.from({ length: 100 }, (_, i) => `field${i}: not supported, dropped`),
    200,
  );
  assert.ok(long.length <= 205 && long.endsWith("; ..."), long);
});

test("Fidelity: unsupported drops with a warning or throws; notes never throw", () => {
  const drop = new Fidelity("gemini", "drop");
  drop.unsupported("n", "one choice");
  drop.note("user", "ignored");
  assert.deepEqual(drop.warnings, ["n: one choice, dropped", "user: ignored"]);
  const strict = new Fidelity("anthropic", "reject");
  strict.note("user", "ignored");
  assert.throws(
    () => strict.unsupported("n", "one choice"),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "n" && e.code === "SWY_ERR_UNSUPPORTED_FIELD",
  );
});
