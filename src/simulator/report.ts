/**
 * What a load run measured, and how it reads: the recorder collects one sample per request,
 * the report summarises (errors by kind, share per target from `x-switchyard-target`,
 * latency percentiles), and the formatters print the table and the live progress line.
 */

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface TargetShare {
  count: number;
  /** Percent of the responses that named a target. */
  percent: number;
}

export interface LoadReport {
  url: string;
  concurrency: number;
  durationMs: number;
  /** Requests finished (ok + failed). */
  total: number;
  /** 2xx with the whole body read. */
  ok: number;
  failed: number;
  /** By kind: `status_503`, `ECONNREFUSED`, `timeout`, `connection_closed`… */
  errors: Record<string, number>;
  /** By the `x-switchyard-target` response header. */
  targets: Record<string, TargetShare>;
  /** Whole-response time of 2xx answers, ms. */
  latency: LatencySummary;
  /** Time to response headers of 2xx answers, ms. */
  ttfb: LatencySummary;
  rps: number;
}

export interface LoadProgress {
  elapsedMs: number;
  total: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** Requests per second over the last progress interval. */
  rps: number;
  /** Latency percentiles of 2xx answers over the last progress interval, ms. */
  p50Ms: number;
  p99Ms: number;
  /** The same, as one printable line (no newline). */
  line: string;
}

export class LoadRecorder {
  total = 0;
  ok = 0;
  readonly errors = new Map<string, number>();
  readonly targets = new Map<string, number>();
  /** Latencies (ms) of 2xx answers, in completion order. */
  readonly latencies: number[] = [];
  readonly ttfbs: number[] = [];

  success(latencyMs: number, ttfbMs: number, target: string | undefined): void {
    this.total++;
    this.ok++;
    this.latencies.push(latencyMs);
    this.ttfbs.push(ttfbMs);
    if (target !== undefined) this.#target(target);
  }

  failure(kind: string, target: string | undefined): void {
    this.total++;
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
    if (target !== undefined) this.#target(target);
  }

  #target(t: string): void {
    this.targets.set(t, (this.targets.get(t) ?? 0) + 1);
  }

  report(url: string, concurrency: number, durationMs: number): LoadReport {
    let named = 0;
    for (const n of this.targets.values()) named += n;
    const targets: Record<string, TargetShare> = {};
    for (const [t, count] of [...this.targets].sort((a, b) => b[1] - a[1])) targets[t] = { count, percent: round1((count * 100) / named) };
    return {
      url,
      concurrency,
      durationMs: Math.round(durationMs),
      total: this.total,
      ok: this.ok,
      failed: this.total - this.ok,
      errors: Object.fromEntries([...this.errors].sort((a, b) => b[1] - a[1])),
      targets,
      latency: summarize(this.latencies),
      ttfb: summarize(this.ttfbs),
      rps: durationMs > 0 ? round1((this.total * 1000) / durationMs) : 0,
    };
  }
}

export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: round1(percentile(sorted, 50)),
    p95: round1(percentile(sorted, 95)),
    p99: round1(percentile(sorted, 99)),
    max: round1(sorted[sorted.length - 1] ?? 0),
    mean: round1(sum / sorted.length),
  };
}

/** Nearest-rank percentile of ascending samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? 0;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

const pct = (n: number, of: number): string => (of === 0 ? "0.0" : ((n * 100) / of).toFixed(1));

export function formatProgress(p: Omit<LoadProgress, "line">): string {
  return (
    `[${(p.elapsedMs / 1000).toFixed(1).padStart(6)} s] ${String(p.total).padStart(7)} done  ok ${String(p.ok).padStart(7)}` +
    `  failed ${String(p.failed).padStart(5)}  in flight ${String(p.inFlight).padStart(4)}  ${p.rps.toFixed(0).padStart(6)} req/s` +
    `  p50 ${p.p50Ms.toFixed(1)} ms  p99 ${p.p99Ms.toFixed(1)} ms`
  );
}

export function formatReport(r: LoadReport): string {
  const lines: string[] = [];
  lines.push(`load report: ${r.url}`);
  lines.push(`  requests   ${r.total} in ${(r.durationMs / 1000).toFixed(1)} s = ${r.rps} req/s, concurrency ${r.concurrency}`);
  lines.push(`  ok (2xx)   ${r.ok} (${pct(r.ok, r.total)} %)`);
  lines.push(`  failed     ${r.failed} (${pct(r.failed, r.total)} %)`);
  const kinds = Object.entries(r.errors);
  const width = Math.max(12, ...kinds.map(([k]) => k.length), ...Object.keys(r.targets).map((k) => k.length));
  for (const [kind, n] of kinds) lines.push(`    ${kind.padEnd(width)} ${String(n).padStart(7)}  ${pct(n, r.total).padStart(5)} %`);
  const targets = Object.entries(r.targets);
  if (targets.length > 0) {
    lines.push("  share per target (x-switchyard-target)");
    for (const [t, s] of targets)
      lines.push(`    ${t.padEnd(width)} ${String(s.count).padStart(7)}  ${s.percent.toFixed(1).padStart(5)} %`);
  }
  const row = (name: string, l: LatencySummary): string =>
    `  ${name} p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}  mean ${l.mean}`;
  lines.push(row("latency ms (2xx, whole response)", r.latency));
  lines.push(row("ttfb ms    (2xx, headers)      ", r.ttfb));
  return lines.join("\n");
}
