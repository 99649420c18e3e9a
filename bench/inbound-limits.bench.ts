/**
 * Micro-benchmark: what the inbound limits cost a request, admission and release together (the
 * check, the take, the RateLimit headers, the ticket, and the request event giving it back).
 *
 *   node --import tsx bench/inbound-limits.bench.ts [--batches 31] [--batch 20000]
 *
 * Cases: no limit anywhere (the step installed but inert); a route's rps; a key, its route and
 * the gateway each with rps, rpm and max_parallel; the same plus tpm (a real tokenizer count of
 * the body) for a short chat and a ~2 KB one. The figure is the median over batches of (batch
 * time / batch size). Writes bench/results/inbound-limits-<date>.json and prints a table.
 * Numbers are per process on a shared machine: compare runs, not absolutes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import os from "node:os";
import { parseConfig } from "../src/config/load.js";
import type { ConfigInput } from "../src/config/schema.js";
import { ENDPOINTS } from "../src/core/endpoint.js";
import { GatewayEvents, type RequestRecord } from "../src/core/events.js";
import { RequestContext } from "../src/core/request-context.js";
import type { Route } from "../src/engine/route.js";
import { InboundLimits } from "../src/front/inbound-limits.js";
import { estimateTokens, loadTokenCounter } from "../src/front/token-estimate.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const BATCHES = arg("batches", 31);
const BATCH = arg("batch", 20_000);
/** Far above what a batch takes, so nothing is refused: the cost of a request that passes. */
const HUGE = { rps: 1e7, burst: 1_000_000, rpm: 1e9, max_parallel: 1e6 };

const SHORT = { model: "demo", messages: [{ role: "user", content: "hello there, how are you today?" }], max_tokens: 256 };
const LONG = {
  model: "demo",
  messages: [
    { role: "system", content: "You are a careful assistant. Answer briefly and cite the passage you used." },
    {
      role: "user",
      content: "Summarise the following in three bullet points. " + "The quick brown fox jumps over the lazy dog; ".repeat(45),
    },
  ],
  max_tokens: 512,
};

const HUGE_PROMPT = {
  model: "demo",
  messages: [
    {
      role: "user",
      content: "Answer from this context only. " + "Revenue grew 12% year on year, driven by services; margins held at 31%. ".repeat(280),
    },
  ],
  max_tokens: 512,
};

interface Case {
  name: string;
  config: Omit<ConfigInput, "routes">;
  route?: Record<string, unknown>;
  key?: boolean;
  body: unknown;
}

const CASES: Case[] = [
  { name: "no limits (step inert)", config: {}, body: SHORT },
  { name: "route rps", config: {}, route: { rps: 1e7, burst: 1_000_000 }, body: SHORT },
  { name: "key + route + global: rps, rpm, max_parallel", config: { limits: HUGE }, route: HUGE, key: true, body: SHORT },
  {
    name: "… + tpm, short chat (~40 chars)",
    config: { limits: { ...HUGE, tpm: 1e12 } },
    route: { ...HUGE, tpm: 1e12 },
    key: true,
    body: SHORT,
  },
  { name: "… + tpm, long chat (~2 KB)", config: { limits: { ...HUGE, tpm: 1e12 } }, route: { ...HUGE, tpm: 1e12 }, key: true, body: LONG },
  {
    name: "… + tpm, 20 KB prompt (4 KB counted, rest extrapolated)",
    config: { limits: { ...HUGE, tpm: 1e12 } },
    route: { ...HUGE, tpm: 1e12 },
    key: true,
    body: HUGE_PROMPT,
  },
];

