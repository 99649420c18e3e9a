/**
 * Micro-benchmark: median time of one strategy pick with 10 and 100 eligible targets.
 *
 *   node --import tsx bench/strategies.bench.ts [--batches 41] [--batch 20000]
 *
 * Each strategy gets a warmed pool (results fed so learning strategies have state, a spread of
 * in-flight counts), a warm-up, then timed batches of picks; the figure is the median over
 * batches of (batch time / batch size). Writes bench/results/strategies-<date>.json and prints
 * a markdown table. Numbers are per process on a shared machine: compare runs, not absolutes.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import os from "node:os";
import { STRATEGY_FACTORIES } from "../src/balancer/index.js";
import { STRATEGIES, targetSchema, type StrategyName } from "../src/config/schema.js";
import { Target, DEFAULT_TIMEOUTS } from "../src/core/target.js";
import { RequestContext } from "../src/core/request-context.js";
import { ENDPOINTS } from "../src/core/endpoint.js";
import { Outcome } from "../src/core/outcome.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const BATCHES = arg("batches", 41);
const BATCH = arg("batch", 20_000);
const SIZES = [10, 100];
/** Targets the issue sets, in ns per pick. */
const GOALS: Partial<Record<StrategyName, number>> = {
  "round-robin": 1000,
  weighted: 1000,
  p2c: 1000,
  "least-connections": 1000,
  adaptive: 5000,
  sticky: 5000,
};

function makePool(n: number): Target[] {
  const pool: Target[] = [];
  for (let i = 0; i < n; i++) {
    const cfg = targetSchema.parse({
      id: `target-${i}`,
      provider: "openai",
      base_url: "http://127.0.0.1:1/v1",
      weight: 1 + (i % 5),
      tier: 1 + (i % 3),
      quality: (i % 7) / 7,
      cost: { input_per_1k: 0.1 + (i % 11) / 10, output_per_1k: 0.2 + (i % 13) / 10 },
    });
    pool.push(new Target(cfg, "bench", i, DEFAULT_TIMEOUTS));
  }
  return pool;
}

function makeContexts(): RequestContext[] {
  const out: RequestContext[] = [];
  for (let i = 0; i < 64; i++) {
    const ctx = new RequestContext(`r${i}`, ENDPOINTS.chat, "POST", { "x-session-id": `session-${i}-${i * 7919}` });
    ctx.json = { model: "m", messages: [{ role: "user", content: "hello there" }], max_tokens: 100 + i };
    ctx.body = Buffer.from(JSON.stringify(ctx.json));
    out.push(ctx);
  }
  return out;
}

const OK = new Outcome("ok", 200, "ok");
const FAIL = new Outcome("server_error", 500, "500");

function bench(name: StrategyName, size: number): number {
  const pool = makePool(size);
  const strategy = STRATEGY_FACTORIES[name](pool, name === "tiered" ? { within: "weighted" } : {});
  const contexts = makeContexts();
  // History: every target has results and some calls in flight, as on a busy route.
  for (let r = 0; r < 20; r++) {
    for (const t of pool) {
      const latency = 20 + ((t.index * 37 + r * 11) % 200);
      const outcome = (t.index + r) % 17 === 0 ? FAIL : OK;
      t.stats.onStart(Date.now());
      t.stats.onEnd(outcome.kind, latency, Date.now(), outcome.detail);
      strategy.onResult?.(t, outcome, latency, contexts[0]!);
    }
  }
  for (const t of pool) t.stats.inFlight = t.index % 4;
  const eligible = pool.slice();
  let sink = 0;
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const t = strategy.pick(eligible, contexts[i & 63]!);
      sink += t === undefined ? 1 : t.index;
    }
  };
  run(BATCH * 5); // warm-up: let the JIT settle
  const perPick: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint();
    run(BATCH);
    perPick.push(Number(process.hrtime.bigint() - start) / BATCH);
  }
  if (sink === -1) console.log(sink); // keep the picks observable
  perPick.sort((a, b) => a - b);
  return perPick[perPick.length >> 1]!;
}

const rows: { strategy: StrategyName; size: number; median_ns: number; goal_ns: number | null }[] = [];
for (const name of STRATEGIES)
  for (const size of SIZES) rows.push({ strategy: name, size, median_ns: Math.round(bench(name, size)), goal_ns: GOALS[name] ?? null });

const fmt = (ns: number) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns} ns`);
const lines = ["| strategy | 10 targets | 100 targets | goal |", "| --- | ---: | ---: | --- |"];
for (const name of STRATEGIES) {
  const [a, b] = SIZES.map((size) => rows.find((r) => r.strategy === name && r.size === size)!);
  const goal = GOALS[name];
  const status = goal === undefined ? "" : `< ${fmt(goal)} ${a!.median_ns < goal && b!.median_ns < goal ? "✓" : "✗"}`;
  lines.push(`| ${name} | ${fmt(a!.median_ns)} | ${fmt(b!.median_ns)} | ${status} |`);
}
console.log(lines.join("\n"));

const date = new Date().toISOString().slice(0, 10);
const dir = join(dirname(fileURLToPath(import.meta.url)), "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `strategies-${date}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      bench: "strategies",
      date: new Date().toISOString(),
      node: process.version,
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      load_avg: os.loadavg(),
      batches: BATCHES,
      batch_size: BATCH,
      note: "median ns per pick over batches; eligible = whole pool; shared machine, numbers are noisy",
      results: rows,
    },
    null,
    2,
  ) + "\n",
);
console.log(`\nwrote ${file}`);
