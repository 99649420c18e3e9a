/**
 * Batching of embedding requests end to end: the real gateway, the OpenAI simulator behind a
 * small recording server on port 0 (it sees every upstream call, forwards it to the simulator,
 * and fails, holds or hangs on cue). Every client's vectors are checked against a direct call to
 * the simulator for the same input.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConfigInput } from "../../src/index.js";
import type { RequestRecord } from "../../src/core/events.js";
import { EmbeddingBatcher } from "../../src/batch/embedding-batcher.js";
import { startSimProvider } from "../../src/simulator/sim-provider.js";
import { startGateway, type RunningGateway } from "../helpers/harness.js";
import { call, type Reply } from "../helpers/http.js";
import { parseProm, one } from "../helpers/prom.js";
import { eventually } from "../helpers/wait.js";

const MODEL = "text-embedding-3-small";
const KEY = "sk-sim-0001";

const sim = await startSimProvider({ dialect: "openai" });
after(() => sim.close());

/** What the recorder does with a call: forward it, answer 500, answer 500 to batches only, hold batches until released, never answer. */
type Mode = "pass" | "fail-all" | "fail-batches" | "hold-batches" | "hang";

interface Seen {
  input: string[];
  body: Record<string, unknown>;
  /** The usage of the simulator's answer (forwarded calls). */
  usage: { prompt_tokens: number; total_tokens: number } | null;
  /** The gateway closed the call before its answer. */
  aborted: boolean;
}

/** A node:http server in front of the simulator that records every upstream call. */
class Recorder {
  readonly seen: Seen[] = [];
  private readonly releases: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    public mode: Mode,
  ) {}

  static async start(mode: Mode = "pass"): Promise<Recorder> {
    const server = createServer();
    const r = new Recorder(server, mode);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void r.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Calls held now (hold-batches). */
  get held(): number {
    return this.releases.length;
  }

  release(): void {
    for (const r of this.releases.splice(0)) r();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += String(chunk);
    const body = JSON.parse(raw) as Record<string, unknown>;
    const input = typeof body.input === "string" ? [body.input] : (body.input as string[]);
    const seen: Seen = { input, body, usage: null, aborted: false };
    this.seen.push(seen);
    res.on("close", () => {
      if (!res.writableFinished) seen.aborted = true;
    });
    const batch = input.length > 1;
    if (this.mode === "hang") return;
    if (this.mode === "fail-all" || (this.mode === "fail-batches" && batch)) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "the recorder fails this call", type: "server_error", code: null } }));
      return;
    }
    if (this.mode === "hold-batches" && batch) await new Promise<void>((resolve) => this.releases.push(resolve));
    const up = await call(`${sim.url}/embeddings`, { body: raw, headers: { authorization: req.headers.authorization ?? "" } });
    seen.usage = up.json?.usage ?? null;
    res.writeHead(up.status, { "content-type": "application/json" });
    res.end(up.text);
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

type RouteInput = ConfigInput["routes"][number];

function embRoute(targets: Recorder[], extra: Partial<RouteInput> = {}): RouteInput {
  return {
    name: "emb",
    surface: "openai",
    models: [MODEL],
    batching: { window_ms: 1000, max_size: 64 },
    ...extra,
    targets: targets.map((r, i) => ({ id: `t${i}`, provider: "openai", base_url: r.url, key: KEY })),
  };
}

/** A gateway over these routes, with every request record it publishes. */
async function gatewayOf(routes: RouteInput[]): Promise<RunningGateway & { records: RequestRecord[] }> {
  const gw = await startGateway({ routes });
  const records: RequestRecord[] = [];
  gw.gateway.events.onRequest((r) => records.push(r));
  return Object.assign(gw, { records });
}

function embed(gw: RunningGateway, body: Record<string, unknown>): Promise<Reply> {
  return call(`${gw.url}/v1/embeddings`, { body: { model: MODEL, ...body } });
}

