import { test } from "node:test";
import assert from "node:assert/strict";
import { VendorPath } from "../../src/providers/rest/vendor-path.js";
import { GatewayError, UnsupportedFieldError } from "../../src/errors.js";

test("a path template is filled from the client's query, which loses those parameters; the rest are renamed", () => {
  const vp = new VendorPath("a", "/v2/{market}/quote/{symbol}", { range: "interval" });
  assert.deepEqual(vp.build("/quote", "symbol=BRK%2FB&market=us&range=1d&x=%C3%A9"), {
    path: "/v2/us/quote/BRK%2FB",
    query: "interval=1d&x=%C3%A9",
  });
});

test("a path map picks the template by the client's sub-path; an unmapped sub-path makes the target unable to serve it", () => {
  const vp = new VendorPath("c", { "/quote": "/prices", "/news/{symbol}": "/n" }, undefined);
  assert.deepEqual(vp.build("/quote", "symbol=IBM"), { path: "/prices", query: "symbol=IBM" });
  assert.throws(
    () => vp.build("/history", ""),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "path" && e.dialect === "rest",
  );
});

test("a placeholder without its parameter skips the target; a dot segment is refused", () => {
  const vp = new VendorPath("a", "/v2/quote/{symbol}", undefined);
  assert.throws(
    () => vp.build("/quote", "range=1d"),
    (e: unknown) => e instanceof UnsupportedFieldError && e.field === "symbol" && /needs the query parameter symbol/.test(e.message),
  );
  assert.throws(
    () => vp.build("/quote", "symbol=.."),
    (e: unknown) => e instanceof GatewayError && e.code === "invalid_request",
  );
});

test("a target with neither path nor params rewrites nothing (the fast path)", () => {
  assert.equal(new VendorPath("x", undefined, undefined).rewrites, false);
  assert.equal(new VendorPath("x", undefined, {}).rewrites, false);
  assert.equal(new VendorPath("x", undefined, { a: "b" }).rewrites, true);
});
