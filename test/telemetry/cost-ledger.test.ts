/**
 * Cost to the cent: known prices × the usage the providers report, for plain, streamed and
 * translated answers (and a streamed OpenAI answer whose client did not ask for usage: the
 * gateway asks, counts it, and keeps the usage chunk from the client). The ledger
 * (/admin/usage) and the metrics agree with the answers; after a restart of the gateway on the
 * same store, /admin/usage still reports it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimProvider, type SimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway, type RunningGateway } from "../helpers/harness.js";
import { call } from "../helpers/http.js";
import { parseSse } from "../helpers/sse.js";
import { parseProm, sum } from "../helpers/prom.js";
import type { ConfigInput } from "../../src/index.js";
import { startWebhookReceiver } from "../helpers/alert-receivers.js";
import { until } from "../helpers/wait.js";

let dir: string;
let oa: SimProvider;
let an: SimProvider;
let ge: SimProvider;
let config: ConfigInput;
let gw: RunningGateway;

/** Prices per 1M tokens, chosen so a few tokens make whole cents. */
const OA = { input: 1000, output: 3000 };
const AN = { input: 2000, output: 5000 };
const GE = { input: 1500, output: 4000 };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-cost-"));
  oa = await startSimProvider({ dialect: "openai", latency_ms: 1 });
  an = await startSimProvider({ dialect: "anthropic", latency_ms: 1 });
  ge = await startSimProvider({ dialect: "gemini", latency_ms: 1 });
  const oaTarget = {
    id: "oa",
    provider: "openai" as const,
    base_url: oa.url,
    key: "sk-cost-oa-0001",
    model: "gpt-x",
    cost: { input_per_1m: OA.input, output_per_1m: OA.output },
  };
  const anTarget = {
    id: "an",
    provider: "anthropic" as const,
    base_url: an.url,
    key: "sk-ant-cost-0002",
    model: "claude-x",
    cost: { input_per_1k: AN.input / 1000, output_per_1k: AN.output / 1000 },
  };
  config = {
    store: { path: join(dir, "switchyard.db") },
    usage: { flush_ms: 50 },
    routes: [
      { name: "oa", surface: "openai", models: ["m-oa"], targets: [oaTarget] },
      { name: "tr", surface: "openai", models: ["m-tr"], targets: [{ ...anTarget, id: "an-tr" }] },
      { name: "an", surface: "anthropic", models: ["m-an"], targets: [anTarget] },
      {
        name: "ge",
        surface: "gemini",
        models: ["m-ge"],
        targets: [
          {
            id: "ge",
            provider: "gemini",
            base_url: ge.url,
            key: "AIza-cost-0003",
            model: "gemini-x",
            cost: { input_per_1m: GE.input, output_per_1m: GE.output },
          },
        ],
      },
    ],
  };
  gw = await startGateway(config);
});
after(async () => {
  await gw.close();
  await oa.close();
  await an.close();
  await ge.close();
  rmSync(dir, { recursive: true, force: true });
});

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "What does a gateway cost?" }],
  ...extra,
});
const anthropicBody = (extra: Record<string, unknown> = {}) => ({
  model: "m-an",
  max_tokens: 64,
  messages: [{ role: "user", content: "What does a gateway cost?" }],
  ...extra,
});
const cost = (p: { input: number; output: number }, input: number, output: number) => (input * p.input + output * p.output) / 1e6;

interface Seen {
  route: string;
  usd: number;
  input: number;
  output: number;
}
const seen: Seen[] = [];

