/**
 * Indexing in tests with `noUncheckedIndexedAccess`: a missing element is a test failure, not an
 * `undefined` to carry on with. `at` reads one element (negative indexes count from the end) and
 * fails the test, saying what was missing, when there is none.
 */
import assert from "node:assert/strict";

export function at<T>(list: readonly T[], i: number, what = "list"): T {
  assert.ok(i >= -list.length && i < list.length, `${what}: no element at index ${i} (length ${list.length})`);
  return list.at(i) as T;
}
