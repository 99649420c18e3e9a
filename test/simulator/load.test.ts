import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { errorKind, formatReport, runLoad } from "../../src/simulator/load.js";
import { percentile, summarize } from "../../src/simulator/report.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";

/** A stand-in gateway: every 4th request is a 503, targets a/a/a/b by arrival. */
async function fakeGateway(): Promise<{ url: string; seen: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const i = n++;
      const target = i % 4 === 3 ? "b" : "a";
      res.writeHead(i % 5 === 4 ? 503 : 200, { "content-type": "application/json", "x-switchyard-target": target });
      res.end(JSON.stringify({ i, path: req.url, method: req.method }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen: () => n,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

test("runLoad by count: totals, errors by kind, share per target, percentiles, progress", async () => {
  const gw = await fakeGateway();
  try {
    const progress: string[] = [];
    const r = await runLoad({
      url: gw.url,
      path: "/v1/chat/completions",
      body: () => JSON.stringify({ model: "m" }),
      concurrency: 4,
      requests: 40,
      onProgress: (p) => progress.push(p.line),
      progressIntervalMs: 5,
    });
    assert.equal(gw.seen(), 40, "exactly the requested count was sent");
    assert.equal(r.total, 40);
    assert.equal(r.ok, 32);
    assert.equal(r.failed, 8);
    assert.deepEqual(r.errors, { status_503: 8 });
    assert.deepEqual(r.targets, { a: { count: 30, percent: 75 }, b: { count: 10, percent: 25 } });
    assert.ok(r.latency.p50 > 0);
    assert.ok(r.latency.p50 <= r.latency.p95 && r.latency.p95 <= r.latency.p99 && r.latency.p99 <= r.latency.max);
    assert.ok(r.ttfb.p50 <= r.latency.p50);
    assert.ok(r.rps > 0);
    assert.equal(r.concurrency, 4);
    const text = formatReport(r);
    assert.match(text, /status_503\s+8/);
    assert.match(text, /\ba\s+30\s+75\.0 %/);
    assert.match(text, /p99/);
    for (const line of progress) assert.ok(!line.includes("\n"));
  } finally {
    await gw.close();
  }
});

test("runLoad by duration stops by itself; the url's path prefixes `path`", async () => {
  const gw = await fakeGateway();
  try {
    const t0 = Date.now();
    const r = await runLoad({ url: `${gw.url}/lb`, path: "/x", method: "GET", concurrency: 2, durationMs: 200 });
    assert.ok(Date.now() - t0 < 5000);
    assert.ok(r.total > 0);
    assert.equal(r.total, gw.seen());
    assert.ok(r.durationMs >= 200);
  } finally {
    await gw.close();
  }
});

test("runLoad against a sim stream: bodies read whole; refused connections counted as ECONNREFUSED", async () => {
  const sim = await startSimProvider({ dialect: "openai", stream_chunks: 3 });
  try {
    const r = await runLoad({
      url: sim.url,
      path: "/chat/completions",
      headers: { authorization: "Bearer k" },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
      stream: true,
      concurrency: 3,
      requests: 12,
    });
    assert.equal(r.ok, 12);
    assert.deepEqual(r.targets, {});
    assert.equal(sim.stats().completed, 12);
    await sim.set({ drop_after_chunks: 2 });
    const broken = await runLoad({
      url: sim.url,
      path: "/chat/completions",
      headers: { authorization: "Bearer k" },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
      concurrency: 2,
      requests: 4,
    });
    assert.equal(broken.ok, 0, "a stream cut mid-way is not ok");
    assert.equal(broken.failed, 4);
    await sim.set({ down: true });
    const refused = await runLoad({ url: sim.url, path: "/models", concurrency: 2, requests: 4 });
    assert.deepEqual(refused.errors, { ECONNREFUSED: 4 });
  } finally {
    await sim.close();
  }
});

test("timeouts are counted as `timeout`", async () => {
  const sim = await startSimProvider({ dialect: "rest", hang: true });
  try {
    const r = await runLoad({ url: sim.url, path: "/slow", concurrency: 2, requests: 2, timeoutMs: 100 });
    assert.deepEqual(r.errors, { timeout: 2 });
  } finally {
    await sim.close();
  }
});

test("percentiles are nearest-rank; errorKind maps undici codes", () => {
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 99), 99);
  assert.equal(percentile(sorted, 100), 100);
  assert.deepEqual(summarize([]), { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  assert.equal(summarize([3, 1, 2]).max, 3);
  assert.equal(errorKind({ code: "UND_ERR_HEADERS_TIMEOUT" }), "timeout");
  assert.equal(errorKind({ code: "UND_ERR_SOCKET" }), "connection_closed");
  assert.equal(errorKind({ code: "ECONNRESET" }), "ECONNRESET");
});