test("plain, streamed and translated answers: each request's cost is its usage × the target's prices", async () => {
  // OpenAI, plain: usage in the body
  const plain = await call(`${gw.url}/v1/chat/completions`, { body: chat("m-oa") });
  assert.equal(plain.status, 200);
  const u = plain.json.usage as { prompt_tokens: number; completion_tokens: number };
  seen.push({ route: "oa", usd: cost(OA, u.prompt_tokens, u.completion_tokens), input: u.prompt_tokens, output: u.completion_tokens });

  // OpenAI, streamed, the client asked for usage: the usage chunk reaches it
  const asked = await call(`${gw.url}/v1/chat/completions`, {
    body: chat("m-oa", { stream: true, stream_options: { include_usage: true } }),
  });
  const chunks = parseSse(asked.text)
    .filter((e) => e.data !== "[DONE]")
    .map((e) => JSON.parse(e.data) as { usage?: { prompt_tokens: number; completion_tokens: number } | null });
  const su = chunks.at(-1)?.usage;
  assert.ok(su, "the client that asked gets the usage chunk");
  seen.push({ route: "oa", usd: cost(OA, su.prompt_tokens, su.completion_tokens), input: su.prompt_tokens, output: su.completion_tokens });

  // OpenAI, streamed, the client did not ask: no usage chunk for it, but the gateway counts the cost
  const quiet = await call(`${gw.url}/v1/chat/completions`, { body: chat("m-oa", { stream: true }) });
  const quietChunks = parseSse(quiet.text)
    .filter((e) => e.data !== "[DONE]")
    .map((e) => JSON.parse(e.data) as { choices: unknown[]; usage?: unknown });
  assert.ok(quietChunks.length > 3);
  assert.ok(
    quietChunks.every((c) => c.choices.length > 0 && (c.usage === undefined || c.usage === null)),
    "no usage chunk the client did not ask for",
  );
  assert.equal(parseSse(quiet.text).at(-1)?.data, "[DONE]");
  seen.push({ route: "oa", usd: cost(OA, su.prompt_tokens, su.completion_tokens), input: su.prompt_tokens, output: su.completion_tokens });

  // Translated (OpenAI client, Anthropic target), plain and streamed
  const tr = await call(`${gw.url}/v1/chat/completions`, { body: chat("m-tr") });
  assert.equal(tr.status, 200);
  const tu = tr.json.usage as { prompt_tokens: number; completion_tokens: number };
  seen.push({ route: "tr", usd: cost(AN, tu.prompt_tokens, tu.completion_tokens), input: tu.prompt_tokens, output: tu.completion_tokens });
  const trs = await call(`${gw.url}/v1/chat/completions`, { body: chat("m-tr", { stream: true }) });
  assert.equal(trs.status, 200);
  seen.push({ route: "tr", usd: cost(AN, tu.prompt_tokens, tu.completion_tokens), input: tu.prompt_tokens, output: tu.completion_tokens });

  // Anthropic passed through, plain and streamed (input in message_start, output in message_delta)
  const ap = await call(`${gw.url}/v1/messages`, { body: anthropicBody() });
  assert.equal(ap.status, 200);
  const au = ap.json.usage as { input_tokens: number; output_tokens: number };
  seen.push({ route: "an", usd: cost(AN, au.input_tokens, au.output_tokens), input: au.input_tokens, output: au.output_tokens });
  const as = await call(`${gw.url}/v1/messages`, { body: anthropicBody({ stream: true }) });
  const start = parseSse(as.text).find((e) => e.event === "message_start");
  const delta = parseSse(as.text).find((e) => e.event === "message_delta");
  assert.ok(start && delta);
  const sIn = (JSON.parse(start.data) as { message: { usage: { input_tokens: number } } }).message.usage.input_tokens;
  const sOut = (JSON.parse(delta.data) as { usage: { output_tokens: number } }).usage.output_tokens;
  seen.push({ route: "an", usd: cost(AN, sIn, sOut), input: sIn, output: sOut });
  // Gemini passed through, plain and streamed (usageMetadata on each chunk, cumulative)
  const geBody = { contents: [{ role: "user", parts: [{ text: "What does a gateway cost?" }] }] };
  const gp = await call(`${gw.url}/v1beta/models/m-ge:generateContent`, { body: geBody });
  assert.equal(gp.status, 200, gp.text);
  const gu = gp.json.usageMetadata as { promptTokenCount: number; candidatesTokenCount: number };
  seen.push({
    route: "ge",
    usd: cost(GE, gu.promptTokenCount, gu.candidatesTokenCount),
    input: gu.promptTokenCount,
    output: gu.candidatesTokenCount,
  });
  const gs = await call(`${gw.url}/v1beta/models/m-ge:streamGenerateContent?alt=sse`, { body: geBody });
  assert.equal(gs.status, 200, gs.text);
  const lastMeta = parseSse(gs.text)
    .map((e) => JSON.parse(e.data) as { usageMetadata?: { promptTokenCount: number; candidatesTokenCount: number } })
    .filter((c) => c.usageMetadata !== undefined)
    .at(-1)?.usageMetadata;
  assert.ok(lastMeta, "the stream says its usage");
  seen.push({
    route: "ge",
    usd: cost(GE, lastMeta.promptTokenCount, lastMeta.candidatesTokenCount),
    input: lastMeta.promptTokenCount,
    output: lastMeta.candidatesTokenCount,
  });
  for (const s of seen) assert.ok(s.usd >= 0.01, `prices make cents (${s.route}: ${s.usd})`);
});

