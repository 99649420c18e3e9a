/**
 * Medians over rounds, same-round ratios, the bar, and the markdown table.
 *
 * Ratios and "added p50" are computed inside each round first (Switchyard and the reference ran
 * back to back under the same background noise) and the median over rounds is reported; the
 * per-subject figures are plain medians over rounds.
 */

export const SCENARIOS = {
  get: { label: "GET /hello", detail: "REST route (Switchyard: /rest/bench/hello)" },
  chat: { label: "POST chat", detail: "OpenAI chat completion, JSON parsed by Switchyard" },
};

/** The bar from the issue: GET, 64 connections, throughput ≥ 0.9 × reference (the architecture issue raised it from 0.7); GET, 1 connection, added p50 within 0.2 ms of the reference's. */
export const BAR = { minRpsRatio64: 0.9, maxAddedP50DiffMs1: 0.2, minObservabilityRatio64: 0.9, minKeysRatio64: 0.9 };

export function median(xs) {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** rounds: [{ round, order, runs: [{ scenario, connections, subject, rps, p50_ms, p99_ms, non2xx, socket_errors }] }] */
export function summarize(rounds, scenarios, connectionsList, subjects) {
  const cases = [];
  for (const scenario of scenarios) {
    for (const connections of connectionsList) {
      const perRound = rounds.map((r) => {
        const by = {};
        for (const run of r.runs) if (run.scenario === scenario && run.connections === connections) by[run.subject] = run;
        return by;
      });
      const subj = {};
      for (const s of subjects) {
        const runs = perRound.map((b) => b[s]).filter(Boolean);
        subj[s] = {
          rps: median(runs.map((x) => x.rps)),
          p50_ms: median(runs.map((x) => x.p50_ms)),
          p99_ms: median(runs.map((x) => x.p99_ms)),
          errors: runs.reduce((a, x) => a + x.non2xx + x.socket_errors, 0),
          added_p50_ms: median(perRound.filter((b) => b[s] && b.direct).map((b) => b[s].p50_ms - b.direct.p50_ms)),
        };
      }
      const both = (a, b) => perRound.filter((x) => x[a] && x[b]);
      cases.push({
        scenario,
        connections,
        subjects: subj,
        ratios: {
          switchyard_over_reference_rps: median(both("switchyard", "reference").map((b) => b.switchyard.rps / b.reference.rps)),
          switchyard_over_nginx_rps: median(both("switchyard", "nginx").map((b) => b.switchyard.rps / b.nginx.rps)),
          reference_over_nginx_rps: median(both("reference", "nginx").map((b) => b.reference.rps / b.nginx.rps)),
          switchyard_minus_reference_p50_ms: median(both("switchyard", "reference").map((b) => b.switchyard.p50_ms - b.reference.p50_ms)),
          observability_on_over_off_rps: median(
            both("switchyard", "switchyard-quiet").map((b) => b.switchyard.rps / b["switchyard-quiet"].rps),
          ),
          keys_on_over_off_rps: median(both("switchyard-keys", "switchyard").map((b) => b["switchyard-keys"].rps / b.switchyard.rps)),
        },
      });
    }
  }
  return cases;
}

export function judgeBar(cases) {
  const get64 = cases.find((c) => c.scenario === "get" && c.connections === 64);
  const get1 = cases.find((c) => c.scenario === "get" && c.connections === 1);
  const rpsRatio = get64?.ratios.switchyard_over_reference_rps ?? null;
  const p50Diff = get1?.ratios.switchyard_minus_reference_p50_ms ?? null;
  const swErrors = cases.reduce((a, c) => a + (c.subjects.switchyard?.errors ?? 0), 0);
  const throughput = {
    rule: `GET, 64 connections: Switchyard req/s ≥ ${BAR.minRpsRatio64} × reference`,
    value: rpsRatio,
    pass: rpsRatio !== null && rpsRatio >= BAR.minRpsRatio64,
  };
  const latency = {
    rule: `GET, 1 connection: Switchyard added p50 ≤ reference added p50 + ${BAR.maxAddedP50DiffMs1} ms`,
    value_ms: p50Diff,
    pass: p50Diff !== null && p50Diff <= BAR.maxAddedP50DiffMs1,
  };
  const errors = { rule: "no non-2xx responses or socket errors through Switchyard", value: swErrors, pass: swErrors === 0 };
  const obsRatio = get64?.ratios.observability_on_over_off_rps ?? null;
  const observability = {
    rule: `GET, 64 connections: metrics + usage ledger + access log on ≥ ${BAR.minObservabilityRatio64} × the same build with them off`,
    value: obsRatio,
    pass: obsRatio === null || obsRatio >= BAR.minObservabilityRatio64,
  };
  // The front door is judged where it costs most: the chat scenario counts tokens, GET does not.
  const keyRatios = cases.filter((c) => c.connections === 64).map((c) => c.ratios.keys_on_over_off_rps);
  const keysRatio = keyRatios.some((r) => r === null || r === undefined) ? null : Math.min(...keyRatios);
  const keys = {
    rule: `GET and chat, 64 connections: client key + request, token and parallel limits on ≥ ${BAR.minKeysRatio64} × the same build with them off (the lower of the two)`,
    value: keysRatio,
    pass: keysRatio === null || keysRatio >= BAR.minKeysRatio64,
  };
  return {
    throughput,
    latency,
    errors,
    observability,
    keys,
    pass: throughput.pass && latency.pass && errors.pass && observability.pass && keys.pass,
  };
}

const LABEL = {
  direct: "direct",
  nginx: "nginx",
  reference: "reference proxy",
  switchyard: "**Switchyard**",
  "switchyard-quiet": "Switchyard, metrics + ledger + access log off",
  "switchyard-keys": "Switchyard, client key + limits on",
};
const f = (x, d) => (x === null || x === undefined ? "—" : x.toFixed(d));
const rps = (x) => (x === null || x === undefined ? "—" : Math.round(x).toLocaleString("en-US"));
const signed = (x) => (x === null || x === undefined ? "—" : `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(3)}`);

export function markdown(cases, bar, meta) {
  const lines = [];
  lines.push(
    `Medians over ${meta.rounds} interleaved round${meta.rounds === 1 ? "" : "s"} of ${meta.durationS} s per subject; ${meta.machine}. ${meta.pinning} Upstream: nginx returning a fixed JSON body on two ports; every proxy balances round-robin over both. Reference proxy relays with ${meta.referenceRelay === "pipeline" ? "stream.pipeline()" : "readable.pipe()"}.`,
  );
  lines.push("");
  lines.push("| scenario | conns | subject | req/s | p50 ms | p99 ms | added p50 ms |");
  lines.push("| --- | ---: | --- | ---: | ---: | ---: | ---: |");
  for (const c of cases) {
    for (const s of meta.subjects) {
      const x = c.subjects[s];
      if (!x) continue;
      const err = x.errors > 0 ? ` ⚠ ${x.errors} errors` : "";
      lines.push(
        `| ${SCENARIOS[c.scenario].label} | ${c.connections} | ${LABEL[s]}${err} | ${rps(x.rps)} | ${f(x.p50_ms, 3)} | ${f(x.p99_ms, 3)} | ${s === "direct" ? "" : signed(x.added_p50_ms)} |`,
      );
    }
  }
  lines.push("");
  lines.push(
    "| scenario | conns | Switchyard / reference req/s | Switchyard / nginx req/s | reference / nginx req/s | added p50 Switchyard − reference ms | observability on / off req/s | keys + limits on / off req/s |",
  );
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const c of cases) {
    const r = c.ratios;
    lines.push(
      `| ${SCENARIOS[c.scenario].label} | ${c.connections} | ${f(r.switchyard_over_reference_rps, 2)}× | ${f(r.switchyard_over_nginx_rps, 2)}× | ${f(r.reference_over_nginx_rps, 2)}× | ${signed(r.switchyard_minus_reference_p50_ms)} | ${f(r.observability_on_over_off_rps, 2)}× | ${f(r.keys_on_over_off_rps, 2)}× |`,
    );
  }
  lines.push("");
  const mark = (p) => (p ? "pass" : "FAIL");
  lines.push(
    `Bar: ${mark(bar.pass)} — throughput ${f(bar.throughput.value, 2)}× reference at 64 connections (≥ ${BAR.minRpsRatio64}: ${mark(bar.throughput.pass)}); added p50 ${signed(bar.latency.value_ms)} ms vs the reference at 1 connection (≤ +${BAR.maxAddedP50DiffMs1}: ${mark(bar.latency.pass)}); observability on / off ${f(bar.observability.value, 2)}× (≥ ${BAR.minObservabilityRatio64}: ${mark(bar.observability.pass)}); keys + limits on / off ${f(bar.keys.value, 2)}× (≥ ${BAR.minKeysRatio64}: ${mark(bar.keys.pass)}); errors through Switchyard: ${bar.errors.value}.`,
  );
  return lines.join("\n");
}
