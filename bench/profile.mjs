#!/usr/bin/env node
/**
 * Where does the gateway spend its CPU under load? Starts the upstream and one subject with
 * `node --cpu-prof`, loads it with wrk (same pinning as bench/run.mjs), stops it, and prints the
 * top functions by self time, plus self time grouped by where the code lives.
 *
 *   npm run build && node bench/profile.mjs
 *   BENCH_PROFILE_SUBJECT=reference   profile the reference proxy instead (the floor); switchyard-quiet: observability off
 *   BENCH_PROFILE_SCENARIO=chat       the POST chat scenario instead of GET
 *   BENCH_PROFILE_CONNECTIONS=64      wrk connections
 *   BENCH_DURATION=5                  seconds of load (after 2 s of warm-up)
 *   BENCH_PROFILE_TOP=25              rows in the function table
 *   BENCH_SWITCHYARD_CLI=path/cli.js  profile another build of the gateway (A/B)
 *
 * The .cpuprofile file is kept in the OS temp dir (path printed): open it in Chrome DevTools or VS Code for a flame chart.
 */
import { mkdtempSync, readdirSync, readFileSync, copyFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { ProcessGroup, ensureTools, cpuLayout } from "./lib/procs.mjs";
import { cachedConf, startStack, sanityCheck, switchyardCli } from "./lib/stack.mjs";
import { runWrk } from "./lib/wrk.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const log = (msg) => process.stderr.write(`profile: ${msg}\n`);
const subject = process.env.BENCH_PROFILE_SUBJECT || "switchyard";
const scenario = process.env.BENCH_PROFILE_SCENARIO || "get";
const connections = Number(process.env.BENCH_PROFILE_CONNECTIONS || 64);
const durationS = Number(process.env.BENCH_DURATION || 5);
const top = Number(process.env.BENCH_PROFILE_TOP || 25);
if (!["switchyard", "switchyard-quiet", "switchyard-keys", "switchyard-cached", "reference"].includes(subject))
  throw new Error(
    "BENCH_PROFILE_SUBJECT must be switchyard, switchyard-quiet (observability off), switchyard-keys (client key + limits on), switchyard-cached (every request a cache hit) or reference",
  );
if (!["get", "chat"].includes(scenario)) throw new Error("BENCH_PROFILE_SCENARIO must be get or chat");

const group = new ProcessGroup(null);
process.on("exit", () => group.killAllNow());
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => group.stopAll().finally(() => process.exit(130)));

/** Where a function's code lives, for the grouped view. */
function place(url) {
  if (url === "") return "(native / VM)";
  if (url.startsWith("node:")) return "node core";
  if (url.includes("/node_modules/")) return url.slice(url.lastIndexOf("/node_modules/") + 14).split("/")[0];
  if (url.includes("/dist/")) return "switchyard (dist/)";
  if (url.includes("/bench/")) return "bench/";
  return url;
}

function shortUrl(url) {
  if (url.startsWith("file://")) url = url.slice(7);
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  return url;
}

export function analyse(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]);
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const cf = n.callFrame;
    if (cf.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    const url = shortUrl(cf.url);
    const key = `${cf.functionName || "(anonymous)"}\t${url}:${cf.lineNumber + 1}`;
    const e = self.get(key) ?? {
      fn: cf.functionName || "(anonymous)",
      where: url ? `${url}:${cf.lineNumber + 1}` : "",
      place: place(cf.url),
      us: 0,
    };
    e.us += dt;
    self.set(key, e);
  }
  const busy = total - idle;
  const rows = [...self.values()].sort((a, b) => b.us - a.us);
  const places = new Map();
  for (const r of rows) places.set(r.place, (places.get(r.place) ?? 0) + r.us);
  return { total, idle, busy, rows, places: [...places.entries()].sort((a, b) => b[1] - a[1]) };
}

async function main() {
  ensureTools(log);
  const layout = cpuLayout();
  const tmp = mkdtempSync(`${tmpdir()}/switchyard-profile-`);
  group.logDir = tmp;
  const profDir = `${tmp}/prof`;
  mkdirSync(profDir);
  const nodeArgs = ["--cpu-prof", "--cpu-prof-dir", profDir];
  const keys = subject === "switchyard-keys";
  const cached = subject === "switchyard-cached";
  const { subjects, procs } = await startStack(group, tmp, layout, {
    which: keys || cached ? [] : [subject],
    extraSwitchyards: keys
      ? [{ name: subject, cli: switchyardCli, keys: true }]
      : cached
        ? [{ name: subject, cli: switchyardCli, conf: cachedConf }]
        : [],
    switchyardNodeArgs: subject.startsWith("switchyard") ? nodeArgs : [],
    referenceNodeArgs: subject === "reference" ? nodeArgs : [],
  });
  await sanityCheck(subjects);
  const opts = {
    url: subjects[subject][scenario],
    scenario,
    connections,
    threads: connections === 1 ? 1 : layout.wrkThreads64,
    cpu: layout.wrk,
  };
  await runWrk(group, { ...opts, durationS: 2 });
  log(`loading ${subject} (${scenario}, ${connections} connections) for ${durationS} s`);
  const w = await runWrk(group, { ...opts, durationS });
  await group.stop(procs[subject]);
  await group.stopAll();
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error(`no .cpuprofile written in ${profDir}`);
  const keep = `${tmpdir()}/switchyard-profile-${subject}-${scenario}-c${connections}.cpuprofile`;
  copyFileSync(`${profDir}/${file}`, keep);
  const a = analyse(JSON.parse(readFileSync(keep, "utf8")));
  rmSync(tmp, { recursive: true, force: true });
  const pct = (us) => `${((100 * us) / a.busy).toFixed(1)}%`;
  const out = [];
  out.push(
    `${subject}, ${scenario}, ${connections} connections: ${Math.round(w.rps)} req/s, p50 ${w.p50_ms.toFixed(3)} ms, p99 ${w.p99_ms.toFixed(3)} ms (during profiling: slower than unprofiled)`,
  );
  out.push(
    `profile: ${(a.total / 1e6).toFixed(1)} s sampled (start-up and warm-up included), ${(100 * (a.busy / a.total)).toFixed(0)}% busy; percentages below are of busy time`,
  );
  out.push("");
  out.push("| self | where the code lives |");
  out.push("| ---: | --- |");
  for (const [p, us] of a.places) out.push(`| ${pct(us)} | ${p} |`);
  out.push("");
  out.push("| self | function | location |");
  out.push("| ---: | --- | --- |");
  for (const r of a.rows.slice(0, top)) out.push(`| ${pct(r.us)} | \`${r.fn}\` | ${r.where} |`);
  out.push("");
  out.push(`profile kept: ${keep}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

main().catch(async (err) => {
  log(`failed: ${err.stack ?? err.message}`);
  await group.stopAll();
  process.exitCode = 1;
});