/** The simulator's own answer for one input, asked directly. */
async function direct(input: string | string[], extra: Record<string, unknown> = {}): Promise<number[][]> {
  const r = await call(`${sim.url}/embeddings`, { body: { model: MODEL, input, ...extra }, headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(r.status, 200);
  return (r.json.data as { embedding: number[] }[]).map((d) => d.embedding);
}

/** The client got exactly the vectors of its own inputs, indexed from 0. */
async function assertOwnVectors(r: Reply, input: string | string[], extra: Record<string, unknown> = {}): Promise<void> {
  assert.equal(r.status, 200, r.text);
  const expected = await direct(input, extra);
  const data = r.json.data as { index: number; embedding: number[] }[];
  assert.equal(data.length, expected.length);
  data.forEach((d, i) => {
    assert.equal(d.index, i);
    assert.deepEqual(d.embedding, expected[i], `vector ${i} of ${JSON.stringify(input)}`);
  });
  assert.equal(r.json.model, MODEL);
}

async function metricsOf(gw: RunningGateway) {
  return parseProm((await call(`${gw.url}/metrics`)).text);
}

test("64 concurrent single-input requests share at most 4 upstream calls; each client gets its own vector and its share of the usage", async () => {
  const rec = await Recorder.start();
  const gw = await gatewayOf([embRoute([rec])]);
  try {
    const inputs = Array.from({ length: 64 }, (_, i) => `sentence number ${i} ${"x".repeat(i % 7)}`);
    const replies = await Promise.all(inputs.map((input) => embed(gw, { input })));

    assert.ok(rec.seen.length >= 1 && rec.seen.length <= 4, `${rec.seen.length} upstream calls`);
    assert.deepEqual(rec.seen.flatMap((s) => s.input).sort(), [...inputs].sort());
    for (let i = 0; i < inputs.length; i++) {
      await assertOwnVectors(replies[i]!, inputs[i]!);
      assert.ok(Number(replies[i]!.headers["x-switchyard-batch"]) >= 2);
    }

    // Usage: the members' parts add up to what each batch call spent, exactly.
    const upstreamTokens = rec.seen.reduce((n, s) => n + s.usage!.prompt_tokens, 0);
    assert.equal(
      replies.reduce((n, r) => n + (r.json.usage.prompt_tokens as number), 0),
      upstreamTokens,
    );
    assert.equal(
      replies.reduce((n, r) => n + (r.json.usage.total_tokens as number), 0),
      rec.seen.reduce((n, s) => n + s.usage!.total_tokens, 0),
    );

    // One request record per client (none for the batch call), each charged its own share, against the target that answered.
    await eventually(() => gw.records.length >= 64, 3000, "the request records");
    assert.equal(gw.records.length, 64);
    for (const r of gw.records) {
      assert.equal(r.answeredBy, "batch");
      assert.equal(r.target, "t0");
      assert.equal(r.route, "emb");
    }
    assert.equal(
      gw.records.reduce((n, r) => n + (r.usage?.prompt_tokens ?? 0), 0),
      upstreamTokens,
    );

    const status = (await gw.status()).admission.batching.routes.emb;
    assert.equal(status.eligible, 64);
    assert.equal(status.batched, 64);
    assert.equal(status.batches, rec.seen.length);
    assert.equal(status.fallbacks, 0);
    assert.equal(status.rate, 1);
    assert.equal(status.window_ms, 1000);
    assert.equal(status.max_size, 64);

    const m = await metricsOf(gw);
    assert.equal(one(m, "switchyard_batch_eligible_requests_total", { route: "emb" }), 64);
    assert.equal(one(m, "switchyard_batched_requests_total", { route: "emb" }), 64);
    assert.equal(one(m, "switchyard_batch_calls_total", { route: "emb" }), rec.seen.length);
    assert.equal(one(m, "switchyard_batch_fallbacks_total", { route: "emb" }), 0);
    assert.equal(one(m, "switchyard_batched_ratio", { route: "emb" }), 1);
  } finally {
    await gw.close();
    await rec.close();
  }
});

test("requests with different dimensions never share a batch", async () => {
  const rec = await Recorder.start();
  const gw = await gatewayOf([embRoute([rec], { batching: { window_ms: 300, max_size: 64 } })]);
  try {
    const asks = [8, 16].flatMap((dimensions) => Array.from({ length: 6 }, (_, i) => ({ input: `d${dimensions}-${i}`, dimensions })));
    const replies = await Promise.all(asks.map((a) => embed(gw, a)));
    for (let i = 0; i < asks.length; i++) {
      const { input, dimensions } = asks[i]!;
      await assertOwnVectors(replies[i]!, input, { dimensions });
      assert.equal((replies[i]!.json.data[0].embedding as number[]).length, dimensions);
    }
    assert.ok(rec.seen.length >= 2);
    for (const s of rec.seen) for (const input of s.input) assert.ok(input.startsWith(`d${s.body.dimensions as number}-`), input);
    assert.ok(
      rec.seen.some((s) => s.input.length > 1),
      "some requests were batched",
    );
  } finally {
    await gw.close();
    await rec.close();
  }
});

test("max_size is respected: a request that would overflow a batch starts the next; one as large as max_size goes alone", async () => {
  const rec = await Recorder.start();
  const gw = await gatewayOf([embRoute([rec], { batching: { window_ms: 300, max_size: 4 } })]);
  try {
    const asks: string[][] = [["a0"], ["b0", "b1"], ["c0"], ["d0", "d1", "d2"], ["e0"], ["f0", "f1"], ["g0"]];
    const lone = ["big0", "big1", "big2", "big3", "big4"];
    const replies = await Promise.all([...asks, lone].map((input) => embed(gw, { input })));
    for (let i = 0; i < asks.length; i++) await assertOwnVectors(replies[i]!, asks[i]!);
    await assertOwnVectors(replies[asks.length]!, lone);

    for (const s of rec.seen) if (s.input.length > 4) assert.deepEqual(s.input, lone);
    assert.equal(rec.seen.filter((s) => s.input.length > 4).length, 1);
    // Every request's inputs went upstream together, in one call.
    for (const input of asks) assert.ok(rec.seen.some((s) => s.input.join().includes(input.join())));
    assert.equal(rec.seen.flatMap((s) => s.input).length, asks.flat().length + lone.length);
    // Batched: some call carried the inputs of several requests (a request's inputs share their first letter).
    assert.ok(
      rec.seen.some((s) => new Set(s.input.map((x) => x[0])).size > 1),
      "some requests were batched",
    );
  } finally {
    await gw.close();
    await rec.close();
  }
});

test("a batch the upstream answers 500 falls back to single calls, which succeed on another target", async () => {
  const failing = await Recorder.start("fail-all");
  const singlesOnly = await Recorder.start("fail-batches");
  const gw = await gatewayOf([embRoute([failing, singlesOnly], { batching: { window_ms: 1000, max_size: 4 }, retry: { attempts: 2 } })]);
  try {
    const inputs = ["one", "two", "three", "four"];
    const replies = await Promise.all(inputs.map((input) => embed(gw, { input })));
    for (let i = 0; i < inputs.length; i++) {
      await assertOwnVectors(replies[i]!, inputs[i]!);
      assert.equal(replies[i]!.headers["x-switchyard-target"], "t1");
      assert.equal(replies[i]!.headers["x-switchyard-batch"], undefined);
    }
    // The batch was tried (on both targets), then every request went alone.
    const batches = [...failing.seen, ...singlesOnly.seen].filter((s) => s.input.length > 1);
    assert.ok(batches.length >= 1);
    for (const b of batches) assert.deepEqual([...b.input].sort(), [...inputs].sort());
    assert.deepEqual(
      singlesOnly.seen
        .filter((s) => s.input.length === 1)
        .map((s) => s.input[0])
        .sort(),
      [...inputs].sort(),
    );

    const status = (await gw.status()).admission.batching.routes.emb;
    assert.deepEqual(
      { eligible: status.eligible, batched: status.batched, batches: status.batches, fallbacks: status.fallbacks, rate: status.rate },
      { eligible: 4, batched: 0, batches: 1, fallbacks: 4, rate: 0 },
    );
    assert.equal(one(await metricsOf(gw), "switchyard_batch_fallbacks_total", { route: "emb" }), 4);
  } finally {
    await gw.close();
    await failing.close();
    await singlesOnly.close();
  }
});

test("a member whose client left before the batch went out is dropped from it; one that leaves after does not disturb the others", async () => {
  const rec = await Recorder.start("hold-batches");
  const gw = await gatewayOf([embRoute([rec], { batching: { window_ms: 1000, max_size: 3 } })]);
  const request = (input: string, signal: AbortSignal) =>
    gw.gateway.request("emb", { endpoint: "embeddings", body: { model: MODEL, input }, signal }).catch((err: unknown) => err);
  try {
    // Before: the library call joins the batch at once (admission is synchronous for it), then leaves.
    const gone = new AbortController();
    const left = request("gone-before", gone.signal);
    assert.equal(EmbeddingBatcher.of(gw.gateway)?.routeCounts.get("emb")?.eligible, 1);
    gone.abort();
    const stayed = Promise.all(["b", "c"].map((input) => embed(gw, { input })));
    await eventually(() => rec.held === 1, 3000, "the batch call");
    rec.release();
    const [b, c] = await stayed;
    await assertOwnVectors(b!, "b");
    await assertOwnVectors(c!, "c");
    await left;
    assert.deepEqual(
      rec.seen.map((s) => s.input),
      [["b", "c"]],
    );

    // After: the batch call is out (held upstream) when one member leaves; the others get their vectors.
    const late = new AbortController();
    const leaving = request("gone-after", late.signal);
    const others = Promise.all(["e", "f"].map((input) => embed(gw, { input })));
    await eventually(() => rec.held === 1, 3000, "the second batch call");
    late.abort();
    rec.release();
    const [e, f] = await others;
    await leaving;
    await assertOwnVectors(e!, "e");
    await assertOwnVectors(f!, "f");
    assert.equal(rec.seen.length, 2);
    assert.deepEqual(rec.seen[1]!.input, ["gone-after", "e", "f"]);
    assert.equal(rec.seen[1]!.aborted, false);
  } finally {
    await gw.close();
    await rec.close();
  }
});

test("a batch call is cut off at its members' deadline (timeouts.total_ms)", async () => {
  const rec = await Recorder.start("hang");
  const gw = await gatewayOf([
    embRoute([rec], {
      batching: { window_ms: 50, max_size: 2 },
      timeouts: { total_ms: 1000, first_byte_ms: 5000 },
      retry: { attempts: 1 },
    }),
  ]);
  const batchAttempts: string[] = [];
  gw.gateway.events.onAttempt((a, ctx) => {
    if (Array.isArray(ctx.json?.input) && ctx.json.input.length > 1) batchAttempts.push(a.outcome.detail);
  });
  try {
    const replies = await Promise.all(["p", "q"].map((input) => embed(gw, { input })));
    // The batch call was ended by the deadline (not by its first-byte timeout, which comes later).
    assert.equal(batchAttempts.length, 1);
    assert.match(batchAttempts[0]!, /request deadline of 1000 ms passed/);
    for (const r of replies) {
      assert.equal(r.status, 504, r.text);
      assert.equal(r.json.error.code, "upstream_timeout");
    }
    assert.equal(rec.seen[0]!.input.length, 2);
    await eventually(() => rec.seen.every((s) => s.aborted), 3000, "the upstream calls to be aborted");
    const status = (await gw.status()).admission.batching.routes.emb;
    assert.equal(status.batches, 1);
    assert.equal(status.fallbacks, 2);
  } finally {
    await gw.close();
    await rec.close();
  }
});

test("a route without batching is untouched: its requests go one by one; a gateway where no route batches has no batching step until a change adds one", async () => {
  const batched = await Recorder.start();
  const plain = await Recorder.start();
  const gw = await gatewayOf([
    embRoute([batched]),
    {
      name: "plain",
      surface: "openai",
      models: ["plain-embed"],
      targets: [{ id: "p0", provider: "openai", base_url: plain.url, key: KEY, model: MODEL }],
    },
  ]);
  const none = await startGateway({ routes: [{ ...embRoute([plain]), batching: undefined }] });
  try {
    const inputs = Array.from({ length: 8 }, (_, i) => `plain ${i}`);
    const replies = await Promise.all(inputs.map((input) => call(`${gw.url}/v1/embeddings`, { body: { model: "plain-embed", input } })));
    for (let i = 0; i < inputs.length; i++) {
      await assertOwnVectors(replies[i]!, inputs[i]!);
      assert.equal(replies[i]!.headers["x-switchyard-batch"], undefined);
    }
    assert.equal(plain.seen.length, 8);
    for (const s of plain.seen) assert.equal(s.input.length, 1);
    assert.equal(batched.seen.length, 0);
    const routes = (await gw.status()).admission.batching.routes;
    assert.deepEqual(Object.keys(routes), ["emb"]);

    assert.equal(none.gateway.pipeline.step("batching"), undefined);
    assert.equal((await none.status()).admission.batching, undefined);

    // A change that gives a route batching installs the step: the next requests are batched.
    const changed = await none.server.control!.change("batch emb", (d) => {
      d.routes[0]!.batching = { window_ms: 1000, max_size: 2 };
    });
    assert.equal(changed.ok, true);
    assert.equal(none.gateway.pipeline.step("batching")?.name, "batching");
    plain.seen.length = 0;
    const pair = await Promise.all(["after change 1", "after change 2"].map((input) => embed(none, { input })));
    for (const [i, r] of pair.entries()) await assertOwnVectors(r, `after change ${i + 1}`);
    assert.deepEqual(
      plain.seen.map((s) => s.input),
      [["after change 1", "after change 2"]],
    );
  } finally {
    await none.close();
    await gw.close();
    await batched.close();
    await plain.close();
  }
});
