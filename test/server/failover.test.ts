import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "undici";
import { chatBody } from "../helpers/harness.js";
import { simRoute } from "../helpers/sim-route.js";

const f = await simRoute({
  sims: ["a", "b", "c"].map((name) => ({ dialect: "openai" as const, name })),
  route: { retry: { attempts: 3 } },
  target: (_, i) => ({ id: `t${i}`, key: `sk-failover-000${i}` }),
});
const { sims, gw } = f;
after(() => f.close());

test("with one of three targets refusing connections, 300 requests all succeed", async () => {
  await sims[1]!.set({ down: true });
  const client = new Pool(gw.url, { connections: 16 });
  const body = JSON.stringify(chatBody("demo"));
  const statuses: number[] = [];
  const served = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < 300) {
        next++;
        const res = await client.request({
          path: "/v1/chat/completions",
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const json = (await res.body.json()) as { choices?: unknown[] };
        statuses.push(res.statusCode);
        assert.ok(Array.isArray(json.choices), "a chat completion came back");
        const t = String(res.headers["x-switchyard-target"]);
        served.set(t, (served.get(t) ?? 0) + 1);
      }
    }),
  );
  await client.close();
  assert.equal(statuses.length, 300);
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.equal(served.get("t1"), undefined, "the down target served nothing");
  assert.ok((served.get("t0") ?? 0) > 100 && (served.get("t2") ?? 0) > 100, `both live targets served: ${JSON.stringify([...served])}`);
  const status = await gw.status();
  const down = status.routes[0].targets.find((t: { id: string }) => t.id === "t1");
  assert.ok(down.stats.by_outcome.connection_failure > 0, "the refused attempts were classified as connection failures");
  assert.equal(sims[1]!.stats().requests, 0);
});
