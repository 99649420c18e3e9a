#!/usr/bin/env node
/**
 * `npm run bench`: Switchyard against the floor (a feature-less Node proxy), nginx, and no proxy
 * at all, with wrk, in one run, interleaved. See bench/README.md for how to read the output.
 *
 *   BENCH_DURATION=3   seconds per measured wrk run
 *   BENCH_ROUNDS=5     interleaved rounds (round r runs the subjects in an order rotated by r)
 *   BENCH_WARMUP=2     seconds of 64-connection warm-up per subject and scenario
 *   BENCH_QUICK=1      smoke: one round of 1 s, 1 s warm-up, results to <date>-quick.json
 *   BENCH_PIN=0        no taskset pinning
 *   BENCH_OUT=path     where to write the JSON (default bench/results/<YYYY-MM-DD>.json)
 *   BENCH_REFERENCE_RELAY=pipeline   the reference relays with stream.pipeline() instead of pipe()
 *   BENCH_SWITCHYARD_CLI=path/cli.js  measure another build of the gateway (A/B)
 *   BENCH_NOTE="..."   a free-text note saved in the JSON (what build, what changed)
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync, readFileSync } from "node:fs";
import { tmpdir, cpus, release, loadavg, totalmem } from "node:os";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ProcessGroup, ensureTools, cpuLayout, versionOf, sleep } from "./lib/procs.mjs";
import { startStack, sanityCheck, SUBJECTS, referenceRelay, switchyardCli } from "./lib/stack.mjs";
import { runWrk } from "./lib/wrk.mjs";
import { summarize, judgeBar, markdown, SCENARIOS } from "./lib/stats.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

const quick = process.env.BENCH_QUICK === "1";
const num = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${v}")`);
  return n;
};
const durationS = Math.round(num("BENCH_DURATION", quick ? 1 : 3));
const rounds = Math.round(num("BENCH_ROUNDS", quick ? 1 : 5));
const warmupS = Math.round(num("BENCH_WARMUP", quick ? 1 : 2));
const CONNECTIONS = [1, 64];
const SCENARIO_KEYS = Object.keys(SCENARIOS);

const group = new ProcessGroup(null);
let tmp = null;
let fatal = null;
let interrupted = false;

/** Stops every process started; keeps the temp dir (configs, logs) only after a failure. */
async function cleanup() {
  await group.stopAll();
  if (tmp !== null && (fatal === null || interrupted)) rmSync(tmp, { recursive: true, force: true });
}
process.on("exit", () => group.killAllNow());
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    log(`${sig}: stopping every process started`);
    interrupted = true;
    fatal = new Error(sig);
    cleanup().finally(() => process.exit(130));
  });
}

