/**
 * One wrk run: `wrk -t T -c C -d Ds --latency -s <lua>` pinned to the wrk CPU(s). Figures come
 * from the WRK_JSON line that bench/wrk/report.lua prints (exact microseconds); wrk's own text
 * (Requests/sec, the --latency distribution) is parsed too as a cross-check and fallback.
 */
import { fileURLToPath } from "node:url";

const WRK_DIR = fileURLToPath(new URL("../wrk/", import.meta.url));

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses wrk's human output: Requests/sec and the 50% / 99% lines of --latency. */
export function parseWrkText(out) {
  const rps = /Requests\/sec:\s*([\d.]+)/.exec(out);
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
  };
  const non2xx = /Non-2xx or 3xx responses:\s*(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: rps ? Number(rps[1]) : null,
    p50_ms: pct(50),
    p99_ms: pct(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socket_errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

export async function runWrk(group, { url, scenario, connections, threads, durationS, cpu }) {
  const script = `${WRK_DIR}${scenario === "chat" ? "chat.lua" : "report.lua"}`;
  const args = ["-t", String(threads), "-c", String(connections), "-d", `${durationS}s`, "--timeout", "5s", "--latency", "-s", script, url];
  const { code, signal, out } = await group.run("wrk", "wrk", args, { cpu, timeoutMs: (durationS + 15) * 1000 });
  if (code !== 0) throw new Error(`wrk exited ${code ?? signal} for ${url}:\n${out}`);
  const text = parseWrkText(out);
  const line = /^WRK_JSON (\{.*\})$/m.exec(out);
  if (line !== null) {
    const j = JSON.parse(line[1]);
    const errors = j.errors.connect + j.errors.read + j.errors.write + j.errors.timeout;
    return {
      requests: j.requests,
      rps: j.requests / (j.duration_us / 1e6),
      p50_ms: j.p50_us / 1000,
      p90_ms: j.p90_us / 1000,
      p99_ms: j.p99_us / 1000,
      max_ms: j.max_us / 1000,
      non2xx: j.errors.status,
      socket_errors: errors,
      wrk_text_rps: text.rps,
    };
  }
  if (text.rps === null || text.p50_ms === null) throw new Error(`cannot parse wrk output for ${url}:\n${out}`);
  return {
    requests: null,
    rps: text.rps,
    p50_ms: text.p50_ms,
    p90_ms: null,
    p99_ms: text.p99_ms,
    max_ms: null,
    non2xx: text.non2xx,
    socket_errors: text.socket_errors,
    wrk_text_rps: text.rps,
  };
}

/**
 * Every subject loaded at once for `durationS` seconds, each by its own wrk at 64 connections on
 * the wrk CPU (bench/paired.mjs, bench/cache.mjs): the runs by subject name. A round whose wrk
 * output cannot be read is run again once.
 */
export async function runTogether(group, { subjects, names, scenario, durationS, cpu, log }, retry = true) {
  try {
    const runs = await Promise.all(
      names.map((n) => runWrk(group, { url: subjects[n][scenario], scenario, connections: 64, threads: 1, durationS, cpu })),
    );
    return Object.fromEntries(names.map((n, i) => [n, runs[i]]));
  } catch (err) {
    if (!retry) throw err;
    log(`a wrk run failed (${String(err.message).split("\n")[0]}); running the round again`);
    return runTogether(group, { subjects, names, scenario, durationS, cpu, log }, false);
  }
}
