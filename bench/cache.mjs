#!/usr/bin/env node
/**
 * What a cache hit costs the gateway, against the same request proxied: two Switchyards of the
 * same build run AT THE SAME TIME pinned to one CPU (as bench/paired.mjs), one with the response
 * cache on its routes (every request after the first is a hit), one without; each is loaded by
 * its own wrk at 64 connections. The kernel shares the CPU by CPU time, so the inverse ratio of
 * their requests/s is the ratio of their CPU per request: a hit's gateway time over a proxied one's.
 * The bar: ≤ 0.5.
 *
 *   npm run build && node bench/cache.mjs
 *   BENCH_ROUNDS=7 BENCH_DURATION=4          rounds × seconds per run
 *   BENCH_OUT=path.json                      where the JSON goes (default bench/results/<date>-cache.json)
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { ProcessGroup, cpuLayout, ensureTools } from "./lib/procs.mjs";
import { median } from "./lib/stats.mjs";
import { cachedConf, sanityCheck, startStack, switchyardCli } from "./lib/stack.mjs";
import { runTogether, runWrk } from "./lib/wrk.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const log = (m) => process.stderr.write(`cache: ${m}\n`);
const rounds = Number(process.env.BENCH_ROUNDS || 7);
const durationS = Number(process.env.BENCH_DURATION || 4);

ensureTools(log);
const layout = cpuLayout();
if (!layout.pinned) throw new Error("cache needs 2+ CPUs and taskset (the subjects share one CPU, wrk runs on another)");
const tmp = mkdtempSync(`${tmpdir()}/switchyard-cache-`);
const group = new ProcessGroup(tmp);
process.on("exit", () => group.killAllNow());
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => group.stopAll().finally(() => process.exit(130)));

const { subjects } = await startStack(group, tmp, layout, {
  which: [],
  extraSwitchyards: [
    { name: "proxied", cli: switchyardCli },
    { name: "cached", cli: switchyardCli, conf: cachedConf },
  ],
});
// Every subject answers the upstream's exact body: the cached one from its cache after the first.
await sanityCheck(subjects);
const names = Object.keys(subjects);
log(`subjects ${names.join(", ")} on CPU ${layout.proxy}, wrk on CPU ${layout.wrk}; ${rounds} rounds × ${durationS} s per scenario`);

/** Every subject loaded at once for `s` seconds (lib/wrk.mjs runTogether). */
const together = (scenario, s) => runTogether(group, { subjects, names, scenario, durationS: s, cpu: layout.wrk, log });

const results = { get: [], chat: [] };
for (const scenario of ["get", "chat"]) {
  await together(scenario, 2);
  for (let r = 0; r < rounds; r++) {
    const runs = await together(scenario, durationS);
    results[scenario].push(Object.fromEntries(names.map((n) => [n, { rps: runs[n].rps, non2xx: runs[n].non2xx, p50_ms: runs[n].p50_ms }])));
    log(`${scenario} round ${r + 1}: proxied ${Math.round(runs.proxied.rps)} req/s, cached ${Math.round(runs.cached.rps)} req/s`);
  }
}

// Latency at 1 connection, each subject alone (interleaved rounds): what one request waits.
const latency = { get: { proxied: [], cached: [] }, chat: { proxied: [], cached: [] } };
for (const scenario of ["get", "chat"])
  for (let r = 0; r < rounds; r++)
    for (const n of r % 2 === 0 ? names : [...names].reverse()) {
      const w = await runWrk(group, { url: subjects[n][scenario], scenario, connections: 1, threads: 1, durationS: 2, cpu: layout.wrk });
      latency[scenario][n].push(w.p50_ms);
    }

const summary = {};
const lines = [
  "| scenario | proxied req/s | cache hit req/s | hit's CPU / proxied (median, 64 conns) | range | p50 at 1 conn: proxied / hit ms | hit / proxied p50 |",
  "| --- | ---: | ---: | ---: | --- | --- | ---: |",
];
for (const scenario of ["get", "chat"]) {
  const costs = results[scenario].map((x) => x.proxied.rps / x.cached.rps);
  const s = {
    proxied_rps: median(results[scenario].map((x) => x.proxied.rps)),
    cached_rps: median(results[scenario].map((x) => x.cached.rps)),
    hit_cost_ratio: median(costs),
    min: Math.min(...costs),
    max: Math.max(...costs),
    proxied_p50_ms: median(latency[scenario].proxied),
    cached_p50_ms: median(latency[scenario].cached),
  };
  s.hit_latency_ratio = s.cached_p50_ms / s.proxied_p50_ms;
  summary[scenario] = s;
  lines.push(
    `| ${scenario === "get" ? "GET /hello (REST)" : "POST chat"} | ${Math.round(s.proxied_rps).toLocaleString("en-US")} | ${Math.round(s.cached_rps).toLocaleString("en-US")} | ${s.hit_cost_ratio.toFixed(2)} | ${s.min.toFixed(2)}–${s.max.toFixed(2)} | ${s.proxied_p50_ms.toFixed(3)} / ${s.cached_p50_ms.toFixed(3)} | ${s.hit_latency_ratio.toFixed(2)} |`,
  );
}
const errors = Object.values(results)
  .flat()
  .some((x) => Object.values(x).some((v) => v.non2xx > 0));
const pass = summary.get.hit_cost_ratio <= 0.5 && summary.chat.hit_cost_ratio <= 0.5 && !errors;
console.log(
  `\n${lines.join("\n")}\n\nBar (a hit's gateway time ≤ 0.5 × the proxied request's): ${pass ? "pass" : "FAIL"}${errors ? " (non-2xx answers seen)" : ""}\n`,
);
const date = new Date().toISOString().slice(0, 10);
const out = process.env.BENCH_OUT || `${ROOT}bench/results/${date}-cache.json`;
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(out, JSON.stringify({ date, rounds, duration_s: durationS, layout, summary, results, latency, pass }, null, 2));
log(`results: ${out}`);
await group.stopAll();
rmSync(tmp, { recursive: true, force: true });
