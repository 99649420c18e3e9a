import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { GatewayEvents, type RequestRecord } from "../../src/core/events.js";
import { GatewayError } from "../../src/errors.js";
import { Database } from "../../src/state/database.js";
import { UsageLedger, type UsageConfig } from "../../src/telemetry/usage-ledger.js";
import { at } from "../helpers/at.js";
import { eventually, sleep } from "../helpers/wait.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.parse("2024-05-01T10:15:00Z");

/** A served request as the pipeline publishes it; only what the ledger reads varies. */
function served(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    requestId: "req-1",
    answeredBy: "",
    cache: "",
    method: "POST",
    path: "/v1/chat/completions",
    surface: "openai",
    route: "chat",
    clientKey: "",
    target: "a",
    status: 200,
    attempts: 1,
    durationMs: 12,
    errorCode: null,
    stream: false,
    model: "demo",
    upstreamModel: "",
    usage: null,
    costUsd: 0,
    ttfbMs: 5,
    queueMs: 0,
    overheadMs: 1,
    tries: [],
    ...over,
  };
}

const usage = (input: number, output: number, cached?: number, written?: number) => ({
  prompt_tokens: input,
  completion_tokens: output,
  total_tokens: input + output,
  ...(cached === undefined
    ? {}
    : { prompt_tokens_details: { cached_tokens: cached, ...(written === undefined ? {} : { cache_creation_tokens: written }) } }),
});

/** A ledger on a fresh in-memory store with a clock the test moves; errors gathered, not thrown. */
function setup(config: Partial<UsageConfig> = {}, db: Database = Database.open(":memory:")) {
  const clock = { now: T0 };
  const errors: Error[] = [];
  const ledger = new UsageLedger(
    db,
    { enabled: true, retention_days: 90, flush_ms: 60_000, ...config },
    { onError: (e) => errors.push(e), now: () => clock.now },
  );
  const events = new GatewayEvents();
  ledger.attach(events);
  const stored = () => (db.handle.prepare("SELECT COUNT(*) AS n FROM usage_hourly").get() as { n: number }).n;
  return { db, ledger, events, clock, errors, stored };
}

test("aggregates per route × target × model in memory, with exact sums and the cost to the cent", () => {
  const { db, ledger, events, errors, stored } = setup();
  try {
    for (let i = 0; i < 1000; i++) events.request(served({ usage: usage(100, 20, 30, 5), costUsd: 0.001234 }));
    // The model sent upstream wins over the client's; an error code or a 5xx is an error.
    events.request(served({ model: "demo", upstreamModel: "gpt-4o", status: 429, errorCode: "rate_limited", costUsd: 0.1 }));
    events.request(served({ upstreamModel: "gpt-4o", status: 502, usage: usage(7, 0), costUsd: 0.000001 }));
    // No target answered: target "".
    events.request(served({ target: null, status: 503, errorCode: "all_targets_failed", upstreamModel: "" }));
    events.request(served({ route: "other-route", target: "b", model: "m2", usage: usage(1, 1) }));
    // No route: not counted at all.
    events.request(served({ route: null, target: null, status: 404, errorCode: "route_not_found" }));
    assert.equal(stored(), 0, "nothing is written on the request path");

    const answer = ledger.query();
    assert.deepEqual(answer.group_by, ["route", "target", "model"]);
    assert.deepEqual(answer.rows, [
      {
        route: "chat",
        target: "",
        model: "demo",
        requests: 1,
        errors: 1,
        input_tokens: 0,
        output_tokens: 0,
        cached_input_tokens: 0,

        cache_write_tokens: 0,
        cost_usd: 0,
      },
      {
        route: "chat",
        target: "a",
        model: "demo",
        requests: 1000,
        errors: 0,
        input_tokens: 100_000,
        output_tokens: 20_000,
        cached_input_tokens: 30_000,

        cache_write_tokens: 5_000,
        cost_usd: 1.234,
      },
      {
        route: "chat",
        target: "a",
        model: "gpt-4o",
        requests: 2,
        errors: 2,
        input_tokens: 7,
        output_tokens: 0,
        cached_input_tokens: 0,

        cache_write_tokens: 0,
        cost_usd: 0.100001,
      },
      {
        route: "other-route",
        target: "b",
        model: "m2",
        requests: 1,
        errors: 0,
        input_tokens: 1,
        output_tokens: 1,
        cached_input_tokens: 0,

        cache_write_tokens: 0,
        cost_usd: 0,
      },
    ]);
    assert.deepEqual(answer.totals, {
      requests: 1004,
      errors: 3,
      input_tokens: 100_008,
      output_tokens: 20_001,
      cached_input_tokens: 30_000,

      cache_write_tokens: 5_000,
      cost_usd: 1.334001,
    });
    assert.equal(stored(), 4, "the query flushed the rows in memory first");
    assert.deepEqual(errors, []);
  } finally {
    ledger.close();
    db.close();
  }
});

