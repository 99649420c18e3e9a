/** Our request-path counters and histograms expose exactly what prom-client's own would, for the same updates. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";
import { FastCounter, FastHistogram } from "../../src/telemetry/fast-metrics.js";

const BUCKETS = [0.005, 0.01, 0.1, 1, 10];
const LABEL = fc.constantFrom("a", "b", 'with "quote"', "back\\slash", "new\nline");

test("a FastHistogram's exposition equals prom-client's Histogram's for any observations", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(LABEL, LABEL, fc.double({ min: 0, max: 20, noNaN: true })), { maxLength: 60 }), async (obs) => {
      const theirs = new Registry();
      const ours = new Registry();
      const h = new Histogram({ name: "h_seconds", help: "help", labelNames: ["route", "target"], buckets: BUCKETS, registers: [theirs] });
      const f = new FastHistogram(ours, { name: "h_seconds", help: "help", labelNames: ["route", "target"], buckets: BUCKETS });
      for (const [a, b, v] of obs) {
        h.labels(a, b).observe(v);
        f.of(a, b).observe(v);
      }
      assert.equal(sortLines(await ours.metrics()), sortLines(await theirs.metrics()));
    }),
    { numRuns: 200 },
  );
});

test("a FastCounter's exposition equals prom-client's Counter's, and reset empties it", async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const c = new Counter({ name: "c_total", help: "help", labelNames: ["route", "status", "method"], registers: [theirs] });
  const f = new FastCounter(ours, { name: "c_total", help: "help", labelNames: ["route", "status", "method"] });
  for (let i = 0; i < 500; i++) {
    const labels = [`r${i % 3}`, String(200 + (i % 4)), i % 5 === 0 ? "GET" : "POST"] as const;
    c.labels(...labels).inc(i % 7);
    f.of(...labels).inc(i % 7);
  }
  assert.equal(sortLines(await ours.metrics()), sortLines(await theirs.metrics()));
  ours.resetMetrics();
  assert.equal((await ours.metrics()).trim(), "# HELP c_total help\n# TYPE c_total counter");
});

/** Series order is insertion order in both, but prom-client groups by hash: compare as sets of lines. */
function sortLines(text: string): string {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .sort()
    .join("\n");
}
