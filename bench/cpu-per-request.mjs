#!/usr/bin/env node
/**
 * CPU time per request of each Switchyard subject, from the kernel's own accounting: the
 * process's user + system CPU (/proc/<pid>/stat) over a wrk run, divided by the requests it
 * served. Less swayed by this VM's noise than req/s (a slow host second costs time, not CPU).
 *
 *   npm run build && node bench/cpu-per-request.mjs      switchyard (observability on) vs switchyard-quiet (off)
 *   BENCH_ROUNDS=4 BENCH_DURATION=5                       alternating rounds × seconds per run
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { ProcessGroup, cpuLayout, ensureTools } from "./lib/procs.mjs";
import { median } from "./lib/stats.mjs";
import { sanityCheck, startStack } from "./lib/stack.mjs";
import { runWrk } from "./lib/wrk.mjs";

const log = (m) => process.stderr.write(`cpu-per-request: ${m}\n`);
const rounds = Number(process.env.BENCH_ROUNDS || 4);
const durationS = Number(process.env.BENCH_DURATION || 5);
const names = ["switchyard", "switchyard-quiet"];

ensureTools(log);
const layout = cpuLayout();
const tmp = mkdtempSync(`${tmpdir()}/switchyard-cpu-`);
const group = new ProcessGroup(tmp);
process.on("exit", () => group.killAllNow());
const { subjects, procs } = await startStack(group, tmp, layout, { which: names });
await sanityCheck(subjects);
const ticks = 100; // USER_HZ
/** utime + stime of the process, in seconds. */
const cpuOf = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / ticks;
};
const pidOf = (name) => procs[name].child.pid;
const out = { get: {}, chat: {} };
for (const scenario of ["get", "chat"]) {
  for (const n of names)
    await runWrk(group, {
      url: subjects[n][scenario],
      scenario,
      connections: 64,
      threads: layout.wrkThreads64,
      durationS: 2,
      cpu: layout.wrk,
    });
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 === 0 ? names : [...names].reverse()) {
      const before = cpuOf(pidOf(n));
      const w = await runWrk(group, {
        url: subjects[n][scenario],
        scenario,
        connections: 64,
        threads: layout.wrkThreads64,
        durationS,
        cpu: layout.wrk,
      });
      const cpu = cpuOf(pidOf(n)) - before;
      const us = (cpu * 1e6) / (w.rps * durationS);
      (out[scenario][n] ??= []).push(us);
      log(`${scenario} ${n}: ${Math.round(w.rps)} req/s, ${us.toFixed(1)} µs CPU per request`);
    }
  }
}
const lines = ["| scenario | subject | CPU µs per request (median) | on / off throughput equivalent |", "| --- | --- | ---: | ---: |"];
for (const scenario of ["get", "chat"]) {
  const on = median(out[scenario].switchyard);
  const off = median(out[scenario]["switchyard-quiet"]);
  lines.push(`| ${scenario} | switchyard (observability on) | ${on.toFixed(1)} | ${(off / on).toFixed(2)}× |`);
  lines.push(`| ${scenario} | switchyard-quiet (off) | ${off.toFixed(1)} | |`);
}
console.log(lines.join("\n"));
await group.stopAll();
rmSync(tmp, { recursive: true, force: true });
