import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { tracingSchema } from "../../src/config/telemetry-schema.js";
import { disableTracing } from "../../src/core/tracing.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { setupTracing, type Tracing } from "../../src/telemetry/tracing.js";
import { chatBody, startGateway } from "../helpers/harness.js";
import { call } from "../helpers/http.js";
import { simRoute } from "../helpers/sim-route.js";
import { eventually } from "../helpers/wait.js";

const log = createLogger("silent");
const CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID = "00f067aa0ba902b7";
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`;

let exporter: InMemorySpanExporter;
let tracing: Tracing | undefined;

/** Tracing on, every span straight into an in-memory exporter. */
async function traced(): Promise<void> {
  exporter = new InMemorySpanExporter();
  tracing = await setupTracing(tracingSchema.parse({ enabled: true }), log, { exporter });
}

afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
  disableTracing();
  trace.disable();
  propagation.disable();
});

/** The spans once the request's SERVER span ended (it ends last), in the order they ended. */
async function spans(count: number): Promise<ReadableSpan[]> {
  await eventually(() => exporter.getFinishedSpans().length >= count, 3000, `${count} spans`);
  return exporter.getFinishedSpans();
}

function assertNoSecret(all: ReadableSpan[], secret: string): void {
  for (const s of all) {
    const text = JSON.stringify({ name: s.name, attributes: s.attributes, status: s.status, resource: s.resource.attributes });
    assert.ok(!text.includes(secret), `span ${s.name} carries the key: ${text}`);
  }
}

/** An OpenAI-shaped upstream that records each request's headers; `fail` answers 500 instead. */
async function recordingUpstream(fail = false): Promise<{ url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (fail) {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { message: "boom", type: "server_error" } }));
        return;
      }
      res.end(
        JSON.stringify({
          id: "chatcmpl-1",
          object: "chat.completion",
          created: 1,
          model: "gpt-4o",
          choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("a chat request makes one SERVER span and one CLIENT span under it, with the GenAI attributes and token usage", async () => {
  await traced();
  const f = await simRoute({ sims: [{ dialect: "openai" }], target: [{ id: "oai", model: "gpt-4o", key: "sk-sim-secret-0001" }] });
  try {
    const r = await call(`${f.url}/v1/chat/completions`, { body: chatBody("demo") });
    assert.equal(r.status, 200);
    const all = await spans(2);
    assert.equal(all.length, 2);
    const server = all.find((s) => s.kind === SpanKind.SERVER)!;
    const client = all.find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(server.name, "chat demo");
    assert.equal(client.name, "chat gpt-4o");
    assert.equal(client.parentSpanContext?.spanId, server.spanContext().spanId);
    assert.equal(client.spanContext().traceId, server.spanContext().traceId);
    assert.equal(server.parentSpanContext, undefined, "no traceparent from the client: a root span");

    const usage = r.json.usage;
    assert.deepEqual(
      {
        op: server.attributes["gen_ai.operation.name"],
        requestModel: server.attributes["gen_ai.request.model"],
        responseModel: server.attributes["gen_ai.response.model"],
        system: server.attributes["gen_ai.system"],
        input: server.attributes["gen_ai.usage.input_tokens"],
        output: server.attributes["gen_ai.usage.output_tokens"],
        status: server.attributes["http.response.status_code"],
        route: server.attributes["switchyard.route"],
        target: server.attributes["switchyard.target"],
      },
      {
        op: "chat",
        requestModel: "demo",
        responseModel: "gpt-4o",
        system: "openai",
        input: usage.prompt_tokens,
        output: usage.completion_tokens,
        status: 200,
        route: "chat",
        target: "oai",
      },
    );
    assert.ok((server.attributes["switchyard.cost_usd"] as number) > 0, "gpt-4o has a listed price");
    assert.equal(server.status.code, SpanStatusCode.UNSET);

    assert.deepEqual(
      {
        system: client.attributes["gen_ai.system"],
        op: client.attributes["gen_ai.operation.name"],
        requestModel: client.attributes["gen_ai.request.model"],
        address: client.attributes["server.address"],
        status: client.attributes["http.response.status_code"],
        attempt: client.attributes["switchyard.attempt"],
        outcome: client.attributes["switchyard.outcome"],
        hedge: client.attributes["switchyard.hedge"],
        target: client.attributes["switchyard.target"],
      },
      {
        system: "openai",
        op: "chat",
        requestModel: "gpt-4o",
        address: "127.0.0.1",
        status: 200,
        attempt: 1,
        outcome: "ok",
        hedge: false,
        target: "oai",
      },
    );
    assert.equal(client.status.code, SpanStatusCode.UNSET);
    assertNoSecret(all, "sk-sim-secret-0001");
    assert.equal(all[0]!.resource.attributes["service.name"], "switchyard");
  } finally {
    await f.close();
  }
});

test("failover: a 500 then an answer make two attempt spans under one request span, the first ERROR with outcome server_error", async () => {
  await traced();
  const f = await simRoute({
    sims: [
      { dialect: "openai", error_rate: 1 },
      { dialect: "openai", error_rate: 0 },
    ],
    route: { strategy: "tiered", retry: { attempts: 2 } },
    target: (_, i) => ({ tier: i + 1, key: `sk-failover-key-000${i}` }),
  });
  try {
    const r = await call(`${f.url}/v1/chat/completions`, { body: chatBody("demo") });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-switchyard-target"], "t1");
    const all = await spans(3);
    assert.equal(all.length, 3);
    const server = all.find((s) => s.kind === SpanKind.SERVER)!;
    const attempts = all
      .filter((s) => s.kind === SpanKind.CLIENT)
      .sort((a, b) => Number(a.attributes["switchyard.attempt"]) - Number(b.attributes["switchyard.attempt"]));
    assert.equal(attempts.length, 2);
    for (const a of attempts)
      assert.equal(a.parentSpanContext?.spanId, server.spanContext().spanId, "every attempt is a child of the request span");
    const [first, second] = attempts as [ReadableSpan, ReadableSpan];
    assert.equal(first.attributes["switchyard.target"], "t0");
    assert.equal(first.attributes["switchyard.outcome"], "server_error");
    assert.equal(first.attributes["http.response.status_code"], 500);
    assert.equal(first.status.code, SpanStatusCode.ERROR);
    assert.match(first.status.message ?? "", /500/);
    assert.equal(second.attributes["switchyard.target"], "t1");
    assert.equal(second.attributes["switchyard.attempt"], 2);
    assert.equal(second.attributes["switchyard.outcome"], "ok");
    assert.equal(second.status.code, SpanStatusCode.UNSET);
    assert.equal(server.attributes["switchyard.target"], "t1");
    assert.equal(server.attributes["switchyard.attempts"], 2);
    assert.equal(server.status.code, SpanStatusCode.UNSET, "the request was answered");
    assertNoSecret(all, "sk-failover-key-0000");
    assertNoSecret(all, "sk-failover-key-0001");
  } finally {
    await f.close();
  }
});

test("a request whose every attempt failed ends its span with ERROR and the last attempt's detail", async () => {
  await traced();
  const up = await recordingUpstream(true);
  const gw = await startGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        retry: { attempts: 1 },
        targets: [{ id: "bad", provider: "openai", base_url: up.url, key: "sk-always-fails-01" }],
      },
    ],
  });
  try {
    const r = await call(`${gw.url}/v1/chat/completions`, { body: chatBody("demo") });
    assert.equal(r.status, 502);
    const all = await spans(2);
    const server = all.find((s) => s.kind === SpanKind.SERVER)!;
    assert.equal(server.status.code, SpanStatusCode.ERROR);
    assert.match(server.status.message ?? "", /^upstream_error: .*500/);
    assert.equal(server.attributes["error.type"], "upstream_error");
    assert.equal(server.attributes["http.response.status_code"], 502);
    assertNoSecret(all, "sk-always-fails-01");
  } finally {
    await gw.close();
    await up.close();
  }
});

test("the upstream gets a traceparent of the attempt span, in the client's trace, and the client's tracestate", async () => {
  await traced();
  const up = await recordingUpstream();
  const gw = await startGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "rec", provider: "openai", base_url: up.url, key: "sk-recorded-key-01" }],
      },
    ],
  });
  try {
    const r = await call(`${gw.url}/v1/chat/completions`, {
      body: chatBody("demo"),
      headers: { traceparent: CLIENT_TRACEPARENT, tracestate: "vendor=abc" },
    });
    assert.equal(r.status, 200);
    const all = await spans(2);
    const server = all.find((s) => s.kind === SpanKind.SERVER)!;
    const client = all.find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(server.spanContext().traceId, CLIENT_TRACE_ID, "the request span continues the client's trace");
    assert.equal(server.parentSpanContext?.spanId, CLIENT_SPAN_ID);
    assert.equal(up.seen.length, 1);
    const h = up.seen[0]!;
    const [version, traceId, parentId, flags] = String(h.traceparent).split("-");
    assert.equal(version, "00");
    assert.equal(traceId, CLIENT_TRACE_ID);
    assert.equal(parentId, client.spanContext().spanId, "the upstream's parent is the attempt span");
    assert.equal(flags, "01");
    assert.equal(h.tracestate, "vendor=abc");
    assert.equal(h.authorization, "Bearer sk-recorded-key-01", "the key went upstream, and only there");
    assert.equal(server.attributes["gen_ai.usage.input_tokens"], 11);
    assert.equal(server.attributes["gen_ai.usage.output_tokens"], 7);
    assertNoSecret(all, "sk-recorded-key-01");
  } finally {
    await gw.close();
    await up.close();
  }
});

test("with tracing off the client's traceparent and tracestate reach the upstream unchanged", async () => {
  assert.equal(await setupTracing(tracingSchema.parse({}), log), undefined, "disabled by default");
  const up = await recordingUpstream();
  const gw = await startGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "rec", provider: "openai", base_url: up.url, key: "sk-recorded-key-02" }],
      },
    ],
  });
  try {
    const r = await call(`${gw.url}/v1/chat/completions`, {
      body: chatBody("demo"),
      headers: { traceparent: CLIENT_TRACEPARENT, tracestate: "vendor=abc" },
    });
    assert.equal(r.status, 200);
    assert.equal(up.seen[0]?.traceparent, CLIENT_TRACEPARENT);
    assert.equal(up.seen[0]?.tracestate, "vendor=abc");
    const r2 = await call(`${gw.url}/v1/chat/completions`, { body: chatBody("demo") });
    assert.equal(r2.status, 200);
    assert.equal(up.seen[1]?.traceparent, undefined, "none made up when the client sent none");
  } finally {
    await gw.close();
    await up.close();
  }
});

test("exporter none without a host SDK: no spans recorded, the upstream gets the client's trace context", async () => {
  tracing = await setupTracing(tracingSchema.parse({ enabled: true, exporter: "none" }), log);
  const up = await recordingUpstream();
  const gw = await startGateway({
    routes: [
      {
        name: "chat",
        surface: "openai",
        models: ["demo"],
        targets: [{ id: "rec", provider: "openai", base_url: up.url, key: "sk-recorded-key-03" }],
      },
    ],
  });
  try {
    const r = await call(`${gw.url}/v1/chat/completions`, { body: chatBody("demo"), headers: { traceparent: CLIENT_TRACEPARENT } });
    assert.equal(r.status, 200);
    assert.equal(up.seen[0]?.traceparent, CLIENT_TRACEPARENT);
  } finally {
    await gw.close();
    await up.close();
  }
});

test("a REST request's spans are named by method and mount, without GenAI attributes", async () => {
  await traced();
  const f = await simRoute({ sims: [{ dialect: "rest" }], route: { name: "quotes", surface: "rest", service: "quotes" } });
  try {
    const r = await call(`${f.url}/rest/quotes/v1/quote?symbol=IBM`);
    assert.equal(r.status, 200);
    const all = await spans(2);
    const server = all.find((s) => s.kind === SpanKind.SERVER)!;
    const client = all.find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(server.name, "GET /rest/quotes");
    assert.equal(server.attributes["http.route"], "/rest/quotes");
    assert.equal(client.name, "GET");
    assert.equal(client.attributes["switchyard.outcome"], "ok");
    for (const s of all)
      assert.equal(Object.keys(s.attributes).filter((k) => k.startsWith("gen_ai.")).length, 0, `${s.name} has no gen_ai.*`);
  } finally {
    await f.close();
  }
});