const expected = (route: string) => {
  const rows = seen.filter((s) => s.route === route);
  return {
    requests: rows.length,
    usd: rows.reduce((a, s) => a + s.usd, 0),
    input: rows.reduce((a, s) => a + s.input, 0),
    output: rows.reduce((a, s) => a + s.output, 0),
  };
};

async function usageByRoute(url: string) {
  const r = await call(`${url}/admin/usage?group_by=route`);
  assert.equal(r.status, 200, r.text);
  return r.json as {
    rows: { route: string; requests: number; errors: number; input_tokens: number; output_tokens: number; cost_usd: number }[];
    totals: { cost_usd: number };
  };
}

test("the ledger and the metrics report the same cost, to the cent", async () => {
  const usage = await usageByRoute(gw.url);
  const metrics = parseProm((await call(`${gw.url}/metrics`)).text);
  for (const route of ["oa", "tr", "an", "ge"]) {
    const want = expected(route);
    const row = usage.rows.find((r) => r.route === route);
    assert.ok(row, `a ledger row for ${route}`);
    assert.equal(row.requests, want.requests, `${route} requests`);
    assert.equal(row.errors, 0);
    assert.equal(row.input_tokens, want.input, `${route} input tokens`);
    assert.equal(row.output_tokens, want.output, `${route} output tokens`);
    assert.equal(Math.round(row.cost_usd * 100), Math.round(want.usd * 100), `${route} cost in cents`);
    assert.ok(Math.abs(row.cost_usd - want.usd) < 1e-6, `${route} ledger ${row.cost_usd} vs ${want.usd}`);
    assert.ok(Math.abs(sum(metrics, "switchyard_cost_usd_total", { route }) - want.usd) < 1e-9, `${route} metric`);
    assert.ok(Math.abs(sum(metrics, "loadbalancer_request_cost_usd", { route }) - want.usd) < 1e-9, `${route} lb metric`);
    assert.equal(sum(metrics, "switchyard_tokens_total", { route, kind: "output" }), want.output);
  }
  const total = seen.reduce((a, s) => a + s.usd, 0);
  assert.ok(Math.abs(usage.totals.cost_usd - total) < 1e-6);
  assert.equal(sum(metrics, "switchyard_tokens_total", { route: "oa", model: "gpt-x", kind: "input" }), expected("oa").input);
});

test("bad /admin/usage parameters get a clear 400", async () => {
  const r = await call(`${gw.url}/admin/usage?group_by=colour`);
  assert.equal(r.status, 400);
  assert.match(r.text, /group_by/);
});

test("after a restart on the same store, /admin/usage still reports the cost", async () => {
  const before = await usageByRoute(gw.url);
  await gw.close();
  gw = await startGateway(config);
  const afterRestart = await usageByRoute(gw.url);
  assert.deepEqual(
    afterRestart.rows.map((r) => [r.route, r.requests, r.cost_usd]).sort(),
    before.rows.map((r) => [r.route, r.requests, r.cost_usd]).sort(),
  );
  assert.ok(Math.abs(afterRestart.totals.cost_usd - seen.reduce((a, s) => a + s.usd, 0)) < 1e-6);
});

test("a daily_cost alert counts what the ledger holds for today: a restarted gateway over its threshold fires at once", async () => {
  const total = seen.reduce((a, s) => a + s.usd, 0);
  const hook = await startWebhookReceiver();
  try {
    await gw.close();
    gw = await startGateway({
      ...config,
      alerts: {
        channels: [{ type: "webhook", name: "ops", url: hook.url }],
        rules: [{ kind: "daily_cost", threshold: total / 2 }],
        evaluate_every_ms: 50,
      },
    });
    assert.ok(await until(() => hook.calls.length > 0, 3000), "the daily_cost alert fired without a new request");
    const body = hook.calls[0]?.body as { kind: string; status: string; value: number };
    assert.equal(body.kind, "daily_cost");
    assert.equal(body.status, "firing");
    assert.ok(Math.abs(body.value - total) < 1e-6, `today's spend ${body.value} is what the ledger holds (${total})`);
  } finally {
    await hook.close();
  }
});