function machineInfo() {
  const git = (args) => {
    try {
      return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return null;
    }
  };
  return {
    node: process.version,
    cpu_model: cpus()[0]?.model ?? "unknown",
    nproc: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    wrk: versionOf("wrk", ["-v"]),
    nginx: versionOf("nginx", ["-v"]),
    switchyard: JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")).version,
    git_commit: git(["rev-parse", "HEAD"]),
    git_dirty: (git(["status", "--porcelain", "--untracked-files=no"]) ?? "") !== "",
    loadavg_start: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function main() {
  if (!existsSync(`${ROOT}dist/cli.js`)) throw new Error("dist/cli.js is missing: run `npm run build` (npm run bench does)");
  ensureTools(log);
  const layout = cpuLayout();
  const pinning = layout.pinned
    ? `Pinned with taskset: proxy under test on CPU ${layout.proxy}, wrk on CPU ${layout.wrk}, upstream nginx on CPU ${layout.upstream} (same for every subject).`
    : "Not pinned.";
  tmp = mkdtempSync(`${tmpdir()}/switchyard-bench-`);
  group.logDir = tmp;
  group.onUnexpectedExit = (p) => {
    fatal ??= new Error(`${p.name} exited unexpectedly (${JSON.stringify(p.exited)}); log ${p.logFile}:\n${group.tail(p)}`);
  };
  const machine = machineInfo();
  log(`node ${machine.node}, ${machine.cpu_model} × ${machine.nproc}, ${machine.wrk.split(" ")[1] ?? "wrk"}, ${machine.nginx}`);
  log(pinning);
  log(
    `${rounds} round(s) × ${SCENARIO_KEYS.length} scenarios × ${CONNECTIONS.length} connection counts × ${SUBJECTS.length} subjects × ${durationS} s (+ ${warmupS} s warm-up each)`,
  );

  const { subjects } = await startStack(group, tmp, layout);
  await sanityCheck(subjects);
  log("sanity check passed: every subject answers both scenarios 3 times on one kept-alive connection with the upstream's exact body");

  const wrkRun = (subject, scenario, connections, seconds) => {
    if (fatal) throw fatal;
    return runWrk(group, {
      url: subjects[subject][scenario],
      scenario,
      connections,
      threads: connections === 1 ? 1 : layout.wrkThreads64,
      durationS: seconds,
      cpu: layout.wrk,
    });
  };

  for (const subject of SUBJECTS) {
    for (const scenario of SCENARIO_KEYS) {
      const w = await wrkRun(subject, scenario, 64, warmupS);
      if (w.non2xx + w.socket_errors > 0)
        log(`warning: warm-up ${subject} ${scenario}: ${w.non2xx} non-2xx, ${w.socket_errors} socket errors`);
    }
  }
  log("warm-up done");

  const results = [];
  const started = Date.now();
  for (let r = 0; r < rounds; r++) {
    const order = SUBJECTS.map((_, i) => SUBJECTS[(i + r) % SUBJECTS.length]);
    const runs = [];
    for (const scenario of SCENARIO_KEYS) {
      for (const connections of CONNECTIONS) {
        for (const subject of order) {
          const w = await wrkRun(subject, scenario, connections, durationS);
          runs.push({ scenario, connections, subject, ...w });
          if (w.non2xx + w.socket_errors > 0)
            log(`warning: ${subject} ${scenario} c=${connections}: ${w.non2xx} non-2xx, ${w.socket_errors} socket errors`);
          await sleep(200);
        }
      }
    }
    results.push({ round: r + 1, order, loadavg: loadavg().map((x) => Math.round(x * 100) / 100), runs });
    const sw = runs.find((x) => x.subject === "switchyard" && x.scenario === "get" && x.connections === 64);
    const ref = runs.find((x) => x.subject === "reference" && x.scenario === "get" && x.connections === 64);
    log(
      `round ${r + 1}/${rounds} done (${Math.round((Date.now() - started) / 1000)} s): GET c=64 Switchyard ${Math.round(sw.rps)} req/s, reference ${Math.round(ref.rps)} req/s`,
    );
  }

  const cases = summarize(results, SCENARIO_KEYS, CONNECTIONS, SUBJECTS);
  const bar = judgeBar(cases);
  const machineLine = `node ${machine.node}, ${machine.cpu_model}, ${machine.nproc} CPUs`;
  const table = markdown(cases, bar, { rounds, durationS, subjects: SUBJECTS, machine: machineLine, pinning, referenceRelay });
  machine.loadavg_end = loadavg().map((x) => Math.round(x * 100) / 100);

  const date = new Date().toISOString().slice(0, 10);
  const out = process.env.BENCH_OUT || `${ROOT}bench/results/${date}${quick ? "-quick" : ""}.json`;
  mkdirSync(fileURLToPath(new URL(".", `file://${out}`)), { recursive: true });
  const doc = {
    date,
    finished_at: new Date().toISOString(),
    quick,
    note: process.env.BENCH_NOTE || null,
    settings: {
      duration_s: durationS,
      rounds,
      warmup_s: warmupS,
      connections: CONNECTIONS,
      wrk_threads: { 1: 1, 64: layout.wrkThreads64 },
      upstreams: 2,
      upstream: "nginx, 1 worker, `return 200 '<fixed JSON>'` on two ports",
      scenarios: Object.fromEntries(SCENARIO_KEYS.map((k) => [k, `${SCENARIOS[k].label}: ${SCENARIOS[k].detail}`])),
      pinning: layout,
      switchyard_log: "info (access log on, stdout to /dev/null)",
      switchyard_cli: switchyardCli,
      reference_relay: referenceRelay,
    },
    machine,
    bar,
    cases,
    rounds: results,
    table_markdown: table,
  };
  const tidy = (_k, v) => (typeof v === "number" && !Number.isInteger(v) ? Math.round(v * 1e4) / 1e4 : v);
  writeFileSync(out, `${JSON.stringify(doc, tidy, 2)}\n`);
  process.stdout.write(`\n${table}\n\nResults: ${out}\n`);
}

main()
  .then(cleanup)
  .catch(async (err) => {
    if (interrupted) return; // the signal handler cleans up and exits
    fatal ??= err;
    log(`failed: ${err.stack ?? err.message}`);
    if (fatal !== err) log(`cause: ${fatal.message}`);
    await group.stopAll();
    if (tmp) log(`logs kept in ${tmp}`);
    process.exitCode = 1;
  });