function bench(c: Case): number {
  const config = parseConfig(
    {
      ...c.config,
      client_keys: c.key ? [{ name: "team-a", key: "sk-team-a-0001", limits: HUGE }] : [],
      routes: [
        {
          name: "chat",
          surface: "openai",
          models: ["demo"],
          limits: c.route ?? {},
          targets: [{ id: "t0", provider: "openai", base_url: "http://127.0.0.1:1/v1", key: "sk-x" }],
        },
      ],
    },
    "bench",
  );
  const events = new GatewayEvents();
  const limits = new InboundLimits({ config, events });
  const route = { name: "chat" } as Route;
  const body = Buffer.from(JSON.stringify(c.body));
  const json = JSON.parse(body.toString()) as Record<string, unknown>;
  // 64 requests in turn, each admitted then ended, as a steady stream would.
  const ctxs: RequestContext[] = [];
  const records: RequestRecord[] = [];
  for (let i = 0; i < 64; i++) {
    const ctx = new RequestContext(`req-${i}`, ENDPOINTS.chat, "POST", {});
    ctx.json = json;
    ctx.body = body;
    ctx.model = "demo";
    if (c.key) ctx.clientKey = "team-a";
    ctxs.push(ctx);
    records.push(record(ctx));
  }
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const ctx = ctxs[i & 63]!;
      ctx.responseHeaders = null;
      void limits.admit(ctx, route);
      events.request(records[i & 63]!);
    }
  };
  run(BATCH);
  const perRequest: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    run(BATCH);
    perRequest.push(Number(process.hrtime.bigint() - t0) / BATCH);
  }
  if (limits.pending !== 0) throw new Error(`${limits.pending} tickets left: the bench leaks`);
  perRequest.sort((a, b) => a - b);
  return perRequest[perRequest.length >> 1]!;
}

function record(ctx: RequestContext): RequestRecord {
  return {
    requestId: ctx.requestId,
    answeredBy: "",
    cache: "",
    method: "POST",
    path: "/v1/chat/completions",
    surface: "openai",
    route: "chat",
    clientKey: ctx.clientKey,
    target: "t0",
    status: 200,
    attempts: 1,
    durationMs: 1,
    errorCode: null,
    stream: false,
    model: "demo",
    upstreamModel: "demo",
    usage: { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 },
    costUsd: 0,
    ttfbMs: 1,
    queueMs: 0,
    overheadMs: 0,
    // The request's own array, as the pipeline's record carries it (what the step matches a record by).
    tries: ctx.tries,
  };
}

/** The tokenizer's share alone: one estimate of each body. */
async function estimateCost(b: unknown): Promise<number> {
  const count = await loadTokenCounter();
  const ctx = new RequestContext("x", ENDPOINTS.chat, "POST", {});
  ctx.json = b as Record<string, unknown>;
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += estimateTokens(ctx, count);
  const per: number[] = [];
  for (let k = 0; k < BATCHES; k++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) sink += estimateTokens(ctx, count);
    per.push(Number(process.hrtime.bigint() - t0) / 2000);
  }
  if (sink === -1) console.log(sink);
  per.sort((a, b) => a - b);
  return per[per.length >> 1]!;
}

await loadTokenCounter();
const rows = CASES.map((c) => ({ case: c.name, median_ns: Math.round(bench(c)) }));
const estimates = [
  { body: "short chat", tokens: 0, median_ns: Math.round(await estimateCost(SHORT)) },
  { body: "long chat (~2 KB)", tokens: 0, median_ns: Math.round(await estimateCost(LONG)) },
  { body: "20 KB prompt", tokens: 0, median_ns: Math.round(await estimateCost(HUGE_PROMPT)) },
];
const count = await loadTokenCounter();
for (const [i, b] of [SHORT, LONG, HUGE_PROMPT].entries()) {
  const ctx = new RequestContext("x", ENDPOINTS.chat, "POST", {});
  ctx.json = b;
  estimates[i]!.tokens = estimateTokens(ctx, count);
}

const fmt = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
console.log(
  ["| case | per request (admit + release) |", "| --- | ---: |", ...rows.map((r) => `| ${r.case} | ${fmt(r.median_ns)} |`)].join("\n"),
);
console.log(
  [
    "\n| token estimate alone | tokens | per request |",
    "| --- | ---: | ---: |",
    ...estimates.map((e) => `| ${e.body} | ${e.tokens} | ${fmt(e.median_ns)} |`),
  ].join("\n"),
);

const date = new Date().toISOString().slice(0, 10);
const dir = join(dirname(fileURLToPath(import.meta.url)), "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `inbound-limits-${date}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      bench: "inbound-limits",
      date: new Date().toISOString(),
      node: process.version,
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      load_avg: os.loadavg(),
      batches: BATCHES,
      batch_size: BATCH,
      note: "median ns per request (admit + its request event) over batches; nothing refused; shared machine, numbers are noisy",
      results: rows,
      token_estimate: estimates,
    },
    null,
    2,
  ) + "\n",
);
console.log(`\nwrote ${file}`);
