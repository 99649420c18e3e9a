/**
 * Memory under sustained mixed traffic: JSON and streamed chat completions, half translated
 * (OpenAI client → Anthropic upstream), hedging on, 5 % upstream errors; 5 rounds of 8,000
 * requests from 32 clients. Heap after a forced GC should stay flat from round to round.
 * Writes bench/results/soak-<date>.json.
 *
 *   node --expose-gc --import tsx bench/soak.bench.ts
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { startSimProvider } from "../src/simulator/sim-provider.js";
import { createGateway, startServer } from "../src/index.js";
import { createLogger } from "../src/telemetry/logger.js";
import { runLoad } from "../src/simulator/load.js";

const a = await startSimProvider({ dialect: "openai", name: "a", stream_chunks: 8 });
const b = await startSimProvider({ dialect: "anthropic", name: "b", stream_chunks: 8, error_rate: 0.05 });
const gw = createGateway({
  routes: [
    {
      name: "chat",
      surface: "openai",
      models: ["demo"],
      hedge: { enabled: true, delay_ms: 50 },
      targets: [
        { id: "a", provider: "openai", base_url: a.url, key: "sk-soak-a-0001" },
        { id: "b", provider: "anthropic", base_url: b.url, key: "sk-soak-b-0002" },
      ],
    },
  ],
});
const server = await startServer(gw, { port: 0, host: "127.0.0.1", logger: createLogger("silent") });
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) console.warn("run with --expose-gc for heap figures after a full GC");
const rounds: { round: number; requests: number; ok: number; rss_mb: number; heap_mb: number }[] = [];
for (let round = 0; round < 5; round++) {
  const r = await runLoad({
    url: server.url,
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body: () => JSON.stringify({ model: "demo", stream: Math.random() < 0.5, messages: [{ role: "user", content: "hi" }] }),
    concurrency: 32,
    requests: 8000,
  });
  gc?.();
  const m = process.memoryUsage();
  rounds.push({ round, requests: r.total, ok: r.ok, rss_mb: Math.round(m.rss / 1e6), heap_mb: Math.round(m.heapUsed / 1e6) });
  console.log(
    `round ${round}: ${r.total} requests, ${r.ok} ok, rss ${Math.round(m.rss / 1e6)} MB, heap ${Math.round(m.heapUsed / 1e6)} MB`,
  );
}
await server.shutdown(1000);
await a.close();
await b.close();
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`./results/soak-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds }, null, 2) + "\n",
);
