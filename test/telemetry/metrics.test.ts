/**
 * /metrics under simulator load: the production balancer's metrics carry the counts the
 * simulators saw (calls per target, errors), the breaker state after an outage, and the same
 * text is served on its own listener when metrics.port is set.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { simRoute, type SimRoute } from "../helpers/sim-route.js";
import { fire } from "../helpers/load.js";
import { call } from "../helpers/http.js";
import { one, parseProm, sum } from "../helpers/prom.js";
import { eventually } from "../helpers/wait.js";
import { freePort } from "../helpers/free-port.js";

let f: SimRoute;
let metricsPort = 0;
before(async () => {
  metricsPort = await freePort();
  f = await simRoute({
    sims: [
      { dialect: "openai", latency_ms: 2, seed: 1 },
      { dialect: "openai", latency_ms: 2, error_rate: 0.3, seed: 2 },
      { dialect: "openai", latency_ms: 2, seed: 3 },
    ],
    route: { strategy: "round-robin", retry: { attempts: 3 }, breaker: { open_s: 30, min_calls: 5, window_s: 10 } },
    target: (_s, i) => ({ model: "gpt-4o-mini", key: `sk-metrics-secret-${i}` }),
    config: { metrics: { port: metricsPort } },
  });
});
after(() => f.close());

const sim = (i: number) => {
  const s = f.sims[i];
  assert.ok(s, `sim ${i}`);
  return s;
};

const scrape = async (url: string) => {
  const r = await call(`${url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers["content-type"] ?? "", /^text\/plain/);
  return { samples: parseProm(r.text), text: r.text };
};

test("per target, loadbalancer_requests_total and its statuses are what each simulator saw", async () => {
  const shots = await fire(f.url, 300, 10);
  assert.equal(shots.filter((s) => s.status === 200).length, 300, "retries hide the flaky target's errors from clients");
  const { samples, text } = await scrape(f.url);
  let calls = 0;
  f.sims.forEach((sim, i) => {
    const seen = sim.stats();
    const id = `t${i}`;
    assert.equal(sum(samples, "loadbalancer_requests_total", { route: "chat", backend_id: id }), seen.requests, `${id} calls`);
    for (const [status, n] of Object.entries(seen.by_status))
      assert.equal(sum(samples, "loadbalancer_requests_total", { backend_id: id, status }), n, `${id} status ${status}`);
    assert.equal(sum(samples, "loadbalancer_request_duration_seconds_count", { backend_id: id }), seen.requests);
    calls += seen.requests;
  });
  const errors = sim(1).stats().by_status["500"] ?? 0;
  assert.ok(errors > 10, `the flaky sim failed ${errors} times`);
  assert.equal(sum(samples, "loadbalancer_circuit_breaker_failures_total", { backend_id: "t1" }), errors);
  assert.equal(sum(samples, "switchyard_attempts_total", { target: "t1", outcome: "server_error" }), errors);
  assert.equal(sum(samples, "switchyard_requests_total", { route: "chat", status: "200", method: "POST" }), 300);
  assert.equal(sum(samples, "switchyard_retries_total", { route: "chat" }), calls - 300);
  assert.equal(sum(samples, "switchyard_request_duration_seconds_count", { route: "chat" }), 300);
  assert.equal(sum(samples, "switchyard_gateway_overhead_seconds_count", { route: "chat" }), 300);
  assert.equal(sum(samples, "switchyard_time_to_first_byte_seconds_count", { route: "chat" }), 300);
  // tokens: the simulator answers 16 completion tokens per chat
  assert.equal(sum(samples, "switchyard_tokens_total", { route: "chat", model: "gpt-4o-mini", kind: "output" }), 300 * 16);
  // windowed stats of the route and each target
  assert.equal(one(samples, "switchyard_window_rate", { route: "chat", target: "", window: "1m", stat: "success_ratio" }), 1);
  assert.ok((one(samples, "switchyard_window_latency_seconds", { route: "chat", target: "t0", window: "5m", stat: "p99" }) ?? 0) > 0);
  // process metrics, and no key anywhere
  assert.ok(sum(samples, "process_resident_memory_bytes") > 0);
  for (let i = 0; i < 3; i++) assert.equal(text.includes(`sk-metrics-secret-${i}`), false, "no key in metrics");
});

test("an outage opens the breaker: state 1, health 0, the same as /admin/status; :metrics.port serves the same metrics", async () => {
  await sim(2).set({ down: true });
  await fire(f.url, 60, 4);
  await eventually(
    async () => one((await scrape(f.url)).samples, "loadbalancer_circuit_breaker_state", { route: "chat", backend_id: "t2" }) === 1,
    5000,
    "t2's breaker open in /metrics",
  );
  const { samples } = await scrape(f.url);
  assert.equal(one(samples, "loadbalancer_backend_health", { route: "chat", backend_id: "t2", backend_type: "openai" }), 0);
  assert.equal(one(samples, "loadbalancer_backend_health", { route: "chat", backend_id: "t0", backend_type: "openai" }), 1);
  assert.equal(sum(samples, "switchyard_available_targets", { route: "chat" }), 2);
  assert.ok(sum(samples, "loadbalancer_requests_total", { backend_id: "t2", status: "connection_failure" }) > 0);
  assert.ok(sum(samples, "switchyard_policy_transitions_total", { target: "t2", policy: "breaker", to: "open" }) >= 1);
  const status = (await f.gw.status()) as { routes: { targets: { id: string; breaker: { state: string } }[] }[] };
  const t2 = status.routes[0]?.targets.find((t) => t.id === "t2");
  assert.equal(t2?.breaker.state, "open");

  const own = await scrape(`http://127.0.0.1:${metricsPort}`);
  assert.equal(
    sum(own.samples, "loadbalancer_requests_total", { backend_id: "t0" }),
    sum((await scrape(f.url)).samples, "loadbalancer_requests_total", { backend_id: "t0" }),
  );
  const other = await call(`http://127.0.0.1:${metricsPort}/v1/chat/completions`, { body: { model: "demo" } });
  assert.equal(other.status, 404);
  await sim(2).set({ down: false });
});
