/**
 * Hedging's effect on the tail: two targets, one answering in 1 s and one in 10 ms, 500 chat
 * completions from 10 clients, with hedging (delay 100 ms) and without. Prints p50/p95/p99 and
 * how many requests were hedged; writes bench/results/hedging-<date>.json.
 *
 *   node --import tsx bench/hedging.bench.ts
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { startSimProvider } from "../src/simulator/sim-provider.js";
import { createGateway, startServer } from "../src/index.js";
import { createLogger } from "../src/telemetry/logger.js";
import { runLoad } from "../src/simulator/load.js";

async function measure(hedge: boolean) {
  const slow = await startSimProvider({ dialect: "openai", name: "slow", latency_ms: 1000 });
  const fast = await startSimProvider({ dialect: "openai", name: "fast", latency_ms: 10 });
  const gw = createGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        hedge: { enabled: hedge, delay_ms: 100 },
        retry: { budget: { percent: 100, min_per_sec: 100 } },
        targets: [
          { id: "slow", provider: "openai", base_url: slow.url, key: "sk-bench-slow-0001" },
          { id: "fast", provider: "openai", base_url: fast.url, key: "sk-bench-fast-0002" },
        ],
      },
    ],
  });
  const server = await startServer(gw, { port: 0, host: "127.0.0.1", logger: createLogger("silent") });
  const report = await runLoad({
    url: server.url,
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "demo", messages: [{ role: "user", content: "hi" }] }),
    concurrency: 10,
    requests: 500,
  });
  const cancelled = slow.stats().aborted;
  await server.shutdown(1000);
  await slow.close();
  await fast.close();
  return {
    hedging: hedge,
    requests: report.total,
    ok: report.ok,
    p50_ms: report.latency.p50,
    p95_ms: report.latency.p95,
    p99_ms: report.latency.p99,
    slow_calls_cancelled: cancelled,
  };
}

const rows = [await measure(false), await measure(true)];
console.log(
  "| hedging | requests | ok | p50 ms | p95 ms | p99 ms | slow calls cancelled |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
);
for (const r of rows)
  console.log(
    `| ${r.hedging ? "on (100 ms)" : "off"} | ${r.requests} | ${r.ok} | ${r.p50_ms.toFixed(1)} | ${r.p95_ms.toFixed(1)} | ${r.p99_ms.toFixed(1)} | ${r.slow_calls_cancelled} |`,
  );
const date = new Date().toISOString().slice(0, 10);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`./results/hedging-${date}.json`, import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2) + "\n",
);
