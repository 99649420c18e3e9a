#!/usr/bin/env node
/**
 * Throughput ratios that this noisy VM cannot blur: the subjects run AT THE SAME TIME, all pinned
 * to the same CPU, each loaded by its own wrk (on the other CPU) at 64 connections. The kernel
 * shares that CPU between the saturated proxies by CPU time, so the ratio of their requests/s is
 * the inverse ratio of their CPU cost per request, and whatever the host does to the machine
 * does it to all of them in the same instant. Sequential runs (bench/run.mjs) swing ±30 % here;
 * these ratios hold to a few percent.
 *
 *   npm run build && node bench/paired.mjs          reference vs Switchyard (observability on, and off), GET and chat
 *   BENCH_SWITCHYARD_CLI_B=/other/dist/cli.js …      adds another build (an A/B of two builds)
 *   BENCH_ROUNDS=9 BENCH_DURATION=4                  rounds × seconds per run
 *   BENCH_OUT=path.json                              where the JSON goes (default bench/results/<date>-paired.json)
 *
 * Needs 2+ CPUs and taskset; wrk and nginx as for bench/run.mjs.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { ProcessGroup, cpuLayout, ensureTools } from "./lib/procs.mjs";
import { median } from "./lib/stats.mjs";
import { sanityCheck, startStack, switchyardCli } from "./lib/stack.mjs";
import { runTogether } from "./lib/wrk.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const log = (m) => process.stderr.write(`paired: ${m}\n`);
const rounds = Number(process.env.BENCH_ROUNDS || 7);
const durationS = Number(process.env.BENCH_DURATION || 4);
const other = process.env.BENCH_SWITCHYARD_CLI_B;

ensureTools(log);
const layout = cpuLayout();
if (!layout.pinned) throw new Error("paired needs 2+ CPUs and taskset (the subjects share one CPU, wrk runs on another)");
const tmp = mkdtempSync(`${tmpdir()}/switchyard-paired-`);
const group = new ProcessGroup(tmp);
process.on("exit", () => group.killAllNow());
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => group.stopAll().finally(() => process.exit(130)));

const extra = other ? [{ name: "switchyard-b", cli: other }] : [];
// BENCH_KEYS=1: the same build with the front door on (a client key with limits, route and global limits).
if (process.env.BENCH_KEYS === "1") extra.push({ name: "switchyard-keys", cli: switchyardCli, keys: true });
// switchyard-quiet: the same build with metrics, the usage ledger and the access log off (what observability costs).
const { subjects } = await startStack(group, tmp, layout, {
  which: ["reference", "switchyard", "switchyard-quiet"],
  extraSwitchyards: extra,
});
await sanityCheck(subjects);
const names = Object.keys(subjects);
log(`subjects ${names.join(", ")} on CPU ${layout.proxy}, wrk on CPU ${layout.wrk}; ${rounds} rounds × ${durationS} s per scenario`);

/** Every subject loaded at once for `s` seconds (lib/wrk.mjs runTogether). */
const together = (scenario, s) => runTogether(group, { subjects, names, scenario, durationS: s, cpu: layout.wrk, log });

const results = { get: [], chat: [] };
for (const scenario of ["get", "chat"]) {
  await together(scenario, 2); // warm-up: JIT and connections
  for (let r = 0; r < rounds; r++) {
    const runs = await together(scenario, durationS);
    results[scenario].push(
      Object.fromEntries(names.map((n) => [n, { rps: runs[n].rps, non2xx: runs[n].non2xx, socket_errors: runs[n].socket_errors }])),
    );
    log(`${scenario} round ${r + 1}: ${names.map((n) => `${n} ${Math.round(runs[n].rps)}`).join(", ")}`);
  }
}

const ratio = (scenario, a, b) => results[scenario].map((x) => x[a].rps / x[b].rps);
const lines = [
  "| scenario | subject | req/s (median, sharing one CPU) | ratio to the reference (median of rounds) | range |",
  "| --- | --- | ---: | ---: | --- |",
];
const summary = {};
for (const scenario of ["get", "chat"]) {
  for (const n of names) {
    const rs = ratio(scenario, n, "reference");
    const rps = median(results[scenario].map((x) => x[n].rps));
    summary[`${scenario}:${n}`] = { rps, ratio: median(rs), min: Math.min(...rs), max: Math.max(...rs) };
    lines.push(
      `| ${scenario === "get" ? "GET /hello" : "POST chat"} | ${n} | ${Math.round(rps).toLocaleString("en-US")} | ${median(rs).toFixed(2)}× | ${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)} |`,
    );
  }
}
for (const scenario of ["get", "chat"]) {
  const rs = ratio(scenario, "switchyard", "switchyard-quiet");
  summary[`${scenario}:observability_on_over_off`] = { ratio: median(rs), min: Math.min(...rs), max: Math.max(...rs) };
  lines.push(
    `| ${scenario === "get" ? "GET /hello" : "POST chat"} | switchyard / switchyard-quiet (observability on / off) | | ${median(rs).toFixed(2)}× | ${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)} |`,
  );
}
if (names.includes("switchyard-keys"))
  for (const scenario of ["get", "chat"]) {
    const rs = ratio(scenario, "switchyard-keys", "switchyard");
    summary[`${scenario}:keys_on_over_off`] = { ratio: median(rs), min: Math.min(...rs), max: Math.max(...rs) };
    lines.push(
      `| ${scenario === "get" ? "GET /hello" : "POST chat"} | switchyard-keys / switchyard (keys + limits on / off) | | ${median(rs).toFixed(2)}× | ${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)} |`,
    );
  }
const errors = Object.values(results)
  .flat()
  .some((x) => Object.values(x).some((v) => v.non2xx > 0 || v.socket_errors > 0));
const table = lines.join("\n");
console.log(`\n${table}\n${errors ? "\nERRORS: some subject answered non-2xx or dropped sockets (see the JSON)\n" : ""}`);
const date = new Date().toISOString().slice(0, 10);
const out = process.env.BENCH_OUT || `${ROOT}bench/results/${date}-paired.json`;
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      date,
      method: "subjects loaded at once, sharing one CPU",
      rounds,
      duration_s: durationS,
      cpu: layout,
      builds: { switchyard: switchyardCli, ...(other ? { "switchyard-b": other } : {}) },
      summary,
      results,
      table_markdown: table,
      errors,
    },
    null,
    2,
  ),
);
log(`results: ${out}`);
await group.stopAll();
rmSync(tmp, { recursive: true, force: true });
