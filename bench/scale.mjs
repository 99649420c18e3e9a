#!/usr/bin/env node
/**
 * What scaling out costs and gives (the scale-out issue's bars):
 *
 *   redis / memory     the same build with `shared.redis` (policies' state in Redis) against the
 *                      embedded default, loaded AT THE SAME TIME on one CPU (as bench/paired.mjs):
 *                      the ratio of their requests/s is the inverse ratio of their CPU per request.
 *                      Bar ≥ 0.8.
 *   limits            the front door's limits (bench/lib/stack.mjs `keys`) counted in Redis (one Lua
 *                      call per request) against counted here, paired: reported, no bar.
 *   workers2 / single  `start --workers 2` against one process, each alone, unpinned (the workers
 *                      may use both cores; wrk and the upstream share them), interleaved rounds.
 *                      Bar ≥ 1.3 on 2 cores.
 *
 *   npm run build && node bench/scale.mjs
 *   BENCH_ROUNDS=5 BENCH_DURATION=4        rounds × seconds per run
 *   BENCH_OUT=path.json                    where the JSON goes (default bench/results/<date>-scale.json)
 *
 * Uses the Redis at 127.0.0.1:6379 (BENCH_REDIS_URL), under a prefix of this run, deleted at the end.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { ProcessGroup, cpuLayout, ensureTools } from "./lib/procs.mjs";
import { median } from "./lib/stats.mjs";
import { sanityCheck, startStack, switchyardCli, switchyardConf } from "./lib/stack.mjs";
import { runTogether, runWrk } from "./lib/wrk.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const log = (m) => process.stderr.write(`scale: ${m}\n`);
const rounds = Number(process.env.BENCH_ROUNDS || 5);
const durationS = Number(process.env.BENCH_DURATION || 4);
const redisUrl = process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379";
const prefix = `switchyard-bench-${randomUUID()}:`;

ensureTools(log);
const layout = cpuLayout();
if (!layout.pinned) throw new Error("scale needs 2+ CPUs and taskset");
const tmp = mkdtempSync(`${tmpdir()}/switchyard-scale-`);
const group = new ProcessGroup(tmp);
const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
async function cleanup() {
  await group.stopAll();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  rmSync(tmp, { recursive: true, force: true });
}
process.on("exit", () => group.killAllNow());
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => cleanup().finally(() => process.exit(130)));

const redisConf = (port, ups) => `${switchyardConf(port, ups)}shared: { redis: { url: "${redisUrl}", prefix: "${prefix}" } }\n`;
/** The front door's limits (bench/lib/stack.mjs `keys`), counted in Redis: one Lua call per request. */
const keysRedisConf = (port, ups) =>
  `${switchyardConf(port, ups, false, true)}shared: { redis: { url: "${redisUrl}", prefix: "${prefix}" } }\n`;
const { subjects } = await startStack(group, tmp, layout, {
  which: [],
  extraSwitchyards: [
    { name: "memory", cli: switchyardCli },
    { name: "redis", cli: switchyardCli, conf: redisConf },
    { name: "keys-local", cli: switchyardCli, keys: true },
    { name: "keys-redis", cli: switchyardCli, conf: keysRedisConf },
    { name: "single", cli: switchyardCli, cpu: null },
    { name: "workers2", cli: switchyardCli, args: ["--workers", "2"], cpu: null },
  ],
});
await sanityCheck(subjects);

const results = { redis: { get: [], chat: [] }, limits: { get: [], chat: [] }, workers: { get: [], chat: [] } };
for (const scenario of ["get", "chat"]) {
  // Paired: the front door's limits counted here or in Redis (reported, no bar).
  {
    const names = ["keys-local", "keys-redis"];
    const together = (s) => runTogether(group, { subjects, names, scenario, durationS: s, cpu: layout.wrk, log });
    await together(2);
    for (let r = 0; r < rounds; r++) {
      const runs = await together(durationS);
      const [a, b] = [runs["keys-local"], runs["keys-redis"]];
      results.limits[scenario].push({ local: a.rps, redis: b.rps, non2xx: a.non2xx + b.non2xx });
      log(`${scenario} round ${r + 1}: limits local ${Math.round(a.rps)}, in Redis ${Math.round(b.rps)} req/s`);
    }
  }
  // Paired: memory and redis at once on the proxy CPU.
  const names = ["memory", "redis"];
  const together = (s) => runTogether(group, { subjects, names, scenario, durationS: s, cpu: layout.wrk, log });
  await together(2);
  for (let r = 0; r < rounds; r++) {
    const runs = await together(durationS);
    results.redis[scenario].push({ memory: runs.memory.rps, redis: runs.redis.rps, non2xx: runs.memory.non2xx + runs.redis.non2xx });
    log(`${scenario} round ${r + 1}: memory ${Math.round(runs.memory.rps)}, redis ${Math.round(runs.redis.rps)} req/s`);
  }
  // Alone, unpinned: one process, then two workers (order alternating by round).
  for (const n of ["single", "workers2"])
    await runWrk(group, { url: subjects[n][scenario], scenario, connections: 64, threads: 1, durationS: 2, cpu: null });
  for (let r = 0; r < rounds; r++) {
    const row = {};
    for (const n of r % 2 === 0 ? ["single", "workers2"] : ["workers2", "single"]) {
      const w = await runWrk(group, { url: subjects[n][scenario], scenario, connections: 64, threads: 1, durationS, cpu: null });
      row[n] = w.rps;
      row.non2xx = (row.non2xx ?? 0) + w.non2xx;
    }
    results.workers[scenario].push(row);
    log(`${scenario} round ${r + 1}: single ${Math.round(row.single)}, workers2 ${Math.round(row.workers2)} req/s`);
  }
}

const summary = {};
const lines = [
  "| scenario | redis / memory (paired, one CPU) | range | --workers 2 / one process (2 cores) | range | limits in Redis / local (paired) | range |",
  "| --- | ---: | --- | ---: | --- | ---: | --- |",
];
for (const scenario of ["get", "chat"]) {
  const rr = results.redis[scenario].map((x) => x.redis / x.memory);
  const wr = results.workers[scenario].map((x) => x.workers2 / x.single);
  const lr = results.limits[scenario].map((x) => x.redis / x.local);
  summary[scenario] = { redis_over_memory: median(rr), workers2_over_single: median(wr), limits_redis_over_local: median(lr) };
  const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  lines.push(
    `| ${scenario} | ${median(rr).toFixed(2)}× | ${range(rr)} | ${median(wr).toFixed(2)}× | ${range(wr)} | ${median(lr).toFixed(2)}× | ${range(lr)} |`,
  );
}
const errors = [...Object.values(results.redis), ...Object.values(results.limits), ...Object.values(results.workers)]
  .flat()
  .some((x) => x.non2xx > 0);
const pass =
  !errors &&
  ["get", "chat"].every((s) => summary[s].redis_over_memory >= 0.8) &&
  ["get", "chat"].every((s) => summary[s].workers2_over_single >= 1.3);
console.log(
  `\n${lines.join("\n")}\n\nBar (redis ≥ 0.8× memory; --workers 2 ≥ 1.3× one process): ${pass ? "pass" : "FAIL"}${errors ? " (non-2xx seen)" : ""}\n`,
);
const date = new Date().toISOString().slice(0, 10);
const out = process.env.BENCH_OUT || `${ROOT}bench/results/${date}-scale.json`;
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(out, JSON.stringify({ date, rounds, duration_s: durationS, layout, summary, results, pass }, null, 2));
log(`results: ${out}`);
await cleanup();
