/**
 * The Grafana dashboard in dashboards/ queries only metrics a running gateway exposes: every
 * metric name in every panel's PromQL (and the template variable's query) is declared in a real
 * scrape of /metrics.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { simRoute, type SimRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { call } from "../helpers/http.js";

interface Panel {
  title: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(new URL("../../dashboards/switchyard.json", import.meta.url), "utf8")) as {
  panels: Panel[];
  templating: { list: { query?: unknown }[] };
};

const METRIC = /\b((?:loadbalancer|switchyard|process|nodejs)_[a-z0-9_]+)\b/g;
const SUFFIXES = ["_bucket", "_count", "_sum"];

let f: SimRoute;
before(async () => {
  f = await simRoute({ sims: [{ dialect: "openai", latency_ms: 1 }] });
  await fire(f.url, 5, 1);
});
after(() => f.close());

test("every metric the dashboard queries exists in /metrics", async () => {
  const text = (await call(`${f.url}/metrics`)).text;
  const declared = new Set(
    [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap((m) => {
      const name = m[1] as string;
      return m[2] === "histogram" ? SUFFIXES.map((s) => name + s) : [name];
    }),
  );
  const exprs: { panel: string; expr: string }[] = [];
  for (const p of dashboard.panels) for (const t of p.targets ?? []) exprs.push({ panel: p.title, expr: t.expr });
  for (const v of dashboard.templating.list)
    if (typeof v.query === "string" && v.query.includes("(")) exprs.push({ panel: "variables", expr: v.query });
  assert.ok(exprs.length >= 25, `${exprs.length} queries`);
  const used = new Set<string>();
  for (const { panel, expr } of exprs) {
    const names = [...expr.matchAll(METRIC)].map((m) => m[1] as string);
    assert.ok(names.length > 0, `panel "${panel}" queries no metric: ${expr}`);
    for (const n of names) {
      used.add(n);
      assert.ok(declared.has(n), `panel "${panel}" queries ${n}, which /metrics does not have`);
    }
  }
  // and the documents' metrics are all on the dashboard
  for (const n of [
    "loadbalancer_requests_total",
    "loadbalancer_request_duration_seconds_bucket",
    "loadbalancer_backend_health",
    "loadbalancer_backend_response_time_ms",
    "loadbalancer_backend_error_rate",
    "loadbalancer_circuit_breaker_state",
    "loadbalancer_circuit_breaker_failures_total",
    "loadbalancer_request_cost_usd",
    "loadbalancer_response_quality_score",
  ])
    assert.ok(used.has(n), `the dashboard shows ${n}`);
});
