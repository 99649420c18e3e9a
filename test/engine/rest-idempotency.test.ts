/**
 * Retrying a REST call that is not idempotent could act twice (two orders placed): the attempt
 * loop retries a POST only when the upstream surely did not act on it (connection refused, 429,
 * 503), never after a 500 or a reset connection. Idempotent methods retry on any target failure.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MockAgent } from "undici";
import {
  gatewayError,
  gatewayWith,
  JSON_HEADERS,
  kinds,
  type MockInterceptor,
  origin,
  restRoute,
  restTarget,
  socketError,
  unused,
} from "./fake-upstreams.js";

const PATH = "/v1/orders";

function ordersAt(agent: MockAgent, id: string, method: string): MockInterceptor {
  return agent.get(origin(id)).intercept({ path: `/api${PATH}`, method });
}

type Failure = (i: MockInterceptor) => void;
const status =
  (s: number): Failure =>
  (i) =>
    i.reply(s, { error: "nope" }, { headers: JSON_HEADERS });
const socket =
  (code: string): Failure =>
  (i) =>
    i.replyWithError(socketError(code));

const cases: { method: string; failure: string; fail: Failure; retried: boolean }[] = [
  { method: "POST", failure: "500", fail: status(500), retried: false },
  { method: "POST", failure: "ECONNRESET", fail: socket("ECONNRESET"), retried: false },
  { method: "POST", failure: "ECONNREFUSED", fail: socket("ECONNREFUSED"), retried: true },
  { method: "POST", failure: "429", fail: status(429), retried: true },
  { method: "POST", failure: "503", fail: status(503), retried: true },
  { method: "GET", failure: "500", fail: status(500), retried: true },
  { method: "PUT", failure: "ECONNRESET", fail: socket("ECONNRESET"), retried: true },
];

for (const c of cases) {
  test(`a REST ${c.method} that got ${c.failure} is ${c.retried ? "retried on the next target" : "not retried (the upstream may have acted)"}`, async (t) => {
    const f = gatewayWith({ routes: [restRoute([restTarget("r1"), restTarget("r2")])] });
    t.after(() => f.close());
    c.fail(ordersAt(f.agent, "r1", c.method));
    ordersAt(f.agent, "r2", c.method).reply(200, { id: 7 }, { headers: JSON_HEADERS });
    const req = f.gateway.request("orders", { method: c.method, path: PATH, body: c.method === "GET" ? undefined : { qty: 1 } });

    if (c.retried) {
      const res = await req;
      assert.equal(res.status, 200);
      assert.equal(res.target, "r2");
      assert.deepEqual(res.body, { id: 7 });
    } else {
      const err = await gatewayError(req);
      assert.equal(err.code, "upstream_error");
      assert.match(err.message, /target r1/);
      assert.deepEqual(
        kinds(f).map(([id]) => id),
        ["r1"],
      );
      assert.deepEqual(unused(f.agent), ["http://r2.test"], "r2 never saw the order");
    }
  });
}
