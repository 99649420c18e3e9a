import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/state/database.js";
import { type TargetTotals, type Totals, TotalsSnapshot } from "../../src/state/totals-snapshot.js";

const t0: TargetTotals = {
  route: "chat",
  target: "t0",
  baseUrl: "http://127.0.0.1:9001",
  requests: 12,
  successes: 10,
  failures: 2,
  byOutcome: { ok: 10, server_error: 2 },
  latencyEwmaMs: 12.5,
  lastLatencyMs: 9.25,
  lastUsedAt: 1_700_000_000_000,
  lastOutcome: "ok",
  lastFailureAt: 1_699_999_999_000,
  lastFailureDetail: "500 from upstream",
};
const totals: Totals = { requests: 13, errors: 1, routes: [{ route: "chat", requests: 13 }], targets: [t0] };

test("totals: saved, then loaded from the reopened file as they were; nothing saved reads as zeros", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-totals-"));
  const path = join(dir, "state.db");
  try {
    const db = Database.open(path);
    const snap = new TotalsSnapshot(db);
    assert.deepEqual(snap.load(), { requests: 0, errors: 0, routes: [], targets: [] });
    assert.equal(snap.save(totals, 5), true);
    db.close();
    const again = Database.open(path);
    assert.deepEqual(new TotalsSnapshot(again).load(), totals);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("totals: a save replaces the whole snapshot (a removed target's row goes); an unchanged one is not written again", () => {
  const db = Database.open(":memory:");
  try {
    const snap = new TotalsSnapshot(db);
    snap.save(totals, 1);
    const t1 = { ...t0, target: "t1", requests: 1, successes: 1, failures: 0, byOutcome: { ok: 1 } };
    assert.equal(snap.save({ requests: 14, errors: 1, routes: [{ route: "chat", requests: 14 }], targets: [t1] }, 2), true);
    assert.deepEqual(
      snap.load().targets.map((t) => t.target),
      ["t1"],
    );
    assert.equal(snap.save({ requests: 14, errors: 1, routes: [{ route: "chat", requests: 14 }], targets: [t1] }, 3), false);
    assert.deepEqual(db.handle.prepare("SELECT saved_at FROM state_gateway_totals").get(), { saved_at: 2 });
  } finally {
    db.close();
  }
});

test("totals: an unreadable by_outcome reads as no outcome counts, the rest of the row as saved", () => {
  const db = Database.open(":memory:");
  try {
    const snap = new TotalsSnapshot(db);
    snap.save(totals, 1);
    db.handle.exec("UPDATE state_target_totals SET by_outcome = '{broken'");
    const [t] = new TotalsSnapshot(db).load().targets;
    assert.deepEqual(t?.byOutcome, {});
    assert.equal(t?.requests, 12);
  } finally {
    db.close();
  }
});
