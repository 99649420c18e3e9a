import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { chatBody } from "../helpers/harness.js";
import { simRoute } from "../helpers/sim-route.js";
import { sseData } from "../helpers/sse.js";

const f = await simRoute({
  sims: [{ dialect: "openai", name: "paced", stream_chunks: 50, chunk_interval_ms: 20 }],
  target: [{ id: "paced", key: "sk-stream-0001" }],
});
const {
  gw,
  sims: [sim],
} = f;
after(() => f.close());

async function collect(url: string, onFirst?: () => void) {
  const res = await request(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(chatBody("demo", { stream: true })),
  });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers["content-type"]), /text\/event-stream/);
  const events: string[] = [];
  for await (const data of sseData(res.body)) {
    if (events.length === 0) onFirst?.();
    events.push(data);
  }
  return { events, headers: res.headers };
}

test("SSE chunks reach the client while the upstream is still streaming, in order, ending with [DONE]", async () => {
  let completedAtFirstChunk = -1;
  let inFlightAtFirstChunk = -1;
  const t0 = performance.now();
  let firstAt = 0;
  const { events, headers } = await collect(gw.url, () => {
    firstAt = performance.now() - t0;
    const s = sim.stats();
    completedAtFirstChunk = s.completed;
    inFlightAtFirstChunk = s.in_flight;
  });
  const total = performance.now() - t0;
  // When the first chunk arrived the upstream had not finished its stream.
  assert.equal(completedAtFirstChunk, 0);
  assert.equal(inFlightAtFirstChunk, 1);
  assert.ok(firstAt < total / 2, `first chunk at ${firstAt.toFixed(0)} ms of a ${total.toFixed(0)} ms stream`);
  assert.equal(headers["x-switchyard-target"], "paced");

  // Everything arrived, in order, as the upstream sent it.
  assert.equal(events.at(-1), "[DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  const content = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").filter(Boolean);
  assert.equal(content.length, 50);
  // The same request straight to the simulator gives the same content sequence.
  const res = await request(`${sim.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-stream-0001" },
    body: JSON.stringify(chatBody("demo", { stream: true })),
  });
  const directContent: string[] = [];
  for await (const d of sseData(res.body))
    if (d !== "[DONE]") {
      const c = JSON.parse(d).choices?.[0]?.delta?.content;
      if (c) directContent.push(c);
    }
  assert.deepEqual(content, directContent);
});