test("each flush is one transaction: a write failing midway leaves nothing, the rows are kept and written once later", () => {
  const { db, ledger, events, errors, stored } = setup();
  try {
    events.request(served({ model: "m1", costUsd: 0.5 }));
    events.request(served({ model: "m2", costUsd: 0.25 }));
    events.request(served({ model: "poison", costUsd: 0.125 }));
    events.request(served({ model: "m3", costUsd: 0.0625 }));
    db.handle.exec(
      `CREATE TRIGGER refuse BEFORE INSERT ON usage_hourly WHEN NEW.model = 'poison' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    );

    assert.equal(ledger.flush(), false);
    assert.equal(stored(), 0, "rows written before the failing one were rolled back with it");
    assert.equal(errors.length, 1);
    assert.match(at(errors, 0).message, /usage ledger: writing 4 rows failed; kept for the next flush: refused/);

    // More requests join the kept rows; the next flush writes everything, each request once.
    events.request(served({ model: "m1", costUsd: 0.5 }));
    db.handle.exec("DROP TRIGGER refuse");
    assert.equal(ledger.flush(), true);
    const rows = db.handle.prepare("SELECT model, requests, cost_nanos FROM usage_hourly ORDER BY model").all();
    assert.deepEqual(rows, [
      { model: "m1", requests: 2, cost_nanos: 1_000_000_000 },
      { model: "m2", requests: 1, cost_nanos: 250_000_000 },
      { model: "m3", requests: 1, cost_nanos: 62_500_000 },
      { model: "poison", requests: 1, cost_nanos: 125_000_000 },
    ]);

    // A later flush adds to the stored rows (UPSERT), it does not replace them.
    events.request(served({ model: "m1", costUsd: 0.5 }));
    assert.equal(ledger.flush(), true);
    assert.deepEqual(db.handle.prepare("SELECT requests, cost_nanos FROM usage_hourly WHERE model = 'm1'").get(), {
      requests: 3,
      cost_nanos: 1_500_000_000,
    });
    assert.equal(ledger.flush(), true, "nothing to write is a success");
    assert.equal(errors.length, 1);
  } finally {
    ledger.close();
    db.close();
  }
});

test("group_by: hour and day buckets (UTC), client_key, any order, duplicates and spaces ignored", () => {
  const { db, ledger, events, clock } = setup();
  try {
    const serveAt = (iso: string, over: Partial<RequestRecord> = {}) => {
      clock.now = Date.parse(iso);
      events.request(served({ costUsd: 0.01, ...over }));
    };
    serveAt("2024-05-01T10:00:00.000Z");
    serveAt("2024-05-01T10:59:59.999Z", { model: "big" });
    serveAt("2024-05-01T11:00:00.000Z");
    serveAt("2024-05-01T23:59:59.999Z");
    serveAt("2024-05-02T00:00:00.000Z", { route: "embed", target: "b" });
    const range = { from: "2024-05-01", to: "2024-05-03" };

    const byHour = ledger.query({ ...range, group_by: "hour" });
    assert.deepEqual(byHour.group_by, ["hour"]);
    assert.deepEqual(
      byHour.rows.map((r) => [r.hour, r.requests, r.cost_usd]),
      [
        ["2024-05-01T10:00:00.000Z", 2, 0.02],
        ["2024-05-01T11:00:00.000Z", 1, 0.01],
        ["2024-05-01T23:00:00.000Z", 1, 0.01],
        ["2024-05-02T00:00:00.000Z", 1, 0.01],
      ],
    );
    assert.deepEqual(Object.keys(at(byHour.rows, 0)).slice(0, 2), ["hour", "requests"], "only the dimensions asked for");

    const byDay = ledger.query({ ...range, group_by: "day" });
    assert.deepEqual(
      byDay.rows.map((r) => [r.day, r.requests]),
      [
        ["2024-05-01", 4],
        ["2024-05-02", 1],
      ],
    );

    const byDayRoute = ledger.query({ ...range, group_by: " day , route,day" });
    assert.deepEqual(byDayRoute.group_by, ["day", "route"]);
    assert.deepEqual(
      byDayRoute.rows.map((r) => [r.day, r.route, r.requests]),
      [
        ["2024-05-01", "chat", 4],
        ["2024-05-02", "embed", 1],
      ],
    );

    const byModelTarget = ledger.query({ ...range, group_by: ["model", "target"] });
    assert.deepEqual(
      byModelTarget.rows.map((r) => [r.model, r.target, r.requests]),
      [
        ["big", "a", 1],
        ["demo", "a", 3],
        ["demo", "b", 1],
      ],
    );

    const byClient = ledger.query({ ...range, group_by: "client_key" });
    assert.deepEqual(byClient.rows, [
      {
        client_key: "",
        requests: 5,
        errors: 0,
        input_tokens: 0,
        output_tokens: 0,
        cached_input_tokens: 0,
        cache_write_tokens: 0,
        cost_usd: 0.05,
      },
    ]);
    assert.deepEqual(byClient.totals, byDay.totals, "totals do not depend on the grouping");
  } finally {
    ledger.close();
    db.close();
  }
});

test("from/to: ISO dates and times (UTC without a zone) or epoch ms, widened to whole hours; default the last 24 h", () => {
  const { db, ledger, events, clock } = setup();
  try {
    for (const iso of [
      "2024-04-29T12:00:00Z",
      "2024-04-30T09:30:00Z",
      "2024-04-30T10:30:00Z",
      "2024-05-01T10:00:00Z",
      "2024-05-01T10:15:00Z",
    ]) {
      clock.now = Date.parse(iso);
      events.request(served());
    }
    clock.now = Date.parse("2024-05-01T10:15:00Z");
    const total = (q: Parameters<UsageLedger["query"]>[0]) => ledger.query({ ...q, group_by: "route" }).totals.requests;

    // Default: the 24 h before now, by whole hours: 2024-04-30T10:00 to 2024-05-01T11:00.
    const last24 = ledger.query();
    assert.equal(last24.from, "2024-04-30T10:00:00.000Z");
    assert.equal(last24.to, "2024-05-01T11:00:00.000Z");
    assert.equal(last24.totals.requests, 3);

    assert.equal(total({ from: "2024-04-29", to: "2024-05-02" }), 5);
    assert.equal(total({ from: "2024-04-30", to: "2024-05-01" }), 2);
    assert.equal(
      total({ from: "2024-04-30T09:45", to: "2024-04-30T10:00" }),
      1,
      "a time without a zone is UTC; from rounds down to its hour",
    );
    assert.equal(total({ from: "2024-04-30T11:45:00+02:00", to: "2024-04-30T10:00:00.000Z" }), 1, "an offset is honoured");
    assert.equal(total({ from: "2024-04-30T11:45:00+02:00", to: "2024-04-30T10:30:00.000Z" }), 2, "to rounds up to its hour");
    assert.equal(total({ from: Date.parse("2024-05-01T10:00:00Z"), to: Date.parse("2024-05-01T10:00:00Z") }), 0, "an empty range");
    assert.equal(total({ from: String(Date.parse("2024-05-01T10:00:00Z")), to: String(Date.parse("2024-05-01T10:00:01Z")) }), 2);
    assert.equal(total({ from: "2024-04-29T12:00:00Z" }), 5, "to defaults to now");
    assert.equal(total({ from: "", to: "" }), 3, "empty parameters take their defaults");
    const answer = ledger.query({ from: "2024-04-30T09:45", to: "2024-05-01T10:00:01Z" });
    assert.equal(answer.from, "2024-04-30T09:00:00.000Z");
    assert.equal(answer.to, "2024-05-01T11:00:00.000Z");
  } finally {
    ledger.close();
    db.close();
  }
});

test("bad query parameters are GatewayError invalid_request naming the parameter and the value", () => {
  const { db, ledger } = setup();
  const rejects = (q: Parameters<UsageLedger["query"]>[0], param: string, message: RegExp) =>
    assert.throws(
      () => ledger.query(q),
      (err: unknown) => {
        assert.ok(err instanceof GatewayError);
        assert.equal(err.code, "invalid_request");
        assert.equal(err.status, 400);
        assert.equal(err.param, param);
        assert.match(err.message, message);
        return true;
      },
    );
  try {
    rejects({ group_by: "route,tenant" }, "group_by", /group_by: "tenant" is not one of route, target, model, hour, day, client_key/);
    rejects({ group_by: "route," }, "group_by", /group_by: "" is not one of/);
    rejects({ from: "yesterday" }, "from", /from: "yesterday" is not an ISO date\/time or epoch milliseconds/);
    rejects({ to: "2024-13-45" }, "to", /to: "2024-13-45" is not/);
    rejects({ to: "1e12" }, "to", /to: "1e12" is not/);
    rejects({ from: -5 }, "from", /from: -5 is not/);
    rejects({ from: Number.NaN }, "from", /from: null is not/);
    rejects({ from: "2024-05-02", to: "2024-05-01" }, "from", /from \(2024-05-02T00:00:00.000Z\) is after to \(2024-05-01T00:00:00.000Z\)/);
  } finally {
    ledger.close();
    db.close();
  }
});

test("a file store keeps the usage across closing and reopening", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-usage-"));
  const path = join(dir, "data", "switchyard.db");
  try {
    const first = setup({}, Database.open(path));
    first.events.request(served({ usage: usage(10, 5, 2), costUsd: 0.015 }));
    first.events.request(served({ status: 500, errorCode: "upstream_error", costUsd: 0.005 }));
    first.ledger.close();
    assert.equal(first.db.isOpen, true, "closing the ledger leaves the store to its owner");
    first.db.close();

    const second = setup({}, Database.open(path));
    second.events.request(served({ usage: usage(1, 1), costUsd: 0.01 }));
    assert.deepEqual(second.ledger.query().rows, [
      {
        route: "chat",
        target: "a",
        model: "demo",
        requests: 3,
        errors: 1,
        input_tokens: 11,
        output_tokens: 6,
        cached_input_tokens: 2,

        cache_write_tokens: 0,
        cost_usd: 0.03,
      },
    ]);
    second.ledger.close();
    second.db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("retention: rows older than retention_days are deleted at start and then hourly", async () => {
  const db = Database.open(":memory:");
  const now = T0;
  const old = setup({ retention_days: 30 }, db);
  try {
    for (const daysAgo of [40, 31, 29, 1]) {
      old.clock.now = now - daysAgo * DAY;
      old.events.request(served({ model: `${daysAgo}d` }));
    }
    old.ledger.flush();
    assert.equal(old.stored(), 4, "written while they were young");

    // At start: a ledger made now deletes what is past 30 days.
    const later = new UsageLedger(db, { enabled: true, retention_days: 30, flush_ms: 60_000 }, { onError: assert.fail, now: () => now });
    later.close();
    const models = () =>
      (db.handle.prepare("SELECT model FROM usage_hourly ORDER BY hour").all() as { model: string }[]).map((r) => r.model);
    assert.deepEqual(models(), ["29d", "1d"]);

    // Hourly: a running ledger keeping 1 day deletes the 29-day row at start, then the 1-day row
    // on its timer once the clock has moved past the hour it last pruned in.
    const running = setup({ retention_days: 1, flush_ms: 5 }, db);
    assert.deepEqual(models(), ["1d"]);
    await sleep(50); // ticks, but the hour is not up
    assert.deepEqual(models(), ["1d"]);
    running.clock.now = now + HOUR;
    await eventually(() => models().length === 0, 3000, "the hourly prune");
    running.ledger.close();
  } finally {
    old.ledger.close();
    db.close();
  }
});

test("a write failure never throws into a request: the timer's flush reports it and keeps the rows", async () => {
  const { db, ledger, events, errors } = setup({ flush_ms: 5 });
  db.close(); // the store goes away under the ledger
  assert.doesNotThrow(() => events.request(served()));
  await eventually(() => errors.length >= 2, 3000, "failed flushes reported");
  assert.match(at(errors, 0).message, /usage ledger: writing 1 row failed; kept for the next flush: The database connection is not open/);
  assert.doesNotThrow(() => events.request(served()));
  assert.equal(ledger.flush(), false);
  assert.doesNotThrow(() => ledger.close());
});

test("a locked store: the flush fails fast, the rows wait, and are written once the lock is gone", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-usage-"));
  const path = join(dir, "locked.db");
  const { db, ledger, events, errors, stored } = setup({}, Database.open(path));
  const other = new BetterSqlite3(path);
  try {
    db.handle.pragma("busy_timeout = 0");
    other.exec("BEGIN EXCLUSIVE");
    events.request(served({ costUsd: 0.02 }));
    assert.equal(ledger.flush(), false);
    assert.match(at(errors, 0).message, /database is locked/);
    other.exec("COMMIT");
    events.request(served({ costUsd: 0.03 }));
    assert.equal(ledger.flush(), true);
    assert.equal(stored(), 1);
    assert.equal(ledger.query().totals.cost_usd, 0.05);
    assert.equal(ledger.query().totals.requests, 2);
  } finally {
    other.close();
    ledger.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("model names are bounded: cut to 200 characters, and past 1,000 (route, model) pairs an hour new ones count as other", () => {
  const { db, ledger, events, clock } = setup();
  try {
    events.request(served({ model: "x".repeat(5000) }));
    for (let i = 0; i < 1100; i++) events.request(served({ model: `m-${i}` }));
    events.request(served({ model: "m-5" })); // already taken this hour: keeps its name
    const rows = ledger.query({ group_by: "model" }).rows;
    assert.equal(rows.length, 1001);
    assert.ok(rows.some((r) => r.model === "x".repeat(200)));
    assert.equal(rows.find((r) => r.model === "other")?.requests, 101);
    assert.equal(rows.find((r) => r.model === "m-5")?.requests, 2);

    clock.now += HOUR; // a new hour takes new names again
    events.request(served({ model: "m-1099" }));
    assert.equal(ledger.query({ group_by: "hour,model", from: clock.now }).rows[0]?.model, "m-1099");
  } finally {
    ledger.close();
    db.close();
  }
});

test("rows kept while writes fail are bounded: past the bound requests are dropped and the drop reported", () => {
  const { db, ledger, events, errors } = setup();
  db.close();
  // 60 targets × 1,000 models: 60,000 distinct rows in one hour, more than are held.
  for (let t = 0; t < 60; t++) for (let m = 0; m < 1000; m++) events.request(served({ target: `t${t}`, model: `m${m}` }));
  assert.equal(ledger.flush(), false);
  assert.match(at(errors, 0).message, /usage ledger: 10000 requests not counted: 50000 rows already waiting to be written/);
  assert.match(at(errors, 1).message, /writing 50000 rows failed/);
  ledger.close();
});
